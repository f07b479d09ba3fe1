"""The account layout as config: one bootstrap stack per account creates exactly what that account
needs, the state backend grants the other account's roles their rows, every stack prints the same
repository variables, and bad config is named key by key."""

from __future__ import annotations

import re
import subprocess
import sys

import access
import pytest
from bootstrap_records import BOOTSTRAP, MOCK_ACCOUNT, OTHER_ACCOUNT, ROOT, TWO_ACCOUNTS, records
from iam_eval import resource_policy_allows
from layout import STACKS

from components.shared.apply_job import APPLY_SESSION_HOURS
from tools.offline.records import parse_json_input


def _roles(recs) -> set[str]:
    return {r["inputs"]["name"] for r in recs if r["type"] == "aws:iam/role:Role"}


def test_each_account_creates_exactly_its_part():
    by_stack = {}
    for account in (MOCK_ACCOUNT, OTHER_ACCOUNT):
        recs = records(
            *[f"accounts.{k}='{v}'" for k, v in TWO_ACCOUNTS.accounts.items()],
            f"account='{account}'",
            f"hostedZones.prod={TWO_ACCOUNTS.hosted_zones['prod']}",
        )
        by_stack[account] = recs
    dev, prod = by_stack[MOCK_ACCOUNT], by_stack[OTHER_ACCOUNT]
    assert _roles(dev.resources) == {f"sagemaker-mlops-github-{k}" for k in ("preview-dev", "deploy-dev", "promote")} | {
        "sagemaker-mlops-approver"
    }
    assert _roles(prod.resources) == {f"sagemaker-mlops-github-{k}" for k in ("preview-prod", "deploy-prod")}
    assert {r["inputs"]["name"] for r in dev.of_type("aws:iam/policy:Policy") if r["inputs"]["name"].endswith("boundary")} == {
        "sagemaker-mlops-dev-boundary"
    }
    assert {r["inputs"]["name"] for r in prod.of_type("aws:iam/policy:Policy") if r["inputs"]["name"].endswith("boundary")} == {
        "sagemaker-mlops-prod-boundary"
    }
    # The state backend lives in the state account only; both accounts need GitHub's provider.
    assert len(dev.of_type("aws:s3/bucket:Bucket")) == 1 and prod.of_type("aws:s3/bucket:Bucket") == []
    assert (
        len(dev.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider"))
        == len(prod.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider"))
        == 1
    )
    # One merged set of variables, whichever account's stack prints it; prod's roles in prod's account.
    assert dev.outputs["repositoryVariables"] == prod.outputs["repositoryVariables"]
    variables = dev.outputs["repositoryVariables"]
    assert variables["AWS_DEPLOY_PROD_ROLE_ARN"] == f"arn:aws:iam::{OTHER_ACCOUNT}:role/sagemaker-mlops-github-deploy-prod"
    assert variables["AWS_DEPLOY_DEV_ROLE_ARN"] == f"arn:aws:iam::{MOCK_ACCOUNT}:role/sagemaker-mlops-github-deploy-dev"
    assert variables["PULUMI_BACKEND_URL"] == f"s3://sagemaker-mlops-state-{MOCK_ACCOUNT}-us-east-1?region=us-east-1"
    assert set(variables) == {"AWS_REGION", "PULUMI_BACKEND_URL"} | {i.variable for i in access.identities() if i.ci}
    workflows = "\n".join(p.read_text() for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    assert all(f"vars.{v}" in workflows for v in variables)
    # Secrets providers by alias ARN: `alias/…` alone resolves only in the caller's account.
    assert (
        dev.outputs["secretsProviders"]["prod"]
        == f"awskms:///arn:aws:kms:us-east-1:{MOCK_ACCOUNT}:alias/sagemaker-mlops-prod-secrets?region=us-east-1"
    )


def _backend(recs):
    bucket_policy = next(parse_json_input(r["inputs"]["policy"]) for r in recs.of_type("aws:s3/bucketPolicy:BucketPolicy"))
    keys = {r["name"]: parse_json_input(r["inputs"]["policy"]) for r in recs.of_type("aws:kms/key:Key")}
    return bucket_policy, keys


def _principal_allowed(document, principal: str, action: str, resource: str) -> bool:
    return resource_policy_allows(document, principal, action, resource)


def test_the_state_backend_grants_the_other_accounts_roles_their_rows_only():
    recs = records(*[f"accounts.{k}='{v}'" for k, v in TWO_ACCOUNTS.accounts.items()], f"account='{MOCK_ACCOUNT}'")
    policy, keys = _backend(recs)
    bucket = f"arn:aws:s3:::sagemaker-mlops-state-{MOCK_ACCOUNT}-us-east-1"
    deploy_prod = f"arn:aws:iam::{OTHER_ACCOUNT}:role/sagemaker-mlops-github-deploy-prod"
    preview_prod = f"arn:aws:iam::{OTHER_ACCOUNT}:role/sagemaker-mlops-github-preview-prod"
    intruder = f"arn:aws:iam::{OTHER_ACCOUNT}:role/anything"
    prod_state = f"{bucket}/.pulumi/stacks/sagemaker-mlops/prod.json"
    dev_state = f"{bucket}/.pulumi/stacks/sagemaker-mlops/dev.json"
    assert _principal_allowed(policy, deploy_prod, "s3:PutObject", prod_state)
    assert _principal_allowed(policy, deploy_prod, "s3:GetObject", dev_state)
    assert _principal_allowed(policy, preview_prod, "s3:GetObject", prod_state)
    assert not _principal_allowed(policy, preview_prod, "s3:PutObject", prod_state)
    assert not _principal_allowed(policy, deploy_prod, "s3:PutObject", dev_state)
    assert not _principal_allowed(policy, intruder, "s3:GetObject", prod_state)
    secrets = dict(keys.items())
    prod_key, dev_key, state_key = secrets["state-prod-secrets-key"], secrets["state-dev-secrets-key"], secrets["state-key"]
    assert _principal_allowed(prod_key, deploy_prod, "kms:Encrypt", "*") and _principal_allowed(prod_key, preview_prod, "kms:Decrypt", "*")
    # Prod's StackReference decrypts dev's secret outputs; nothing of prod's encrypts dev's secrets.
    assert _principal_allowed(dev_key, deploy_prod, "kms:Decrypt", "*") and not _principal_allowed(dev_key, deploy_prod, "kms:Encrypt", "*")
    assert not _principal_allowed(prod_key, intruder, "kms:Decrypt", "*") and not _principal_allowed(dev_key, intruder, "kms:Decrypt", "*")
    assert _principal_allowed(state_key, preview_prod, "kms:Decrypt", "*") and not _principal_allowed(
        state_key, preview_prod, "kms:Encrypt", "*"
    )


def test_in_one_account_the_backend_grants_no_other_account():
    policy, keys = _backend(records())
    principals = [s.get("Principal", {}) for doc in [policy, *keys.values()] for s in doc["Statement"] if s["Effect"] == "Allow"]
    assert all(OTHER_ACCOUNT not in str(p) for p in principals)
    assert [s["Sid"] for doc in keys.values() for s in doc["Statement"]] == ["AccountAdministersKeyThroughIam"] * 3


def test_state_bucket_and_keys_are_protected_named_and_rotated():
    recs = records()
    backend = recs.one("sagemaker-mlops:bootstrap:StateBackend")
    assert backend["options"]["protect"] is True
    for key in recs.of_type("aws:kms/key:Key"):
        assert (
            key["inputs"]["enableKeyRotation"] is True and key["options"]["protect"] is True and key["inputs"]["deletionWindowInDays"] == 30
        )
    aliases = {r["inputs"]["name"] for r in recs.of_type("aws:kms/alias:Alias")}
    assert aliases == {"alias/sagemaker-mlops-state", *(f"alias/sagemaker-mlops-{s}-secrets" for s in STACKS)}
    bucket = recs.one("aws:s3/bucket:Bucket")
    assert bucket["inputs"]["bucket"] == f"sagemaker-mlops-state-{MOCK_ACCOUNT}-us-east-1" and bucket["options"]["protect"] is True
    versioning = recs.one("aws:s3/bucketVersioning:BucketVersioning")
    assert versioning["inputs"]["versioningConfiguration"]["status"] == "Enabled"


def test_without_a_state_backend_no_bucket_key_or_grant():
    recs = records("stateBackend=false")
    assert recs.of_type("aws:s3/bucket:Bucket") == [] and recs.of_type("aws:kms/key:Key") == []
    assert "PULUMI_BACKEND_URL" not in recs.outputs["repositoryVariables"] and "secretsProviders" not in recs.outputs
    inline = parse_json_input(
        next(r for r in recs.of_type("aws:iam/rolePolicy:RolePolicy") if r["name"] == "github-preview-dev-policy")["inputs"]["policy"]
    )
    assert not [s for s in inline["Statement"] if s["Effect"] == "Allow" and any(a.startswith(("s3:", "kms:")) for a in s["Action"])]


def run_bootstrap(*overrides: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tools.offline.program", "--stack", "github", "--program-dir", str(BOOTSTRAP), "--out", "/dev/null"]
    for override in overrides:
        command += ["--set", override]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "overrides, messages",
    [
        (
            ("githubRepository=https://github.com/acme/repo", "promotionEnvironment=production", "stateBackend=maybe"),
            [
                "githubRepository = 'https://github.com/acme/repo': expected OWNER/REPO",
                "promotionEnvironment = 'production': must differ from productionEnvironment",
                "stateBackend = 'maybe': expected true or false",
            ],
        ),
        (("githubRepository=null",), ["sagemaker-mlops-bootstrap:githubRepository: required key is missing"]),
        (("accounts=null",), ["sagemaker-mlops-bootstrap:accounts: required key is missing; expected a map dev/prod/state"]),
        (
            ("accounts.prod=12345", "accounts.staging='1'"),
            ["accounts.prod = 12345: expected a 12-digit AWS account id", "accounts.staging: unknown key"],
        ),
        (("accounts.prod='210987654321'",), ["sagemaker-mlops-bootstrap:account: required when the stacks use several accounts"]),
        (("accounts.prod='210987654321'", "account='111111111111'"), ["account = '111111111111': expected one of the accounts"]),
        (
            ("hostedZones.prod=Z00000000000000000000",),
            ["hostedZones.prod = 'Z00000000000000000000': expected the stack's Route 53 hosted zone id"],
        ),
        (("approverPrincipals=[me]",), ["approverPrincipals = ['me']: expected a list of IAM principal ARNs"]),
    ],
    ids=["three-at-once", "repository", "accounts", "account-ids", "which-account", "foreign-account", "zone-placeholder", "approver"],
)
def test_bad_configuration_is_refused_key_by_key(overrides, messages):
    done = run_bootstrap(*overrides)
    assert done.returncode == 2, done.stderr
    assert f"({len(messages)} problem" in done.stderr
    for message in messages:
        assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_every_ci_role_allows_the_session_its_workflow_jobs_ask_for(one):
    """AssumeRoleWithWebIdentity refuses a duration above the role's MaxSessionDuration, and the jobs ask
    for one as long as their timeout (tests/gitops/test_workflows.py): deploy.yml's apply jobs wait for
    the releases for hours (components/shared/apply_job.py), recover.yml assumes the same roles."""
    from ruamel.yaml import YAML

    by_variable = {identity.variable: identity for identity in access.identities() if identity.ci}
    asked: dict[str, int] = {}
    for path in sorted((ROOT / ".github" / "workflows").glob("*.yml")):
        for job in YAML(typ="safe").load(path.read_text())["jobs"].values():
            for step in job.get("steps", []):
                if str(step.get("uses", "")).startswith("aws-actions/configure-aws-credentials@"):
                    for variable in re.findall(r"vars\.(\w+)", step["with"]["role-to-assume"]):
                        seconds = step["with"].get("role-duration-seconds", 3600)  # the action's default
                        asked[variable] = max(asked.get(variable, 0), seconds)
    assert set(asked) == set(by_variable)
    for variable, seconds in asked.items():
        allowed = one.role(by_variable[variable].key)["inputs"]["maxSessionDuration"]
        assert seconds <= allowed <= 12 * 3600, f"{variable}: jobs ask for {seconds} s, the role allows {allowed} s"
    assert asked["AWS_DEPLOY_PROD_ROLE_ARN"] == asked["AWS_DEPLOY_DEV_ROLE_ARN"] == APPLY_SESSION_HOURS * 3600
