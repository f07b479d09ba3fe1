"""bootstrap/: the GitHub OIDC provider, the CI roles and the state backend, under the preview's mocks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tools.offline.records import parse_json_input, stack_records

ROOT = Path(__file__).resolve().parents[1]
BOOTSTRAP = ROOT / "bootstrap"
ACCOUNT = "123456789012"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
REPO = "example-org/sagemaker-mlops"  # bootstrap/Pulumi.github.yaml
READ_ONLY_ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def records(*overrides: str):
    return stack_records("github", *overrides, program_dir=BOOTSTRAP)


def role(recs, name: str) -> dict:
    return recs.one("aws:iam/role:Role", f"github-{name}-role")


def inline_policy(recs, name: str) -> dict:
    return parse_json_input(recs.one("aws:iam/rolePolicy:RolePolicy", f"github-{name}-policy")["inputs"]["policy"])


def trust(recs, name: str) -> dict:
    return parse_json_input(role(recs, name)["inputs"]["assumeRolePolicy"])


def expected_trust(provider_arn: str, subjects: list[str]) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "GitHubActionsOfThisRepository",
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                        "token.actions.githubusercontent.com:sub": subjects,
                    }
                },
            }
        ],
    }


def test_the_oidc_provider_is_githubs_issuer_for_sts():
    provider = records().one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider["inputs"]["url"] == "https://token.actions.githubusercontent.com"
    assert provider["inputs"]["clientIdLists"] == ["sts.amazonaws.com"]
    assert provider["state"]["arn"] == PROVIDER_ARN


def test_deploy_role_trusts_the_main_branch_and_the_production_environment_exactly():
    assert trust(records(), "deploy") == expected_trust(
        PROVIDER_ARN, [f"repo:{REPO}:ref:refs/heads/main", f"repo:{REPO}:environment:production"]
    )


def test_preview_role_trusts_pull_requests_and_the_promotion_environment_exactly():
    assert trust(records(), "preview") == expected_trust(
        PROVIDER_ARN, [f"repo:{REPO}:environment:promotion", f"repo:{REPO}:pull_request"]
    )


def test_subjects_follow_the_configured_repository_branch_and_environments():
    recs = records("githubRepository=Acme/Churn.Models", "deployBranch=release", "productionEnvironment=prod-approval")
    assert trust(recs, "deploy")["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == [
        "repo:Acme/Churn.Models:ref:refs/heads/release",
        "repo:Acme/Churn.Models:environment:prod-approval",
    ]


def test_an_existing_provider_is_reused_instead_of_created():
    existing = "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com"
    recs = records(f"existingOidcProviderArn={existing}")
    assert recs.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    for name in ("preview", "deploy"):
        assert trust(recs, name)["Statement"][0]["Principal"] == {"Federated": existing}
    assert recs.outputs["oidcProviderArn"] == existing


def test_preview_role_is_read_only():
    recs = records()
    preview = role(recs, "preview")
    attachments = recs.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert [a["inputs"]["policyArn"] for a in attachments] == [READ_ONLY_ARN]
    assert attachments[0]["inputs"]["role"] == preview["inputs"]["name"]
    allowed = {a for s in inline_policy(recs, "preview")["Statement"] if s["Effect"] == "Allow" for a in s["Action"]}
    assert allowed == {"s3:ListBucket", "s3:GetBucketLocation", "s3:GetObject", "kms:Decrypt", "kms:DescribeKey"}


def test_preview_role_reads_the_state_but_no_other_objects():
    recs = records()
    bucket_arn = recs.one("aws:s3/bucket:Bucket")["state"]["arn"]
    statements = {s["Sid"]: s for s in inline_policy(recs, "preview")["Statement"]}
    assert statements["ReadState"]["Resource"] == [f"{bucket_arn}/*"]
    deny = statements["NoObjectReadsOutsideTheState"]
    assert deny["Effect"] == "Deny" and deny["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert deny["NotResource"] == [f"{bucket_arn}/*"] and "Resource" not in deny
    key_arn = recs.one("aws:kms/key:Key")["state"]["arn"]
    assert statements["DecryptStateAndSecrets"]["Resource"] == [key_arn]


def test_deploy_role_is_scoped_by_service_region_and_name_prefix():
    recs = records()
    statements = {s["Sid"]: s for s in inline_policy(recs, "deploy")["Statement"]}
    every_action = [a for s in statements.values() for a in s["Action"]]
    assert "*" not in every_action and "iam:*" not in every_action
    assert not [a for a in every_action if a.endswith("FullAccess")]
    regional = statements["ProgramServicesInTheStackRegion"]
    assert regional["Condition"] == {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}
    assert not [a for a in regional["Action"] if a.startswith(("iam:", "sts:", "organizations:"))]
    assert {"sagemaker:*", "s3:*", "kms:*", "lambda:*", "codedeploy:*"} <= set(regional["Action"])
    iam = statements["ProgramRolesAndPoliciesOnly"]
    assert iam["Resource"] == [f"arn:aws:iam::{ACCOUNT}:role/mlops-*", f"arn:aws:iam::{ACCOUNT}:policy/mlops-*"]
    assert "iam:PassRole" in iam["Action"] and "iam:CreateUser" not in iam["Action"]
    linked = statements["ServiceLinkedRolesOfProgramServices"]
    assert linked["Action"] == ["iam:CreateServiceLinkedRole"]
    assert "sagemaker.application-autoscaling.amazonaws.com" in linked["Condition"]["StringEquals"]["iam:AWSServiceName"]
    assert role(recs, "deploy")["inputs"]["maxSessionDuration"] == 7200


@pytest.mark.parametrize("stack, overrides", [("dev", ()), ("prod", ("monitoring.schedule=off",))])
def test_every_iam_role_the_program_declares_is_within_the_deploy_roles_reach(stack, overrides):
    program = stack_records(stack, *overrides)
    names = [r["inputs"].get("name") for r in program.of_type("aws:iam/role:Role") + program.of_type("aws:iam/policy:Policy")]
    assert names and all(name and name.startswith("mlops-") for name in names), names
    statements = {s["Sid"]: s for s in inline_policy(records(), "deploy")["Statement"]}
    assert statements["ProgramRolesAndPoliciesOnly"]["Resource"][0].endswith(":role/mlops-*")
    region = program.data["config"]["aws:region"]
    assert statements["ReadAwsPublicParameters"]["Resource"] == [f"arn:aws:ssm:{region}::parameter/aws/service/*"]


def test_deploy_role_writes_state_and_locks():
    recs = records()
    bucket_arn = recs.one("aws:s3/bucket:Bucket")["state"]["arn"]
    statements = {s["Sid"]: s for s in inline_policy(recs, "deploy")["Statement"]}
    assert statements["ReadWriteStateAndLocks"]["Action"] == ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    assert statements["ReadWriteStateAndLocks"]["Resource"] == [f"{bucket_arn}/*"]
    assert "kms:GenerateDataKey" in statements["EncryptStateAndSecrets"]["Action"]


def test_state_bucket_is_a_protected_secure_bucket_encrypted_with_the_state_key():
    recs = records()
    backend = recs.one("sagemaker-mlops:bootstrap:StateBackend")
    assert backend["options"]["protect"] is True
    key = recs.one("aws:kms/key:Key", "state-key")
    assert key["inputs"]["enableKeyRotation"] is True and key["options"]["protect"] is True
    bucket = recs.one("sagemaker-mlops:storage:SecureBucket", "state-bucket")
    assert bucket["parent"] == backend["urn"]
    children = {r["type"]: r for r in recs.children_of(bucket["urn"])}
    assert all(child["options"]["protect"] is True for child in children.values())
    encryption = children["aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"]
    default = encryption["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]
    assert default == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key["state"]["arn"]}
    assert children["aws:s3/bucketVersioning:BucketVersioning"]["inputs"]["versioningConfiguration"]["status"] == "Enabled"
    assert children["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"]["inputs"]["restrictPublicBuckets"] is True
    tls = parse_json_input(children["aws:s3/bucketPolicy:BucketPolicy"]["inputs"]["policy"])["Statement"][0]
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} and tls["Effect"] == "Deny"


def test_outputs_are_the_repository_variables_the_workflows_read():
    recs = records()
    bucket = recs.one("aws:s3/bucket:Bucket")["state"]["bucket"]
    alias = recs.one("aws:kms/alias:Alias")["inputs"]["name"]
    assert recs.outputs["repositoryVariables"] == {
        "AWS_REGION": "us-east-1",
        "AWS_PREVIEW_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/sagemaker-mlops-github-preview",
        "AWS_DEPLOY_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/sagemaker-mlops-github-deploy",
        "PULUMI_BACKEND_URL": f"s3://{bucket}?region=us-east-1",
    }
    assert recs.outputs["secretsProvider"] == f"awskms://{alias}?region=us-east-1"
    workflows = "\n".join(p.read_text() for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    for variable in recs.outputs["repositoryVariables"]:
        assert f"vars.{variable}" in workflows, variable


def test_without_a_state_backend_no_bucket_is_made_and_no_object_is_readable():
    recs = records("stateBackend=false")
    assert recs.of_type("aws:s3/bucket:Bucket") == [] and recs.of_type("aws:kms/key:Key") == []
    statements = inline_policy(recs, "preview")["Statement"]
    assert statements == [
        {"Sid": "NoObjectReadsOutsideTheState", "Effect": "Deny", "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": ["*"]}
    ]
    assert "PULUMI_BACKEND_URL" not in recs.outputs["repositoryVariables"]
    assert not [s for s in inline_policy(recs, "deploy")["Statement"] if s.get("Sid", "").endswith("State")]


def run_bootstrap(*overrides: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tools.offline.program", "--stack", "github", "--program-dir", str(BOOTSTRAP), "--out", "/dev/null"]
    for override in overrides:
        command += ["--set", override]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_bad_configuration_is_refused_with_one_line_per_problem():
    done = run_bootstrap(
        "githubRepository=https://github.com/acme/repo",
        "promotionEnvironment=production",
        "stateBackend=maybe",
        "deployServices=[sagemaker, 'S3 Full']",
    )
    assert done.returncode == 2, done.stderr
    assert "invalid configuration for stack 'github' (4 problems)" in done.stderr
    assert "sagemaker-mlops-bootstrap:githubRepository = 'https://github.com/acme/repo': expected OWNER/REPO" in done.stderr
    assert "promotionEnvironment = 'production': must differ from productionEnvironment" in done.stderr
    assert "stateBackend = 'maybe': expected true or false" in done.stderr
    assert "deployServices" in done.stderr and "Traceback" not in done.stderr


def test_a_missing_repository_is_named():
    done = run_bootstrap("githubRepository=null")
    assert done.returncode == 2
    assert "sagemaker-mlops-bootstrap:githubRepository: required key is missing" in done.stderr


@pytest.mark.parametrize("subject_part", ["pull_request", "environment:promotion"])
def test_the_deploy_role_never_trusts_pull_requests_or_promotion(subject_part):
    subjects = trust(records(), "deploy")["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
    assert not [s for s in subjects if s.endswith(subject_part)]
    assert json.dumps(trust(records(), "deploy")).count("StringLike") == 0
