"""Who may assume each role: the custom OIDC subjects GitHub issues once the repository's template
is set (repository, context, workflow file and ref, event), compared exactly; the approver's role
only for a person. The workflows' own jobs are checked against the same table, so a job that
assumes a role from another workflow, environment or event fails here before it fails in AWS."""

from __future__ import annotations

import json
import re

import access
import pytest
from bootstrap_records import IDENTITIES, MOCK_ACCOUNT, NAMESPACE, ROOT, records, stack_file
from iam_eval import as_list, trusts
from layout import OIDC_CLAIM_KEYS, oidc_subject_command
from ruamel.yaml import YAML

HOST = "token.actions.githubusercontent.com"


def _subs(layouts, key: str) -> dict[str, list[str]]:
    """operator -> the subjects that statement compares with it."""
    out: dict[str, list[str]] = {}
    for statement in layouts.trust(key)["Statement"]:
        (operator,) = [op for op, keys in statement["Condition"].items() if f"{HOST}:sub" in keys]
        out.setdefault(operator, []).extend(as_list(statement["Condition"][operator][f"{HOST}:sub"]))
    return out


def assumes(layouts, key: str, sub: str) -> bool:
    provider = layouts.trust(key)["Statement"][0]["Principal"]["Federated"]
    return trusts(
        layouts.trust(key),
        {"Federated": provider},
        "sts:AssumeRoleWithWebIdentity",
        {f"{HOST}:aud": "sts.amazonaws.com", f"{HOST}:sub": sub},
    )


CI = [i for i in IDENTITIES if i.ci]


@pytest.mark.parametrize("identity", CI, ids=lambda i: i.key)
def test_each_ci_role_trusts_exactly_its_runs(layouts, identity):
    repository = layouts.layout.repository
    subs = _subs(layouts, identity.key)
    assert sorted(sub for chosen in subs.values() for sub in chosen) == sorted(s.sub(repository) for s in identity.subjects)
    for statement in layouts.trust(identity.key)["Statement"]:
        assert statement["Condition"]["StringEquals"][f"{HOST}:aud"] == "sts.amazonaws.com"
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity" and statement["Effect"] == "Allow"
    assert set(subs) <= {"StringEquals", "StringLike"}
    assert not any("*" in sub or "?" in sub for sub in subs.get("StringEquals", []))
    # The pull request number is the one wildcard, nowhere else.
    assert all(sub.count("*") == 1 and access.PULL_REQUEST_REF in sub and "?" not in sub for sub in subs.get("StringLike", []))
    assert bool(subs.get("StringLike")) == any(s.ref == access.PULL_REQUEST_REF for s in identity.subjects)


def test_the_subject_is_the_claims_of_the_template_in_order():
    sub = access.Subject("environment:production", "deploy.yml", "push").sub("o/r")
    assert sub == "repo:o/r:environment:production:job_workflow_ref:o/r/.github/workflows/deploy.yml@refs/heads/main:event_name:push"
    assert [k for k in OIDC_CLAIM_KEYS if k != "context"] == list(re.findall(r"(repo|job_workflow_ref|event_name):", sub))


def _forged(repository: str) -> dict[str, str | None]:
    wf = f"job_workflow_ref:{repository}/.github/workflows"
    return {
        # a pull request job outside the dev-preview environment gets no role: previews run in their environments
        f"repo:{repository}:pull_request:{wf}/pull-request.yml@refs/pull/42/merge:event_name:pull_request": None,
        f"repo:{repository}:environment:production-preview:{wf}/pull-request.yml@refs/pull/42/merge:event_name:pull_request": "preview-prod",
        f"repo:{repository}:environment:dev:{wf}/deploy.yml@refs/heads/main:event_name:push": "deploy-dev",
        f"repo:{repository}:environment:production:{wf}/deploy.yml@refs/heads/main:event_name:push": "deploy-prod",
        f"repo:{repository}:environment:production:{wf}/recover.yml@refs/heads/main:event_name:workflow_dispatch": "deploy-prod",
        f"repo:{repository}:environment:promotion:{wf}/promote.yml@refs/heads/main:event_name:workflow_dispatch": "promote",
        f"repo:{repository}:environment:dev-preview:{wf}/pull-request.yml@refs/pull/42/merge:event_name:pull_request": "preview-dev",
        f"repo:{repository}:environment:production-plan:{wf}/deploy.yml@refs/heads/main:event_name:push": "preview-prod",
        # prod's plan environment: only main's deploy.yml on a push.
        f"repo:{repository}:environment:production-plan:{wf}/deploy.yml@refs/heads/feature:event_name:push": None,
        f"repo:{repository}:environment:production-plan:{wf}/deploy.yml@refs/heads/main:event_name:workflow_dispatch": None,
        f"repo:{repository}:environment:production-plan:{wf}/pull-request.yml@refs/pull/42/merge:event_name:pull_request": None,
        f"repo:{repository}:environment:dev-preview:{wf}/pull-request.yml@refs/pull/42/merge:event_name:pull_request_target": None,
        # production-preview from a branch, a push, a dispatch or another workflow: nothing.
        f"repo:{repository}:environment:production-preview:{wf}/pull-request.yml@refs/heads/feature:event_name:pull_request": None,
        f"repo:{repository}:environment:production-preview:{wf}/pull-request.yml@refs/heads/main:event_name:push": None,
        f"repo:{repository}:environment:production-preview:{wf}/evil.yml@refs/pull/42/merge:event_name:pull_request": None,
        f"repo:{repository}:environment:production-preview:{wf}/pull-request.yml@refs/pull/42/merge:event_name:pull_request_target": None,
        # prod's deploy role: only main's deploy.yml (push) or recover.yml (dispatch).
        f"repo:{repository}:environment:production:{wf}/deploy.yml@refs/heads/feature:event_name:push": None,
        f"repo:{repository}:environment:production:{wf}/deploy.yml@refs/heads/main:event_name:workflow_dispatch": None,
        f"repo:{repository}:environment:production:{wf}/promote.yml@refs/heads/main:event_name:workflow_dispatch": None,
        f"repo:{repository}:environment:production:{wf}/recover.yml@refs/tags/v1:event_name:workflow_dispatch": None,
        f"repo:{repository}:environment:dev:{wf}/pull-request.yml@refs/pull/42/merge:event_name:pull_request": None,
        f"repo:{repository}:ref:refs/heads/main:{wf}/deploy.yml@refs/heads/main:event_name:push": None,
        # GitHub's default subject (template not set) and another repository's runs: nothing.
        f"repo:{repository}:environment:production": None,
        f"repo:{repository}:pull_request": None,
        "repo:someone/fork:pull_request:job_workflow_ref:someone/fork/.github/workflows/pull-request.yml@refs/pull/42/merge:event_name:pull_request": None,
        f"repo:{repository}-fork:environment:production:{wf}/deploy.yml@refs/heads/main:event_name:push": None,
    }


def test_each_run_gets_at_most_the_one_role_the_table_names(layouts):
    repository = layouts.layout.repository
    got = {sub: [i.key for i in CI if assumes(layouts, i.key, sub)] for sub in _forged(repository)}
    assert got == {sub: [key] if key else [] for sub, key in _forged(repository).items()}


def test_only_a_person_assumes_the_approver_role(one):
    trust = one.trust("approver")
    account = one.layout.account("dev")
    root = {"AWS": f"arn:aws:iam::{account}:root"}

    def can(principal_arn: str) -> bool:
        return trusts(trust, {"AWS": principal_arn}, "sts:AssumeRole", {"aws:PrincipalArn": principal_arn})

    assert root and can(f"arn:aws:iam::{account}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_MLApprover_0123")
    assert not can(f"arn:aws:iam::{account}:role/sagemaker-mlops-github-deploy-dev")
    assert not can(f"arn:aws:iam::{account}:role/mlops-dev-sagemaker-execution")
    assert not can(f"arn:aws:iam::{account}:role/admin")
    assert not can("arn:aws:iam::999999999999:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_1")
    assert not trusts(
        trust, {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"}, "sts:AssumeRoleWithWebIdentity", {}
    )


def _workflow_jobs():
    """(workflow file, events, job environment, role variable) for every job that assumes a role."""
    yaml = YAML(typ="safe")
    for path in sorted((ROOT / ".github" / "workflows").glob("*.yml")):
        data = yaml.load(path.read_text())
        events = [e for e in (data.get("on") or data.get(True) or {}) if e != "workflow_call"]
        for job in data.get("jobs", {}).values():
            roles = [s["with"]["role-to-assume"] for s in job.get("steps", []) if "role-to-assume" in (s.get("with") or {})]
            environment = job.get("environment")
            name = environment.get("name") if isinstance(environment, dict) else environment
            for role in roles:
                variables = re.findall(r"vars\.(\w+)", role)
                alternatives = re.search(r"&&\s*'([\w.-]+)'\s*\|\|\s*'([\w.-]+)'", name or "")
                names = list(alternatives.groups()) if alternatives else [name]
                # `cond && A || B` in both: the variables pair with the environments in order.
                for variable, environment_name in zip(variables, names if len(names) == len(variables) else names * len(variables)):
                    yield path.name, events, environment_name, variable


def test_every_workflow_job_that_assumes_a_role_is_a_run_its_role_trusts():
    config = stack_file()
    environments = {key: config.get(f"{NAMESPACE}:{key}Environment", default) for key, default in access.DEFAULT_ENVIRONMENTS.items()}
    by_variable = {i.variable: i for i in access.identities(environments) if i.ci}
    jobs = list(_workflow_jobs())
    assert {variable for *_, variable in jobs} == set(by_variable)
    for workflow, events, environment, variable in jobs:
        context = f"environment:{environment}" if environment else "pull_request"
        trusted = {(s.context, s.workflow, s.event) for s in by_variable[variable].subjects}
        for event in events:
            assert (context, workflow, event) in trusted, (workflow, event, environment, variable)


def test_the_oidc_template_is_output_and_documented(one):
    for outputs in one.outputs:
        assert outputs["oidcSubjectTemplate"] == {"use_default": False, "include_claim_keys": list(OIDC_CLAIM_KEYS)}
        assert outputs["oidcSubjectCommand"] == oidc_subject_command(one.layout.repository)
    assert oidc_subject_command("OWNER/REPO") in (ROOT / "docs" / "bootstrap.md").read_text()


def test_the_oidc_provider_is_githubs_issuer_for_sts():
    provider = records().one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider["inputs"]["url"] == "https://token.actions.githubusercontent.com"
    assert provider["inputs"]["clientIdLists"] == ["sts.amazonaws.com"]


def test_an_existing_provider_is_reused_instead_of_created():
    existing = "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com"
    recs = records(f"existingOidcProviderArn={existing}")
    assert recs.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    roles = [r for r in recs.of_type("aws:iam/role:Role") if r["inputs"]["name"].startswith("sagemaker-mlops-github-")]
    principals = [s["Principal"] for r in roles for s in json.loads(r["inputs"]["assumeRolePolicy"])["Statement"]]
    assert roles and all(p == {"Federated": existing} for p in principals)
    assert recs.outputs["oidcProviderArn"] == existing


def test_subjects_follow_the_configured_repository_and_environments():
    recs = records("githubRepository=Acme/Churn.Models", "productionEnvironment=prod-approval")
    trust = next(
        json.loads(r["inputs"]["assumeRolePolicy"]) for r in recs.of_type("aws:iam/role:Role") if r["name"] == "github-deploy-prod-role"
    )
    (statement,) = trust["Statement"]  # deploy roles: exact subjects only
    subs = statement["Condition"]["StringEquals"][f"{HOST}:sub"]
    assert (
        "repo:Acme/Churn.Models:environment:prod-approval:job_workflow_ref:Acme/Churn.Models/.github/workflows/deploy.yml@refs/heads/main:event_name:push"
        in subs
    )


def test_named_approver_principals_still_exclude_every_ci_and_program_role():
    recs = records(f"approverPrincipals=['arn:aws:iam::{MOCK_ACCOUNT}:root']")
    trust = json.loads(
        next(r for r in recs.of_type("aws:iam/role:Role") if r["name"] == "github-approver-role")["inputs"]["assumeRolePolicy"]
    )

    def can(principal_arn: str) -> bool:
        return trusts(trust, {"AWS": principal_arn}, "sts:AssumeRole", {"aws:PrincipalArn": principal_arn})

    assert can(f"arn:aws:iam::{MOCK_ACCOUNT}:role/ml-approvers")
    for role in ("sagemaker-mlops-github-promote", "mlops-dev-sagemaker-execution", "mlops-prod-retrain-on-drift"):
        assert not can(f"arn:aws:iam::{MOCK_ACCOUNT}:role/{role}"), role
