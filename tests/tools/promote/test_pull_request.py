"""Each promotion pull request is built on the one branch its workflow opens it from: the branch is
named twice (tools/promote/pull_request.py and the workflow's create-pull-request step), and a newer
approval, soak, rollback or restore must update the open pull request, not open a second one."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tools.promote.endpoint_rollback import EndpointRollback, Release
from tools.promote.evidence import ROLLBACK, SOAK, Evidence
from tools.promote.lineage import PackageFacts
from tools.promote.pin_log import Pin
from tools.promote.pull_request import (
    Alarm,
    EndpointRestore,
    dev_pull_request,
    prod_pull_request,
    restore_pull_request,
    rollback_pull_request,
)

WORKFLOWS = Path(__file__).resolve().parents[3] / ".github" / "workflows"
CREATE_PULL_REQUEST = "peter-evans/create-pull-request"
ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-dev-churn/4"


def opened_branch(workflow: str) -> str:
    """The branch the workflow's one create-pull-request step pushes to."""
    jobs = YAML(typ="safe").load((WORKFLOWS / workflow).read_text())["jobs"].values()
    (step,) = [s for job in jobs for s in job.get("steps", []) if str(s.get("uses", "")).split("@")[0] == CREATE_PULL_REQUEST]
    return step["with"]["branch"]


def evidence(kind: str) -> Evidence:
    return Evidence(kind, ARN, "2026-12-06T04:00:00Z", "2026-12-05T04:00:00Z", "2026-12-06T04:00:00Z", 24, "2026-12-05T03:00:00Z")


WHEN = datetime(2026, 12, 6, 4, tzinfo=timezone.utc)
ENDPOINT_ROLLED_BACK = EndpointRestore(
    EndpointRollback(ARN, 4, 5, Pin(5, WHEN, "0" * 40), Release("endpoint-config-1", WHEN, "5xx 3% > 1%"), ("mlops-prod-churn-5xx",)),
    Alarm("mlops-prod-churn-5xx", "ALARM: 5xx 3% > 1%"),
)
FACTS = PackageFacts(ARN, 4, "mlops-dev-churn", "Approved", "alice", "", "2026-12-05", "unknown")


@pytest.mark.parametrize(
    "workflow, pull_request, matrix",
    [
        ("approval-to-dev.yml", lambda: dev_pull_request(FACTS, 3), {}),
        ("soak-to-prod.yml", lambda: prod_pull_request(evidence(SOAK), 4, 3), {}),
        ("rollback.yml", lambda: rollback_pull_request(evidence(ROLLBACK), 3, 4, "p99 regression"), {}),
        # drift.yml restores each stack of its matrix on its own branch.
        ("drift.yml", lambda: restore_pull_request("prod", ENDPOINT_ROLLED_BACK, None), {"matrix.stack": "prod"}),
    ],
)
def test_each_pull_request_is_built_on_the_branch_its_workflow_opens(workflow: str, pull_request: Any, matrix: dict[str, str]):
    branch = opened_branch(workflow)
    for expression, value in matrix.items():
        branch = branch.replace(f"${{{{ {expression} }}}}", value)
    assert pull_request().branch == branch
