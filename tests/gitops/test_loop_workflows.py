"""The closed loop's workflows do what docs/promotion.md says (the three checkers run on them in
test_workflows.py): which command each runs, with which trust, and what it keeps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

WORKFLOW_DIR = Path(__file__).resolve().parents[2] / ".github" / "workflows"


def load(name: str) -> dict[str, Any]:
    return YAML(typ="safe").load((WORKFLOW_DIR / name).read_text())


def job(name: str) -> dict[str, Any]:
    (only,) = load(name)["jobs"].values()
    return only


def scripts(name: str) -> str:
    return "\n".join(step.get("run", "") for step in job(name)["steps"])


def step_named(name: str, title: str) -> dict[str, Any]:
    (found,) = [s for s in job(name)["steps"] if s.get("name") == title]
    return found


def test_approval_polls_the_registry_and_also_answers_a_dispatch():
    document = load("approval-to-dev.yml")
    on = document.get("on", document.get(True))
    assert set(on) == {"schedule", "workflow_dispatch", "repository_dispatch"}
    assert on["repository_dispatch"]["types"] == ["model-package-approved"]
    assert "-m tools.promote --to dev --approved --pr-body" in scripts("approval-to-dev.yml")
    assert step_named("approval-to-dev.yml", "Open or update the pull request")["with"]["branch"] == "promote/dev"


def test_the_soak_pins_prod_with_evidence_and_keeps_it_even_when_refused():
    assert "-m tools.promote --to prod --soak --evidence-out evidence/prod.json" in scripts("soak-to-prod.yml")
    keep = step_named("soak-to-prod.yml", "Keep the evidence")
    assert keep["if"] == "always()" and keep["with"]["path"] == "evidence/prod.json"
    opened = step_named("soak-to-prod.yml", "Open or update the pull request")
    assert opened["if"] == "steps.pin.outputs.changed == 'true'" and "evidence/prod.json" in opened["with"]["add-paths"]


def test_the_rollback_reads_the_pin_history_and_opens_one_pull_request():
    checkout = job("rollback.yml")["steps"][0]
    assert checkout["with"]["fetch-depth"] == 0
    assert '(--rollback prod --reason "$REASON"' in scripts("rollback.yml")
    assert step_named("rollback.yml", "Open the pull request")["with"]["branch"] == "rollback/prod"


def test_the_pins_check_is_the_base_branch_s_code():
    checkouts = [s for s in job("pins.yml")["steps"] if str(s.get("uses", "")).startswith("actions/checkout@")]
    assert checkouts[1]["with"]["ref"] == "${{ github.base_ref }}" and checkouts[1]["with"]["path"] == "base"
    check = step_named("pins.yml", "Refuse both pins in one commit")
    assert check["working-directory"] == "base" and '-m tools.promote.pins --repo "$GITHUB_WORKSPACE"' in check["run"]


def test_drift_runs_per_stack_with_the_pack_and_files_issues_and_restores():
    drift = job("drift.yml")
    assert [entry["stack"] for entry in drift["strategy"]["matrix"]["include"]] == ["dev", "prod"]
    text = scripts("drift.yml")
    assert '"$PULUMI" preview --stack "$STACK" --refresh --expect-no-changes --json' in text and '--policy-pack "$POLICY_PACK"' in text
    assert "-m tools.promote.drift" in text and "gh issue edit" in text and "gh issue create" in text and "gh issue close" in text
    assert '-m tools.promote --restore "$STACK"' in text
    assert drift["permissions"] == {"contents": "read", "id-token": "write", "issues": "write"}


def test_drifts_restore_covers_the_api_code():
    # The history search needs every commit; the pull request carries containers/api, new files included.
    assert job("drift.yml")["steps"][0]["with"]["fetch-depth"] == 0
    restore = step_named("drift.yml", "Pin what serves and restore the API's code after an alarm rollback")
    assert 'git status --porcelain -- "Pulumi.$STACK.yaml" containers/api' in restore["run"]
    (opened,) = [s for s in job("drift.yml")["steps"] if str(s.get("uses", "")).startswith("peter-evans/create-pull-request@")]
    assert opened["with"]["add-paths"].splitlines() == ["Pulumi.${{ matrix.stack }}.yaml", "containers/api"]
