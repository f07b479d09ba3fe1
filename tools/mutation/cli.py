"""Mutation check: break the code one small step at a time and see whether its tests notice.

    python -m tools.mutation [--target NAME ...] [--max-mutants N] [--timeout S] [--json FILE]
    python -m tools.mutation --list          the targets, their files and test commands
    python -m tools.mutation --equivalents   the survivors documented as equivalent (docs/testing.md)

Each target (tools/mutation/targets.py) is mutated with mutmut 2.5.1's operators in a scratch copy
of the checkout (never the working tree), one mutant at a time, its test command run on each. The
report gives per target the mutants run, killed, timed out and survived, the score (detected out of
run, the survivors documented as equivalent left out) and each survivor: file:line, the change,
the test command. Slow: run it niced, one target at a time, on a shared machine (`make mutation`).

Exit codes: 0 the run finished (whatever the score); 1 a target's tests fail before any mutation;
2 bad arguments.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, Optional, Sequence

from tools.mutation import equivalents, report
from tools.mutation.run import BaselineFailed, TargetRun, run_target, scratch_copy
from tools.mutation.targets import TARGETS, select
from tools.repository import ROOT


def _positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
        return value

    return parse


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tools.mutation", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--target", action="append", default=[], metavar="NAME", help="a target or a group (repeatable; default all)")
    p.add_argument("--max-mutants", type=_positive(int), metavar="N", help="at most N mutants per target, spread over its files")
    p.add_argument(
        "--timeout",
        type=_positive(float),
        metavar="S",
        help="seconds a mutant's test run may take (default 3x the unmutated run, at least 60)",
    )
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the report as JSON")
    p.add_argument(
        "--survivors-of", type=Path, metavar="FILE", help="run only the survivors of an earlier run's JSON report (after new tests)"
    )
    p.add_argument("--list", action="store_true", help="list the targets and exit")
    p.add_argument("--equivalents", action="store_true", help="print the table of documented equivalent mutants and exit")
    p.add_argument("--quiet", action="store_true", help="no line per mutant while running")
    return p


def _commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True).stdout
    return f"{head}{'+uncommitted' if dirty else ''}"


def _survivors(report_file: Path) -> set[tuple[str, str, str]]:
    found = set()
    for target in json.loads(report_file.read_text())["targets"]:
        for survivor in target["survivors"]:
            found.add((survivor["where"].rpartition(":")[0], survivor["original"].strip(), survivor["mutated"].strip()))
    return found


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parser().parse_args(argv)
    if args.equivalents:
        sys.stdout.write(equivalents.markdown_table())
        return 0
    try:
        targets = select(args.target)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.list:
        for t in TARGETS:
            narrowed = f" (only {', '.join(t.functions)})" if t.functions else ""
            print(f"{t.name} [{t.group}]: {' '.join(t.files)}{narrowed}\n    {' '.join(t.command())}")
        return 0
    header = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
        "load": report.load(),
    }
    progress = (lambda _: None) if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    try:
        only = _survivors(args.survivors_of) if args.survivors_of else None
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"error: --survivors-of {args.survivors_of}: expected a JSON report of this tool ({error!r})", file=sys.stderr)
        return 2
    scratch = scratch_copy(ROOT)
    runs: list[TargetRun] = []
    try:
        for target in targets:
            runs.append(run_target(target, scratch, args.max_mutants, args.timeout, progress, only))
            if runs[-1].interrupted:
                break
    except BaselineFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        header["load_after"] = report.load()
        sys.stdout.write(report.as_text(runs, header))
        if args.json:
            args.json.write_text(json.dumps(report.as_json(runs, header), indent=2) + "\n")
    return 0
