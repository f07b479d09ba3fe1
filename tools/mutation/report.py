"""The run as text (for a person) and JSON (for a machine or the next run's comparison)."""

from __future__ import annotations

import os
from typing import Any

from tools.mutation.run import KILLED, SURVIVED, TIMEOUT, TargetRun


def _score(run: TargetRun) -> str:
    return "n/a" if run.score is None else f"{run.score:.0%}"


def as_text(runs: list[TargetRun], header: dict[str, Any]) -> str:
    lines = [f"mutation run {header['date']} at {header['commit']}, load {header['load']} (after: {header.get('load_after', '-')})"]
    for run in runs:
        equivalent = sum(o.equivalent is not None for o in run.survivors)
        lines.append(
            f"\n{run.target.name}: {len(run.outcomes)} of {run.total} mutants, {run.count(KILLED)} killed, "
            f"{run.count(TIMEOUT)} timed out, {run.count(SURVIVED)} survived ({equivalent} listed as equivalent): "
            f"score {_score(run)}{' (interrupted)' if run.interrupted else ''}\n  tests: {run.command} (baseline {run.baseline_seconds:.1f}s)"
        )
        for outcome in run.survivors:
            note = f"  [equivalent: {outcome.equivalent}]" if outcome.equivalent else ""
            lines.append(f"  SURVIVED {outcome.mutant.where}: {outcome.mutant.change}{note}")
    return "\n".join(lines) + "\n"


def as_json(runs: list[TargetRun], header: dict[str, Any]) -> dict[str, Any]:
    return {
        **header,
        "targets": [
            {
                "name": run.target.name,
                "files": list(run.target.files),
                "functions": list(run.target.functions),
                "command": run.command,
                "baseline_seconds": round(run.baseline_seconds, 1),
                "mutants": run.total,
                "run": len(run.outcomes),
                "interrupted": run.interrupted,
                "killed": run.count(KILLED),
                "timeout": run.count(TIMEOUT),
                "survived": run.count(SURVIVED),
                "equivalent": sum(o.equivalent is not None for o in run.survivors),
                "score": None if run.score is None else round(run.score, 4),
                "killed_by": [
                    {"where": o.mutant.where, "mutated": o.mutant.mutated, "failed": o.failed} for o in run.outcomes if o.status == KILLED
                ],
                "survivors": [
                    {
                        "where": o.mutant.where,
                        "scope": o.mutant.scope,
                        "original": o.mutant.original,
                        "mutated": o.mutant.mutated,
                        "command": run.command,
                        "equivalent": o.equivalent,
                    }
                    for o in run.survivors
                ],
            }
            for run in runs
        ],
    }


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())
