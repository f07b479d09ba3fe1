"""The real program, previewed offline with the real pack: the shipped stacks pass, the cost
estimate is printed and exported, and unsafe additions are blocked naming each guardrail."""

from __future__ import annotations

import json
import textwrap

import pytest
from policy_testkit import policy_config
from program_testkit import copy_program, preview

from tools.preview.cli import parse_cost_estimate

UNSAFE_RESOURCES = textwrap.dedent(
    """
    import json as _json

    _public = aws.s3.Bucket("unsafe-public-bucket", opts=with_provider)
    aws.s3.BucketPublicAccessBlock(
        "unsafe-public-bucket-access",
        bucket=_public.id,
        block_public_acls=False,
        block_public_policy=False,
        ignore_public_acls=False,
        restrict_public_buckets=False,
        opts=with_provider,
    )
    aws.iam.Policy(
        "unsafe-admin-policy",
        policy=_json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        opts=with_provider,
    )
    aws.iam.RolePolicyAttachment(
        "unsafe-admin-attachment", role="mlops-dev-predict", policy_arn="arn:aws:iam::aws:policy/AdministratorAccess", opts=with_provider
    )
    aws.lambda_.Permission("unsafe-public-invoke", action="lambda:InvokeFunction", function="mlops-dev-predict", principal="*", opts=with_provider)
    aws.cloudwatch.LogGroup("unsafe-log-group", opts=with_provider)
    aws.ecr.Repository("unsafe-repository", opts=with_provider)
    """
)
UNSAFE_POLICIES = {
    "s3-bucket-encryption": "aws:s3/bucket:Bucket 'unsafe-public-bucket' has no server-side encryption configuration",
    "s3-public-access-block": "aws:s3/bucket:Bucket 'unsafe-public-bucket' has a public access block without blockPublicAcls",
    "s3-tls-only": "aws:s3/bucket:Bucket 'unsafe-public-bucket' accepts requests over plain HTTP",
    "s3-versioning": "aws:s3/bucket:Bucket 'unsafe-public-bucket' is not versioned",
    "iam-no-wildcard-admin": "aws:iam/policy:Policy 'unsafe-admin-policy' grants administrator-like access",
    "iam-passrole-scoped": "aws:iam/policy:Policy 'unsafe-admin-policy' grants iam:PassRole too broadly",
    "iam-no-admin-managed-policies": "'unsafe-admin-attachment' attaches AWS-managed policies",
    "lambda-permission-restricted": "aws:lambda/permission:Permission 'unsafe-public-invoke' lets anyone (principal '*')",
    "log-group-retention": "aws:cloudwatch/logGroup:LogGroup 'unsafe-log-group' keeps its events forever",
    "log-group-encrypted": "aws:cloudwatch/logGroup:LogGroup 'unsafe-log-group' is not encrypted",
    "ecr-scan-on-push": "aws:ecr/repository:Repository 'unsafe-repository' does not scan images on push",
    "ecr-immutable-tags": "aws:ecr/repository:Repository 'unsafe-repository' has MUTABLE tags",
    "ecr-repository-encrypted": "aws:ecr/repository:Repository 'unsafe-repository' is not encrypted",
}


# dev's advisory findings: exactly the release and sign-in choices its config makes on purpose.
DEV_ADVISORY_FINDINGS = {
    ("codedeploy-lambda-gradual", "sagemaker-mlops:api:CanaryApi$aws:codedeploy/deploymentGroup:DeploymentGroup::api-deployment-group"),
    ("cognito-mfa", "sagemaker-mlops:dashboard:Dashboard$aws:cognito/userPool:UserPool::dashboard-users"),
}


@pytest.fixture(scope="module")
def shipped(shipped_previews):
    return shipped_previews


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_shipped_stack_has_no_mandatory_violation(shipped, stack):
    done, results = shipped
    summary = results[stack]["summary"]
    assert summary.get("ok") is True, done.stdout[-6000:] + done.stderr
    assert [v for v in results[stack]["violations"] if v["level"] == "mandatory"] == []
    assert summary["policies"] == len(results[stack]["policies"]) >= 47


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_cost_estimate_is_printed_exported_and_within_budget(shipped, stack):
    done, results = shipped
    estimate = results[stack]["summary"]["costEstimate"]
    total = estimate["monthlyUsd"]
    budget = policy_config(stack)["cost-budget"]["monthlyBudgetUsd"]
    assert f"Cost estimate ({stack}): ${total:,.2f}/month, budget ${budget:,.2f} (us-east-1 on-demand prices read " in done.stdout
    assert f"✅ cost-budget [{'mandatory' if stack == 'prod' else 'advisory'}]: ${total:,.2f}/month within ${budget:,.2f}" in done.stdout
    assert sum(i["monthlyUsd"] for i in estimate["items"]) == pytest.approx(total, abs=0.05)
    assert 0 < total <= budget == estimate["budgetUsd"]
    assert not [v for v in results[stack]["violations"] if v["policy"] == "cost-budget"]
    assert any(i["item"].startswith("NAT gateways") for i in estimate["items"])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_cost_estimate_is_an_advisory_finding_that_a_real_preview_prints(shipped, stack):
    # `pulumi preview --policy-pack` prints violations only: cost-estimate carries the same itemised
    # estimate there (and so into the PR comment), at advisory level, blocking nothing.
    done, results = shipped
    [finding] = [v for v in results[stack]["violations"] if v["policy"] == "cost-estimate"]
    assert (finding["level"], finding["urn"]) == ("advisory", "")
    reported = parse_cost_estimate(finding["message"])
    estimate = results[stack]["summary"]["costEstimate"]
    assert reported is not None and (reported["monthlyUsd"], reported["items"]) == (estimate["monthlyUsd"], estimate["items"])
    assert f"ℹ️  cost-estimate [advisory]: ${estimate['monthlyUsd']:,.2f}/month" in done.stdout


def test_dev_is_serverless_and_says_which_rules_it_is_exempt_from(shipped):
    done, results = shipped
    reasons = {n["policy"]: n["reason"] for n in results["dev"]["notApplicable"]}
    assert set(reasons) - {"cost-budget"} == {
        "sagemaker-kms-encryption",
        "sagemaker-data-capture",
        "sagemaker-endpoint-ha",
        "sagemaker-endpoint-canary",
        "sagemaker-instance-types",
    }
    assert all("SageMaker serverless inference supports no" in r for p, r in reasons.items() if p != "cost-budget")
    assert (
        "- n/a: aws:sagemaker/endpointConfiguration:EndpointConfiguration 'endpoint-config': SageMaker serverless inference supports no data capture"
        in done.stdout
    )
    # cost-estimate states the estimate for the CLI (tested above); the rest are dev's own choices.
    findings = [(v["policy"], v["level"], v["urn"]) for v in results["dev"]["violations"] if v["policy"] != "cost-estimate"]
    expected = [(policy, "advisory", f"urn:pulumi:dev::sagemaker-mlops::{urn}") for policy, urn in DEV_ADVISORY_FINDINGS]
    assert sorted(findings) == sorted(expected)


def test_unsafe_resources_added_to_the_program_are_blocked_naming_each_guardrail(tmp_path):
    program = copy_program(tmp_path)
    with (program / "__main__.py").open("a") as main:
        main.write(UNSAFE_RESOURCES)
    out = tmp_path / "result.json"
    done = preview("--stack", "dev", "--program-dir", str(program), "--json", str(out))
    assert done.returncode == 1, done.stdout[-4000:] + done.stderr
    assert "dev: BLOCKED" in done.stdout
    violations = json.loads(out.read_text())["violations"]
    for policy, fragment in UNSAFE_POLICIES.items():
        assert f"❌ {policy} [mandatory]" in done.stdout, policy
        assert any(v["policy"] == policy and v["level"] == "mandatory" and fragment in v["message"] for v in violations), (policy, fragment)
    # Every mandatory finding is about an added resource: the shipped ones stay clean.
    assert all("unsafe-" in v["urn"] for v in violations if v["level"] == "mandatory"), [
        v["urn"] for v in violations if v["level"] == "mandatory"
    ]
