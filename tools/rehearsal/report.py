"""What the rehearsal (`make demo`) found, and how it is shown: the report's data and its text."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from tools.repository import ROOT

DASHBOARD_HINT = "make dashboard, then open http://127.0.0.1:8501 (registry, live health and a prediction form)"
FALLBACK_ENDPOINT = "churn-endpoint"


@dataclass(frozen=True)
class ProgramTree:
    """The program whose stacks, pipeline definition and containers are rehearsed (this checkout,
    or a changed copy of it)."""

    root: Path = ROOT

    @property
    def model_dir(self) -> Path:
        return self.root / "containers" / "model"

    @property
    def model_bin(self) -> Path:
        return self.model_dir / "bin"

    @property
    def api_dir(self) -> Path:
        return self.root / "containers" / "api"


def on_path(folder: Path) -> None:
    """The container packages (churn, the Lambda's modules) import from their own folders, as in their images."""
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))


@dataclass
class StackResult:
    stack: str
    preview: str = "not run"
    preview_ok: bool = False
    min_auc: Optional[float] = None
    model_version: Optional[int] = None
    gate_passed: Optional[bool] = None
    gate: str = "not evaluated"
    """The pipeline definition's condition step, evaluated: condition, values, selected branch."""


@dataclass
class Report:
    workdir: str
    kept: bool = False
    stacks: list[StackResult] = field(default_factory=list)
    cost_lines: list[str] = field(default_factory=list)
    rows: int = 0
    split: str = ""
    trees: Optional[int] = None
    auc: Optional[float] = None
    step_seconds: dict[str, float] = field(default_factory=dict)
    endpoint_name: str = FALLBACK_ENDPOINT
    requests: int = 0
    rows_per_request: int = 0
    workers: int = 0
    answered: int = 0
    failed: list[str] = field(default_factory=list)
    latency_ms: dict[str, float] = field(default_factory=dict)
    mean_churn: dict[str, float] = field(default_factory=dict)
    actual_churn: dict[str, float] = field(default_factory=dict)
    model_version: Optional[str] = None
    variant: Optional[str] = None
    dashboard: str = DASHBOARD_HINT
    problems: list[str] = field(default_factory=list)
    seal: list[str] = field(default_factory=list)
    promotion: list[str] = field(default_factory=list)
    loop: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def failure_line(self) -> str:
        """One line saying what failed (empty when nothing did)."""
        if not self.problems:
            return ""
        more = f" (and {len(self.problems) - 1} more problem(s), listed in the report)" if len(self.problems) > 1 else ""
        return f"rehearsal FAILED: {self.problems[0]}{more}"


def render(report: Report) -> str:
    out = ["", "Rehearsal report", "================", ""]
    out.append("GitOps check (offline preview, real program + policy pack):")
    for s in report.stacks:
        first, *rest = s.preview.splitlines()
        out.append(f"  {'✅' if s.preview_ok else '❌'} {first}")
        out += [f"       {line}" for line in rest]
    if report.cost_lines:
        out += [f"  {line}" for line in report.cost_lines]
    else:
        out.append("  (the preview printed no cost estimate)")
    out.append("")
    out.append("Training pipeline (containers/model entry points; the gate is the deployed definition's condition step):")
    if report.auc is not None:
        seconds = ", ".join(f"{k} {v:.1f}s" for k, v in report.step_seconds.items())
        out.append(f"  {report.rows} rows -> {report.split}; {report.trees} trees; {seconds}")
        out.append(f"  test AUC {report.auc:.4f}")
        for s in report.stacks:
            verdict = "PASS" if s.gate_passed else "FAIL"
            out.append(f"  gate {s.stack} (training.minAuc {s.min_auc}): {verdict}: {s.gate}")
    else:
        out.append("  not run")
    if report.seal:
        out += ["", "Sealed model bytes (SealModel of the definition, bin/seal against moto's S3):"]
        out += [f"  {line}" for line in report.seal]
    if report.promotion:
        out += ["", "Promotion by identity (shared registry in moto, tools.promote.cli, prod's offline preview):"]
        out += [f"  {line}" for line in report.promotion]
    if report.loop:
        out += [
            "",
            "Closed loop (approval -> dev PR, dev soak in CloudWatch -> prod PR with evidence, alarm restore of endpoint and API, rollback; moto):",
        ]
        out += [f"  {line}" for line in report.loop]
    out.append("")
    out.append("Serving (API Gateway v2 event -> predict.handler -> botocore -> runtime shim -> bin/serve):")
    if report.latency_ms:
        out.append(
            f"  endpoint {report.endpoint_name}, model version {report.model_version}, variant {report.variant}, "
            f"{report.workers} server worker(s)"
        )
        out.append(f"  {report.answered}/{2 * report.requests} requests of {report.rows_per_request} rows answered 200")
        latency = report.latency_ms
        out.append(f"  latency per request: p50 {latency['p50']:.1f} ms, p99 {latency['p99']:.1f} ms, max {latency['max']:.1f} ms")
        for name in ("clean", "drifted"):
            if name in report.mean_churn:
                out.append(
                    f"  mean predicted churn, {name:<7}: {report.mean_churn[name]:.3f} (actual rate {report.actual_churn[name]:.3f})"
                )
    else:
        out.append("  not run")
    where = report.workdir if report.kept else "removed at exit (keep it with --workdir DIR)"
    out += ["", f"Dashboard: {report.dashboard}", f"Work directory (logs, model, preview JSON): {where}", ""]
    if report.problems:
        out.append("Problems:")
        out += [f"  - {p}" for p in report.problems]
    else:
        out.append("Result: every step ran, every check passed.")
    return "\n".join(out) + "\n"
