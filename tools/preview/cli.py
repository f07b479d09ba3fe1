"""Offline preview: the real program under Pulumi mocks, judged by the real policy pack.

    python -m tools.preview --stack dev|prod [--stack ...] [--policy-pack policies]
                            [--policy-config FILE] [--set key=value ...] [--json FILE]
                            [--stack-outputs STACK=FILE ...] [--first-preview] [--debug]

For each stack, runs `__main__.py` with the stack's config in a fresh process under mocks,
records every resource, then starts the policy pack as the engine starts an analyzer plugin and
drives it over the Analyzer gRPC protocol (Analyze per resource, AnalyzeStack for the stack).

A stack that reads another through a StackReference (`registry.stack`) gets that stack's outputs:
from --stack-outputs STACK=FILE (what `pulumi stack output --json` prints), else from the same run
when that stack is previewed too (its program runs first), else that stack's program is run first,
as shipped (without --set) and unshown.
Exit code: 0 no mandatory violation, 1 at least one, 2 invalid config or a program error.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional

from tools.offline.stack_files import StackFileError, stack_names
from tools.preview.cost import COST_ESTIMATE_POLICY, COST_POLICY, parse_cost_estimate
from tools.preview.report import render, summary, summary_line, to_json
from tools.preview.result import EXIT_BLOCKED, EXIT_ERROR, EXIT_OK, StackPreview
from tools.preview.runs import ROOT, ProgramRuns, run_stack

# The CLI; the stacks' runs are in tools.preview.runs, the report in tools.preview.report, the cost
# estimate's parsing in tools.preview.cost. Importers use these names from tools.preview.cli.
__all__ = [
    "COST_ESTIMATE_POLICY",
    "COST_POLICY",
    "EXIT_BLOCKED",
    "EXIT_ERROR",
    "EXIT_OK",
    "ROOT",
    "ProgramRuns",
    "StackPreview",
    "main",
    "parse_cost_estimate",
    "render",
    "run_stack",
    "summary",
    "summary_line",
    "to_json",
]


def _json_path(template: Path, stack: str, several: bool) -> Path:
    if "{stack}" in str(template):
        return Path(str(template).replace("{stack}", stack))
    return template.with_name(f"{template.stem}.{stack}{template.suffix}") if several else template


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.preview", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stack", action="append", help="stack to preview (repeatable; default: every Pulumi.<stack>.yaml)")
    parser.add_argument("--policy-pack", type=Path, default=ROOT / "policies", help="policy pack folder (default: policies)")
    parser.add_argument("--policy-config", type=Path, help="policy config file (default: <pack>/config/<stack>.json when it exists)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key (dotted path; value read as YAML; null removes it)",
    )
    parser.add_argument(
        "--json", type=Path, help="write the result as JSON ('{stack}' in the name is replaced; with several stacks, .<stack> is added)"
    )
    parser.add_argument(
        "--stack-outputs",
        action="append",
        default=[],
        metavar="STACK=FILE",
        help="outputs of a stack that a StackReference reads (the JSON `pulumi stack output --json` prints); default: run that stack's program first",
    )
    parser.add_argument(
        "--first-preview",
        action="store_true",
        help="preview as `pulumi preview` does before the stack exists (or when an image is rebuilt): ids and computed outputs of resources are unknown",
    )
    parser.add_argument("--program-dir", type=Path, default=ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--debug", action="store_true", help="show tracebacks of program errors")
    args = parser.parse_args(argv)
    args.program_dir = args.program_dir.resolve()
    args.policy_pack = args.policy_pack.resolve()

    stacks = args.stack or stack_names(args.program_dir)
    if not stacks:
        print(f"no Pulumi.<stack>.yaml in {args.program_dir}", file=sys.stderr)
        return EXIT_ERROR
    stack_outputs: dict[str, Path] = {}
    for spec in args.stack_outputs:
        ref, sep, path = spec.partition("=")
        if not sep or not ref or not path:
            raise StackFileError(f"--stack-outputs {spec!r}: expected STACK=FILE, e.g. dev=dev-outputs.json")
        if not Path(path).is_file():
            raise StackFileError(f"--stack-outputs {spec!r}: no such file {path}")
        stack_outputs[ref] = Path(path).resolve()
    programs = ProgramRuns(args, stack_outputs, stacks)
    programs.check_cycles(stacks)
    try:
        with ThreadPoolExecutor(max_workers=len(stacks)) as pool:
            previews = list(pool.map(lambda s: run_stack(s, args, programs), stacks))
    finally:
        programs.close()

    for preview in previews:
        print(render(preview))
        if args.json:
            path = _json_path(args.json, preview.stack, len(previews) > 1)
            path.write_text(json.dumps(to_json(preview), indent=2) + "\n")
    return max(p.exit_code for p in previews)
