"""bootstrap/: the GitHub OIDC provider, the CI roles, the permissions boundary and the state backend,
under the preview's mocks. The roles' trust and permission policies are evaluated (a small IAM
evaluator below: explicit deny wins, then any allow; wildcards, NotAction/NotResource and the
condition operators the policies use) against the table in bootstrap/access.py, which is also the
table docs/gitops.md shows."""

from __future__ import annotations

import fnmatch
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable

import pytest
from ruamel.yaml import YAML

from tools.offline.records import parse_json_input, stack_records

ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAP = ROOT / "bootstrap"
sys.path.insert(0, str(BOOTSTRAP))
import access  # noqa: E402  (bootstrap/access.py: the table)

ACCOUNT = "123456789012"
REGION = "us-east-1"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
# The repository a team puts in bootstrap/Pulumi.github.yaml (its own, not this example).
REPO = YAML(typ="safe").load((ROOT / "bootstrap" / "Pulumi.github.yaml").read_text())["config"][
    "sagemaker-mlops-bootstrap:githubRepository"
]
READ_ONLY_ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"
BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/sagemaker-mlops-program-boundary"
# What AWS's ReadOnlyAccess amounts to for these probes (it holds s3:GetObject on every bucket,
# and no kms:Decrypt).
READ_ONLY_ACCESS = {"Statement": [{"Effect": "Allow", "Action": ["*:Get*", "*:Describe*", "*:List*"], "Resource": "*"}]}
IDENTITIES = access.identities(access.DEFAULT_ENVIRONMENTS)


# ---- a small IAM evaluator -------------------------------------------------------------------------


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _match(patterns: Iterable[str], value: str, *, case: bool = True) -> bool:
    if case:
        return any(fnmatch.fnmatchcase(value, p) for p in patterns)
    return any(fnmatch.fnmatchcase(value.lower(), p.lower()) for p in patterns)


def _conditions(block: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, keys in block.items():
        for key, expected in keys.items():
            actual = context.get(key)
            if operator == "StringEquals":
                ok = actual is not None and actual in _list(expected)
            elif operator == "StringLike":
                ok = actual is not None and _match(_list(expected), actual)
            else:
                raise AssertionError(f"the evaluator does not know {operator}: teach it before using it")
            if not ok:
                return False
    return True


def _applies(statement: dict[str, Any], action: str, resource: str, context: dict[str, str]) -> bool:
    if "Action" in statement:
        if not _match(_list(statement["Action"]), action, case=False):
            return False
    elif _match(_list(statement["NotAction"]), action, case=False):
        return False
    if "Resource" in statement:
        if not _match(_list(statement["Resource"]), resource):
            return False
    elif "NotResource" in statement and _match(_list(statement["NotResource"]), resource):
        return False
    return _conditions(statement.get("Condition", {}), context)


def allowed(policies: Iterable[dict[str, Any]], action: str, resource: str, context: dict[str, str] | None = None) -> bool:
    statements = [s for p in policies for s in p["Statement"]]
    context = {"aws:RequestedRegion": REGION, **(context or {})}
    hits = [s["Effect"] for s in statements if _applies(s, action, resource, context)]
    return "Deny" not in hits and "Allow" in hits


# ---- the bootstrap program's records ----------------------------------------------------------------


def records(*overrides: str):
    return stack_records("github", *overrides, program_dir=BOOTSTRAP)


def role(recs, key: str) -> dict:
    return recs.one("aws:iam/role:Role", f"github-{key}-role")


def inline_policy(recs, key: str) -> dict:
    return parse_json_input(recs.one("aws:iam/rolePolicy:RolePolicy", f"github-{key}-policy")["inputs"]["policy"])


def trust(recs, key: str) -> dict:
    return parse_json_input(role(recs, key)["inputs"]["assumeRolePolicy"])


def boundary(recs) -> dict:
    return parse_json_input(recs.one("aws:iam/policy:Policy", "github-program-boundary")["inputs"]["policy"])


def identity_policies(recs, key: str) -> list[dict]:
    attached = [a for a in recs.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") if a["name"] == f"github-{key}-read-only"]
    return [inline_policy(recs, key)] + ([READ_ONLY_ACCESS] if attached else [])


@pytest.fixture(scope="module")
def recs():
    return records()


@pytest.fixture(scope="module")
def arns(recs) -> dict[str, Any]:
    keys = {r["name"]: r["state"]["arn"] for r in recs.of_type("aws:kms/key:Key")}
    return {
        "bucket": recs.one("aws:s3/bucket:Bucket")["state"]["arn"],
        "state_key": keys["state-key"],
        "secrets": {stack: keys[f"state-{stack}-secrets-key"] for stack in access.STACKS},
    }


# ---- trust: one subject per role ----------------------------------------------------------------------


def test_the_oidc_provider_is_githubs_issuer_for_sts(recs):
    provider = recs.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider["inputs"]["url"] == "https://token.actions.githubusercontent.com"
    assert provider["inputs"]["clientIdLists"] == ["sts.amazonaws.com"]
    assert provider["state"]["arn"] == PROVIDER_ARN


@pytest.mark.parametrize("identity", IDENTITIES, ids=lambda i: i.key)
def test_each_role_trusts_exactly_its_one_subject(recs, identity):
    document = trust(recs, identity.key)
    assert document["Statement"] == [
        {
            "Sid": "GitHubActionsOfThisRepository",
            "Effect": "Allow",
            "Principal": {"Federated": PROVIDER_ARN},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                    "token.actions.githubusercontent.com:sub": f"repo:{REPO}:{identity.subject}",
                }
            },
        }
    ]
    assert role(recs, identity.key)["inputs"]["name"] == f"sagemaker-mlops-github-{identity.key}"


SUBJECTS = {
    "pull_request": "preview-dev",
    "environment:production-preview": "preview-prod",
    "environment:dev": "deploy-dev",
    "environment:production": "deploy-prod",
    "environment:promotion": "promote",
    "ref:refs/heads/main": None,  # a job on main outside an environment gets no role
    "environment:staging": None,
}


@pytest.mark.parametrize("subject", SUBJECTS)
def test_each_github_subject_gets_at_most_the_one_role_the_table_names(recs, subject):
    def trusts(key: str, sub: str) -> bool:
        context = {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": sub}
        return allowed([trust(recs, key)], "sts:AssumeRoleWithWebIdentity", "*", context)

    assert [i.key for i in IDENTITIES if trusts(i.key, f"repo:{REPO}:{subject}")] == ([SUBJECTS[subject]] if SUBJECTS[subject] else [])
    assert not [i.key for i in IDENTITIES if trusts(i.key, f"repo:someone/fork:{subject}")]


def test_subjects_follow_the_configured_repository_and_environments():
    recs = records("githubRepository=Acme/Churn.Models", "productionEnvironment=prod-approval", "devEnvironment=dev-deploy")
    subject = lambda key: trust(recs, key)["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]  # noqa: E731
    assert subject("deploy-prod") == "repo:Acme/Churn.Models:environment:prod-approval"
    assert subject("deploy-dev") == "repo:Acme/Churn.Models:environment:dev-deploy"
    assert subject("preview-dev") == "repo:Acme/Churn.Models:pull_request"


def test_an_existing_provider_is_reused_instead_of_created():
    existing = "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com"
    recs = records(f"existingOidcProviderArn={existing}")
    assert recs.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    for identity in IDENTITIES:
        assert trust(recs, identity.key)["Statement"][0]["Principal"] == {"Federated": existing}
    assert recs.outputs["oidcProviderArn"] == existing


# ---- permissions: the table, evaluated --------------------------------------------------------------


def probes(arns: dict[str, Any], stack: str) -> dict[str, tuple[str, str, dict[str, str]]]:
    """What each capability of the table means as (action, resource, request context)."""
    state = f"{arns['bucket']}/.pulumi/stacks/sagemaker-mlops/{stack}.json"
    lock = f"{arns['bucket']}/.pulumi/locks/organization/sagemaker-mlops/{stack}/5f1c.json"
    history = f"{arns['bucket']}/.pulumi/history/sagemaker-mlops/{stack}/{stack}-1.checkpoint.json"
    tagged = {"aws:ResourceTag/Environment": stack}
    return {
        "read state": ("s3:GetObject", state, {}),
        "read history": ("s3:GetObject", history, {}),
        "write state": ("s3:PutObject", state, {}),
        "take the lock": ("s3:PutObject", lock, {}),
        "delete the lock": ("s3:DeleteObject", lock, {}),
        "decrypt secrets": ("kms:Decrypt", arns["secrets"][stack], {}),
        "encrypt secrets": ("kms:Encrypt", arns["secrets"][stack], {}),
        "update an endpoint": ("sagemaker:UpdateEndpoint", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/mlops-{stack}-churn", tagged),
        "create a bounded role": (
            "iam:CreateRole",
            f"arn:aws:iam::{ACCOUNT}:role/mlops-{stack}-x",
            {"iam:PermissionsBoundary": BOUNDARY_ARN},
        ),
        "attach a policy to a bounded role": (
            "iam:AttachRolePolicy",
            f"arn:aws:iam::{ACCOUNT}:role/mlops-{stack}-x",
            {"iam:PermissionsBoundary": BOUNDARY_ARN},
        ),
    }


def expected(identity: access.Identity, capability: str, stack: str) -> bool:
    grants = set(identity.grants)
    return {
        "read state": (access.STATE_READ, stack) in grants,
        "read history": (access.STATE_READ, stack) in grants,
        "write state": (access.STATE_WRITE, stack) in grants,
        "take the lock": (access.STATE_WRITE, stack) in grants,
        "delete the lock": (access.STATE_WRITE, stack) in grants,
        "decrypt secrets": (access.SECRETS_DECRYPT, stack) in grants,
        "encrypt secrets": (access.SECRETS_ENCRYPT, stack) in grants,
        "update an endpoint": (access.PROGRAM_DEPLOY, stack) in grants,
        "create a bounded role": (access.PROGRAM_DEPLOY, stack) in grants,
        "attach a policy to a bounded role": (access.PROGRAM_DEPLOY, stack) in grants,
    }[capability]


@pytest.mark.parametrize("identity", IDENTITIES, ids=lambda i: i.key)
@pytest.mark.parametrize("stack", access.STACKS)
def test_the_policies_grant_exactly_what_the_table_says(recs, arns, identity, stack):
    policies = identity_policies(recs, identity.key)
    got = {name: allowed(policies, *probe) for name, probe in probes(arns, stack).items()}
    want = {name: expected(identity, name, stack) for name in got}
    assert got == want


def test_the_table_says_dev_can_neither_read_prods_secrets_nor_write_its_state():
    grants = {i.key: set(i.grants) for i in IDENTITIES}
    for key in ("preview-dev", "deploy-dev"):
        assert not {g for g in grants[key] if g[1] == "prod"}, key
    assert (access.STATE_WRITE, "prod") in grants["deploy-prod"] and (access.SECRETS_DECRYPT, "prod") in grants["preview-prod"]
    assert not [k for k, g in grants.items() if k != "deploy-prod" and (access.STATE_WRITE, "prod") in g]


@pytest.mark.parametrize("identity", IDENTITIES, ids=lambda i: i.key)
def test_no_identity_escapes_the_boundary_or_touches_the_backend_itself(recs, arns, identity):
    policies = identity_policies(recs, identity.key)
    for stack in access.STACKS:
        role_arn = f"arn:aws:iam::{ACCOUNT}:role/mlops-{stack}-x"
        assert not allowed(policies, "iam:CreateRole", role_arn), "a role without the boundary"
        assert not allowed(
            policies, "iam:CreateRole", role_arn, {"iam:PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/mlops-{stack}-wide"}
        )
        assert not allowed(policies, "iam:PutRolePolicy", role_arn)
        assert not allowed(policies, "iam:DeleteRolePermissionsBoundary", role_arn)
        for action in ("kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:DisableKey"):
            assert not allowed(policies, action, arns["secrets"][stack]), action
    for action in access.BOUNDARY_POLICY_CHANGES:
        assert not allowed(policies, action, BOUNDARY_ARN), action
    for action in ("s3:PutBucketPolicy", "s3:DeleteBucket", "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration"):
        assert not allowed(policies, action, arns["bucket"]), action
    assert not allowed(policies, "kms:ScheduleKeyDeletion", arns["state_key"])
    assert not allowed(policies, "iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/admin", {"iam:PermissionsBoundary": BOUNDARY_ARN})
    assert not allowed(policies, "iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/x")


def test_previews_and_promote_read_no_data_objects(recs):
    bucket = "arn:aws:s3:::mlops-dev-data-1234/incoming/customers.csv"
    for key in ("preview-dev", "preview-prod", "promote"):
        policies = identity_policies(recs, key)
        assert not allowed(policies, "s3:GetObject", bucket), key
        assert not [
            a
            for s in inline_policy(recs, key)["Statement"]
            if s["Effect"] == "Allow"
            for a in s["Action"]
            if not a.startswith(
                ("s3:Get", "s3:List", "kms:Decrypt", "kms:Describe", "sagemaker:Describe", "sagemaker:List", "sagemaker:Get")
            )
        ], key


def test_prod_deploy_reads_the_registry_and_dev_cannot_touch_prod_tagged_resources(recs):
    package = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/mlops-dev-churn/3"
    dev_tagged = {"aws:ResourceTag/Environment": "dev"}
    assert allowed(identity_policies(recs, "deploy-prod"), "sagemaker:DescribeModelPackage", package, dev_tagged)
    assert allowed(identity_policies(recs, "promote"), "sagemaker:DescribeModelPackage", package, dev_tagged)
    assert not allowed(identity_policies(recs, "promote"), "sagemaker:UpdateModelPackage", package, dev_tagged)
    deploy_dev = identity_policies(recs, "deploy-dev")
    endpoint = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/anything"
    assert not allowed(deploy_dev, "sagemaker:DeleteEndpoint", endpoint, {"aws:ResourceTag/Environment": "prod"})
    assert not allowed(deploy_dev, "sagemaker:CreateEndpoint", endpoint, {"aws:RequestTag/Environment": "prod"})
    assert not allowed(deploy_dev, "sagemaker:CreateEndpoint", endpoint, {"aws:RequestedRegion": "eu-west-1"})


# ---- the permissions boundary -------------------------------------------------------------------------


def program_statements(program) -> list[dict[str, Any]]:
    documents = [
        parse_json_input(r["inputs"]["policy"])
        for r in program.of_type("aws:iam/rolePolicy:RolePolicy") + program.of_type("aws:iam/policy:Policy")
    ]
    return [s for d in documents for s in d["Statement"] if s["Effect"] == "Allow"]


@pytest.mark.parametrize("stack, overrides", [("dev", ()), ("prod", ("monitoring.schedule=off",))])
def test_the_boundary_allows_everything_the_programs_roles_do_and_its_roles_are_in_reach(recs, stack, overrides):
    program = stack_records(stack, *overrides)
    names = [r["inputs"].get("name") for r in program.of_type("aws:iam/role:Role") + program.of_type("aws:iam/policy:Policy")]
    assert names and all(name and name.startswith(f"mlops-{stack}-") for name in names), names
    document = boundary(recs)
    for statement in program_statements(program):
        for action in _list(statement["Action"]):
            for resource in _list(statement["Resource"]):
                resource = resource if isinstance(resource, str) else "arn:aws:s3:::unknown"
                assert allowed([document], action.replace("*", "Anything"), resource), (action, resource)


# AWS managed policies the program attaches, and the services their statements use (AWS managed
# policy reference: AWSCodeDeployRoleForLambda allows cloudwatch:DescribeAlarms, lambda:*Alias,
# lambda:GetProvisionedConcurrencyConfig, lambda:InvokeFunction on CodeDeployHook_*, sns:Publish,
# s3:GetObject/GetObjectVersion).
MANAGED_POLICY_SERVICES = {"arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda": {"cloudwatch", "lambda", "sns", "s3"}}


@pytest.mark.parametrize("stack", access.STACKS)
def test_every_role_the_program_creates_carries_the_boundary_bootstrap_creates(recs, stack):
    program = stack_records(stack)
    roles = program.of_type("aws:iam/role:Role")
    assert roles and {r["name"]: r["inputs"].get("permissionsBoundary") for r in roles} == {r["name"]: BOUNDARY_ARN for r in roles}
    document = boundary(recs)
    for attachment in program.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        services = MANAGED_POLICY_SERVICES[attachment["inputs"]["policyArn"]]  # a new one: list its services here
        assert all(allowed([document], f"{service}:AnyAction", "*") for service in services)


def test_the_boundary_takes_away_iam_writes_and_the_backend(recs, arns):
    document = boundary(recs)
    assert not allowed([document], "iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/mlops-dev-x")
    assert not allowed([document], "iam:AttachRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/mlops-dev-x")
    assert not allowed([document], "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/sagemaker-mlops-github-deploy-prod")
    assert allowed([document], "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/mlops-prod-sagemaker-execution")
    assert not allowed([document], "s3:GetObject", f"{arns['bucket']}/.pulumi/stacks/sagemaker-mlops/prod.json")
    for stack in access.STACKS:
        assert not allowed([document], "kms:Decrypt", arns["secrets"][stack])
    assert recs.outputs["permissionsBoundaryArn"] == BOUNDARY_ARN
    assert recs.one("aws:iam/policy:Policy", "github-program-boundary")["inputs"]["name"] == "sagemaker-mlops-program-boundary"


# ---- the table in the docs ---------------------------------------------------------------------------


def test_docs_show_the_table_the_roles_are_built_from():
    assert access.markdown_table() in (ROOT / "docs" / "gitops.md").read_text()


def test_the_table_script_prints_it():
    done = subprocess.run([sys.executable, str(BOOTSTRAP / "access.py")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == access.markdown_table()


# ---- state backend and outputs ------------------------------------------------------------------------


def test_state_bucket_and_keys_are_protected_and_each_stack_has_its_own_secrets_key(recs):
    backend = recs.one("sagemaker-mlops:bootstrap:StateBackend")
    assert backend["options"]["protect"] is True
    key = recs.one("aws:kms/key:Key", "state-key")
    assert key["inputs"]["enableKeyRotation"] is True and key["options"]["protect"] is True
    for stack in access.STACKS:
        secrets = recs.one("aws:kms/key:Key", f"state-{stack}-secrets-key")
        assert secrets["inputs"]["enableKeyRotation"] is True and secrets["options"]["protect"] is True
        alias = recs.one("aws:kms/alias:Alias", f"state-{stack}-secrets-alias")["inputs"]
        assert alias["name"] == f"alias/sagemaker-mlops-{stack}-secrets" and alias["targetKeyId"] == secrets["state"]["keyId"]
    bucket = recs.one("sagemaker-mlops:storage:SecureBucket", "state-bucket")
    assert bucket["parent"] == backend["urn"]
    children = {r["type"]: r for r in recs.children_of(bucket["urn"])}
    assert all(child["options"]["protect"] is True for child in children.values())
    encryption = children["aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"]
    default = encryption["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]
    assert default == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key["state"]["arn"]}
    assert children["aws:s3/bucketVersioning:BucketVersioning"]["inputs"]["versioningConfiguration"]["status"] == "Enabled"


def test_outputs_are_the_repository_variables_the_workflows_read(recs):
    bucket = recs.one("aws:s3/bucket:Bucket")["state"]["bucket"]
    variables = recs.outputs["repositoryVariables"]
    assert variables == {
        "AWS_REGION": REGION,
        **{i.variable: f"arn:aws:iam::{ACCOUNT}:role/sagemaker-mlops-github-{i.key}" for i in IDENTITIES},
        "PULUMI_BACKEND_URL": f"s3://{bucket}?region={REGION}",
    }
    assert recs.outputs["secretsProviders"] == {s: f"awskms://alias/sagemaker-mlops-{s}-secrets?region={REGION}" for s in access.STACKS}
    workflows = "\n".join(p.read_text() for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    for variable in variables:
        assert f"vars.{variable}" in workflows, variable


def test_without_a_state_backend_no_bucket_is_made_and_no_object_is_readable():
    recs = records("stateBackend=false")
    assert recs.of_type("aws:s3/bucket:Bucket") == [] and recs.of_type("aws:kms/key:Key") == []
    statements = inline_policy(recs, "preview-dev")["Statement"]
    assert statements == [
        {"Sid": "NoObjectReadsOutsideItsState", "Effect": "Deny", "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": ["*"]}
    ]
    assert "PULUMI_BACKEND_URL" not in recs.outputs["repositoryVariables"]


def run_bootstrap(*overrides: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tools.offline.program", "--stack", "github", "--program-dir", str(BOOTSTRAP), "--out", "/dev/null"]
    for override in overrides:
        command += ["--set", override]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_bad_configuration_is_refused_with_one_line_per_problem():
    done = run_bootstrap("githubRepository=https://github.com/acme/repo", "promotionEnvironment=production", "stateBackend=maybe")
    assert done.returncode == 2, done.stderr
    assert "invalid configuration for stack 'github' (3 problems)" in done.stderr
    assert "sagemaker-mlops-bootstrap:githubRepository = 'https://github.com/acme/repo': expected OWNER/REPO" in done.stderr
    assert "promotionEnvironment = 'production': must differ from productionEnvironment" in done.stderr
    assert "stateBackend = 'maybe': expected true or false" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_missing_repository_is_named():
    done = run_bootstrap("githubRepository=null")
    assert done.returncode == 2
    assert "sagemaker-mlops-bootstrap:githubRepository: required key is missing" in done.stderr


def test_the_deploy_role_sessions_cover_the_longest_deploy():
    from ruamel.yaml import YAML

    jobs = YAML(typ="safe").load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())["jobs"]
    longest = max(job.get("timeout-minutes", 0) for job in jobs.values())
    for key in ("deploy-dev", "deploy-prod"):
        assert next(i for i in IDENTITIES if i.key == key).session_hours * 60 >= longest
