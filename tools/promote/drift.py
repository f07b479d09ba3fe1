"""Drift between Git and AWS, told apart from the churn a healthy system makes.

    python -m tools.promote.drift PREVIEW_JSON --stack S [--body FILE] [--release-in-progress]

Reads `pulumi preview --refresh --expect-no-changes --json` (run with the base branch's policy pack)
and sorts every changed property into expected churn (an autoscaled or scheduled count, a CodeDeploy
alias weight while a release runs) or real drift (anything else: a console edit, an endpoint that AWS
rolled back to an older configuration, an API alias moved outside a release, a deleted resource).
Writes the body of the stack's drift issue.
Exit codes: 0 no real drift, 1 real drift, 2 unreadable input.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

SAME_OPS = ("same", "read")


@dataclass(frozen=True)
class Churn:
    type: str
    path: str
    why: str
    during_release_only: bool = False


# (resource type, property path pattern with [*] for list indexes): why this change is expected.
EXPECTED = (
    Churn("aws:ecs/service:Service", "desiredCount", "the dashboard's scheduled scaling moves its task count"),
    Churn(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "productionVariants[*].initialInstanceCount",
        "autoscaling moves the instance count",
    ),
    Churn("aws:appautoscaling/target:Target", "*Capacity", "autoscaling bounds read back mid-scaling"),
    Churn("aws:lambda/alias:Alias", "routingConfig*", "CodeDeploy shifts alias weights during a release", during_release_only=True),
    Churn("aws:lambda/alias:Alias", "functionVersion", "CodeDeploy moves the alias during a release", during_release_only=True),
)
HINTS = {
    ("aws:sagemaker/endpoint:Endpoint", "endpointConfigName"): (
        "the endpoint serves another configuration than Git: a blue/green update rolled back by an alarm? "
        "run `python -m tools.promote --restore <stack>` (drift.yml does) to pin what serves"
    ),
    ("aws:lambda/alias:Alias", "functionVersion"): (
        "the API's alias serves another version than Pulumi recorded, outside a release: moved by hand, or a release "
        "rolled back? `python -m tools.promote --restore <stack>` (drift.yml runs it) says whose code it serves and, when "
        "CodeDeploy rolled back the release of HEAD's code, writes containers/api back to it"
    ),
}


@dataclass(frozen=True)
class Change:
    urn: str
    type: str
    op: str
    path: str
    expected: Optional[str]
    hint: str = ""


def resource_type(step: dict[str, Any]) -> str:
    for state in ("newState", "oldState"):
        kind = (step.get(state) or {}).get("type")
        if kind:
            return str(kind)
    parts = str(step.get("urn", "")).split("::")
    return parts[2].split("$")[-1] if len(parts) > 3 else "?"


def _normal(path: str) -> str:
    return re.sub(r"\[\d+\]", "[*]", path)


def _matches(path: str, pattern: str) -> bool:
    """`*` is any text; everything else, brackets included, is literal (fnmatch reads [*] as a class)."""
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), path) is not None


def classify_step(step: dict[str, Any], release_in_progress: bool) -> list[Change]:
    op = str(step.get("op", "same"))
    if op in SAME_OPS:
        return []
    kind, urn = resource_type(step), str(step.get("urn", ""))
    if op not in ("update", "refresh"):
        # Created, deleted or replaced outside Git: never churn.
        return [Change(urn, kind, op, "(the whole resource)", None)]
    paths = list((step.get("detailedDiff") or {}).keys()) or list(step.get("diffReasons") or []) or ["(unknown property)"]
    changes = []
    for path in paths:
        normal = _normal(path)
        expected = next(
            (c.why for c in EXPECTED if c.type == kind and _matches(normal, c.path) and (release_in_progress or not c.during_release_only)),
            None,
        )
        changes.append(Change(urn, kind, op, path, expected, HINTS.get((kind, normal.split("[", 1)[0].split(".", 1)[0]), "")))
    return changes


def release_running(steps: list[dict[str, Any]]) -> bool:
    """A CodeDeploy release is shifting traffic: a refreshed Lambda alias routes weight to a second version."""
    for step in steps:
        if resource_type(step) != "aws:lambda/alias:Alias":
            continue
        outputs = (step.get("newState") or {}).get("outputs") or {}
        routing = outputs.get("routingConfig") or {}
        if isinstance(routing, dict) and routing.get("additionalVersionWeights"):
            return True
    return False


def classify(preview: dict[str, Any], release_in_progress: bool = False) -> list[Change]:
    steps = preview.get("steps")
    if not isinstance(steps, list):
        raise ValueError("no 'steps' list: expected the JSON of `pulumi preview --json`")
    running = release_in_progress or release_running(steps)
    return [change for step in steps for change in classify_step(step, running)]


def issue_body(stack: str, changes: list[Change], run_url: str = "") -> str:
    real = [c for c in changes if c.expected is None]
    churn = [c for c in changes if c.expected is not None]
    out = [f"## Drift in `{stack}`: {len(real)} real change(s), {len(churn)} expected", ""]
    if run_url:
        out += [f"Found by {run_url} (`pulumi preview --refresh --expect-no-changes`, base branch's policy pack).", ""]
    if real:
        out += ["### Real drift (Git no longer says what runs)", "| resource | type | op | property | note |", "|---|---|---|---|---|"]
        out += [f"| `{c.urn.rsplit('::', 1)[-1]}` | `{c.type}` | {c.op} | `{c.path}` | {c.hint or '-'} |" for c in real]
        out.append("")
    else:
        out += ["No real drift: Git says what runs.", ""]
    if churn:
        out += ["### Expected churn (not drift)", "| resource | property | why |", "|---|---|---|"]
        out += [f"| `{c.urn.rsplit('::', 1)[-1]}` | `{c.path}` | {c.expected} |" for c in churn]
    return "\n".join(out) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.promote.drift", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("preview", type=Path, help="the JSON `pulumi preview --refresh --json` printed")
    parser.add_argument("--stack", required=True, help="the stack the preview is of")
    parser.add_argument("--body", type=Path, help="write the issue body here (default: stdout)")
    parser.add_argument(
        "--release-in-progress", action="store_true", help="a CodeDeploy release runs (also found from the alias's refreshed weights)"
    )
    parser.add_argument("--run-url", default="", help="the workflow run that found it")
    args = parser.parse_args(argv)
    try:
        changes = classify(json.loads(args.preview.read_text()), args.release_in_progress)
    except (OSError, ValueError) as exc:
        print(f"error: {args.preview}: {exc}", file=sys.stderr)
        return 2
    body = issue_body(args.stack, changes, args.run_url)
    if args.body:
        args.body.write_text(body)
    else:
        sys.stdout.write(body)
    return 1 if any(c.expected is None for c in changes) else 0


if __name__ == "__main__":
    sys.exit(main())
