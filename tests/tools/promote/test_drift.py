"""The drift classifier over `pulumi preview --json` steps: expected churn (scheduled or autoscaled
counts, alias weights while a CodeDeploy release runs) apart from real drift, and the issue body."""

from __future__ import annotations

import json
from pathlib import Path

from tools.promote.drift import classify, issue_body, main

STACK = "urn:pulumi:prod::sagemaker-mlops::"


def step(kind: str, name: str, op: str = "update", paths: tuple[str, ...] = (), outputs: dict | None = None) -> dict:
    return {
        "op": op,
        "urn": f"{STACK}{kind}::{name}",
        "newState": {"type": kind, "outputs": outputs or {}},
        "detailedDiff": {p: {"kind": "update"} for p in paths},
    }


ALIAS_WEIGHTS = {"routingConfig": {"additionalVersionWeights": {"7": 0.1}}}


def kinds(changes) -> list[tuple[str, bool]]:
    return [(c.path, c.expected is not None) for c in changes]


def test_scheduled_and_autoscaled_counts_are_churn_and_a_console_edit_is_drift():
    preview = {
        "steps": [
            step("aws:ecs/service:Service", "dashboard", paths=("desiredCount",)),
            step("aws:sagemaker/endpointConfiguration:EndpointConfiguration", "cfg", paths=("productionVariants[0].initialInstanceCount",)),
            step("aws:s3/bucketPolicy:BucketPolicy", "policy", paths=("policy",)),
            step("aws:kms/key:Key", "key", op="same"),
        ]
    }
    assert kinds(classify(preview)) == [("desiredCount", True), ("productionVariants[0].initialInstanceCount", True), ("policy", False)]


def test_alias_weights_are_churn_only_while_a_release_shifts_traffic():
    moving = step("aws:lambda/alias:Alias", "live", paths=("routingConfig", "functionVersion"), outputs=ALIAS_WEIGHTS)
    assert kinds(classify({"steps": [moving]})) == [("routingConfig", True), ("functionVersion", True)]
    settled = step("aws:lambda/alias:Alias", "live", paths=("routingConfig", "functionVersion"))
    assert kinds(classify({"steps": [settled]})) == [("routingConfig", False), ("functionVersion", False)]
    assert kinds(classify({"steps": [settled]}, release_in_progress=True)) == [("routingConfig", True), ("functionVersion", True)]


def test_an_alias_moved_outside_a_release_is_real_drift_pointing_to_the_restore():
    (moved,) = classify({"steps": [step("aws:lambda/alias:Alias", "api-alias", paths=("functionVersion",))]})
    assert moved.expected is None and "--restore" in moved.hint and "containers/api" in moved.hint
    assert "--restore" in issue_body("prod", [moved])


def test_a_rolled_back_endpoint_and_a_deleted_resource_are_real_drift():
    preview = {
        "steps": [
            step("aws:sagemaker/endpoint:Endpoint", "endpoint", paths=("endpointConfigName",)),
            step("aws:ecs/service:Service", "dashboard", op="create"),
        ]
    }
    changes = classify(preview)
    assert [(c.path, c.expected) for c in changes] == [("endpointConfigName", None), ("(the whole resource)", None)]
    assert changes[0].hint == (
        "the endpoint serves another configuration than Git: a blue/green update rolled back by an alarm? "
        "run `python -m tools.promote --restore <stack>` (drift.yml does) to pin what serves"
    )
    body = issue_body("prod", changes, "https://github.com/o/r/actions/runs/1")
    assert body.startswith("## Drift in `prod`: 2 real change(s), 0 expected") and "`endpoint`" in body and "actions/runs/1" in body


def test_the_command_exits_1_on_real_drift_0_on_churn_only_and_2_on_bad_input(tmp_path: Path):
    churn = tmp_path / "churn.json"
    churn.write_text(json.dumps({"steps": [step("aws:ecs/service:Service", "dashboard", paths=("desiredCount",))]}))
    real = tmp_path / "real.json"
    real.write_text(json.dumps({"steps": [step("aws:iam/role:Role", "role", paths=("assumeRolePolicy",))]}))
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert main([str(churn), "--stack", "dev", "--body", str(tmp_path / "b.md")]) == 0
    assert "No real drift" in (tmp_path / "b.md").read_text()
    assert main([str(real), "--stack", "dev", "--body", str(tmp_path / "b.md")]) == 1
    assert main([str(bad), "--stack", "dev"]) == 2


def test_a_real_change_is_one_table_row_and_a_missing_note_is_a_dash():
    from tools.promote.drift import Change

    change = Change("urn:pulumi:prod::sagemaker-mlops::aws:iam/role:Role::role", "aws:iam/role:Role", "update", "assumeRolePolicy", None)
    body = issue_body("prod", [change])
    assert "| `role` | `aws:iam/role:Role` | update | `assumeRolePolicy` | - |" in body.splitlines()
