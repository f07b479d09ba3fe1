"""The titles, branches and bodies of the promotion pull requests (the workflows pass them to `gh`).

One branch per purpose, so a newer approval or soak updates the open pull request instead of opening
another: promote/dev, promote/prod, rollback/prod, restore/<stack>.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from tools.promote.evidence import Evidence, table
from tools.promote.lineage import PackageFacts

EVIDENCE_PATH = "evidence/prod.json"


@dataclass(frozen=True)
class PullRequest:
    branch: str
    title: str
    body: str


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ") or "-"


def dev_pull_request(facts: PackageFacts, previous: Optional[int]) -> PullRequest:
    metrics = "\n".join(f"| {_cell(k)} | {v:.4f} |" for k, v in sorted(facts.metrics.items())) or "| (none recorded) | |"
    data = "\n".join(f"  - `{d}`" for d in facts.training_data) or "  - unknown (the pipeline execution lists no training job)"
    body = f"""## Pin model package version {facts.version} in dev

`{facts.arn}` entered **Approved** in `{facts.group}`; this pull request makes dev serve it
(`endpoint.modelPackageVersion` {previous if previous is not None else "absent"} -> {facts.version} in `Pulumi.dev.yaml`).
Once merged and deployed, dev soaks it; `python -m tools.promote --to prod --soak` opens the prod pull request
only when the soak met every SLO.

### Approval
- approved by: `{facts.approver}`
- approval note: {facts.approval_note or "(none)"}
- last changed: {facts.approved_at}

### Metrics ({f"`{facts.metrics_source}`" if facts.metrics_source else "no evaluation report named by the package"})
| metric | value |
|---|---|
{metrics}

### Lineage
- pipeline execution: `{facts.pipeline_execution}`
- training data:
{data}
- image: `{facts.image}` (digest `{facts.image_digest}`)
- artifact: `{facts.artifact}` ({facts.artifact_checksum or "checksum unknown"})
"""
    return PullRequest("promote/dev", f"Promote model package version {facts.version} to dev", body)


def prod_pull_request(evidence: Evidence, version: int, previous: Optional[int]) -> PullRequest:
    body = f"""## Pin model package version {version} in prod

dev served `{evidence.arn}` unchanged since {evidence.served_since} and met every SLO over the last
{evidence.soak_hours:g} h (measured {evidence.measured_at}). prod: `endpoint.modelPackageVersion`
{previous if previous is not None else "absent"} -> {version}.

### Soak evidence
{table(evidence)}

The same evidence is `{EVIDENCE_PATH}` in this pull request (and the workflow's artifact); the prod deploy
re-checks that it is fresh, passed and about the ARN it deploys
(`python -m tools.promote --check-evidence prod`), then waits for the `production` approval.
"""
    return PullRequest("promote/prod", f"Promote model package version {version} to prod (soaked in dev)", body)


def rollback_pull_request(evidence: Evidence, version: int, current: int, reason: str) -> PullRequest:
    body = f"""## EMERGENCY ROLLBACK: prod back to model package version {version}

prod pins version {current}; this pull request puts it back on `{evidence.arn}`, the version prod served
before (its pin in Git history). No dev soak is required for a version prod already served; the deploy
still waits for the `production` approval.

- reason: {reason or "(none given)"}
- requested: {evidence.measured_at}
- evidence: `{EVIDENCE_PATH}` (kind `rollback`), re-checked by the deploy against prod's pin history
"""
    return PullRequest("rollback/prod", f"EMERGENCY ROLLBACK: prod to model package version {version}", body)


def restore_pull_request(stack: str, serving_arn: str, pinned: int, version: int, alarm: str, detail: str) -> PullRequest:
    body = f"""## AWS rolled {stack}'s release back: Git now says what serves

`Pulumi.{stack}.yaml` pins model package version {pinned}, but the release was rolled back when the alarm
**`{alarm}`** fired, and {stack} serves `{serving_arn}` (version {version}). This pull request restores the
pin to version {version} so the next deploy does not retry the failed release unreviewed.

- alarm: `{alarm}`
- what AWS reported: {detail}

To try version {pinned} again, fix the cause and open a new promotion.
"""
    return PullRequest(f"restore/{stack}", f"Restore {stack}'s pin to model package version {version} (rolled back by {alarm})", body)
