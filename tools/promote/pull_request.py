"""The titles, branches and bodies of the promotion pull requests (the workflows pass them to `gh`).

One branch per purpose, so a newer approval or soak updates the open pull request instead of opening
another: promote/dev, promote/prod, rollback/prod, restore/<stack>.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from tools.promote.api_code import ApiRollback
from tools.promote.endpoint_rollback import EndpointRollback
from tools.promote.evidence import Evidence, iso, table
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


@dataclass(frozen=True)
class Alarm:
    name: str
    detail: str
    """What AWS reported: its state and reason."""


@dataclass(frozen=True)
class EndpointRestore:
    rollback: EndpointRollback
    alarm: Alarm


@dataclass(frozen=True)
class ApiRestore:
    rollback: ApiRollback
    alarm: Alarm
    changed: tuple[str, ...]
    """The working tree's changes under containers/api (restore_folder)."""


def _endpoint_section(stack: str, e: EndpointRestore) -> str:
    r = e.rollback
    return f"""### Endpoint: model package version {r.version}

`Pulumi.{stack}.yaml` pins model package version {r.pinned} (since commit `{r.pin.commit[:12]}`, {iso(r.pin.since)}), but
SageMaker rolled its release back when the alarm **`{e.alarm.name}`** fired, and {stack} serves `{r.serving_arn}`
(version {r.version}). This pull request restores the pin to version {r.version} so the next deploy does not retry
the failed release unreviewed.

- rolled-back release: endpoint configuration `{r.release.config_name}` (created {iso(r.release.created)}), recorded by
  the release: {_cell(r.reason)}
- alarm: `{e.alarm.name}`
- what AWS reports now: {_cell(e.alarm.detail)}

To try version {r.pinned} again, fix the cause and open a new promotion.
"""


def _api_section(a: ApiRestore) -> str:
    r = a.rollback
    files = "\n".join(f"  - {_cell(change)}" for change in a.changed) or "  - (the working tree already held it)"
    return f"""### Prediction API: the code of commit {r.commit.sha[:12]}

CodeDeploy rolled back the release of `containers/api` at HEAD (code sha256 `{r.head_digest}`) when the alarm
**`{a.alarm.name}`** fired: `{r.names.label}` serves version {r.version}, whose code (sha256 `{r.digest}`, named in
its description) is `containers/api` as of commit `{r.commit.sha}` ({r.commit.date}: {_cell(r.commit.subject)}).
This pull request writes `containers/api` back to that content so the next deploy does not retry the failed
code unreviewed.

- CodeDeploy deployment: `{r.deployment.deployment_id}` (version {r.version} -> {r.deployment.target_version}): {_cell(r.deployment.account)}
- alarm: `{a.alarm.name}`
- what AWS reported: {_cell(a.alarm.detail)}
- files:
{files}

`containers/api` is one folder for every stack: once merged, each stack's next deploy releases this code again
(a new Lambda version with the same code). To ship the newer code, fix the cause and open a new pull request.
"""


def restore_pull_request(stack: str, endpoint: Optional[EndpointRestore], api: Optional[ApiRestore]) -> PullRequest:
    """One pull request for everything an alarm rolled back in the stack: the endpoint's pin, the API's code, or both."""
    if endpoint is None and api is None:
        raise ValueError("a restore pull request needs the endpoint's or the API's rollback")
    sections = [_endpoint_section(stack, endpoint)] if endpoint else []
    sections += [_api_section(api)] if api else []
    body = f"## AWS rolled {stack}'s release back: Git now says what serves\n\n" + "\n".join(sections)
    restored = [f"pin to model package version {endpoint.rollback.version}"] if endpoint else []
    restored += [f"API code to {api.rollback.commit.sha[:12]}"] if api else []
    alarms = dict.fromkeys(x.alarm.name for x in (endpoint, api) if x is not None)
    return PullRequest(f"restore/{stack}", f"Restore {stack}'s {' and '.join(restored)} (rolled back by {', '.join(alarms)})", body)
