"""The whole system rehearsed on this machine, with the real code at every step (`make demo`).

    python -m tools.rehearsal [--stack dev --stack prod] [--rows N] [--requests N] [--quick]
                              [--set key=value ...] [--workdir DIR] [--json FILE] [--program-dir DIR]
                              [--soak-fault errors|latency|drift|quality]

1. GitOps check: the offline preview of each stack (the real program under Pulumi mocks, judged by
   the real policy pack over the Analyzer protocol, with its cost estimate), as a pull request runs it.
2. Training pipeline: the model image's own entry points (containers/model/bin), run as SageMaker
   runs them with its /opt/ml layout moved into a work directory: generate-data -> preprocess ->
   train (the pipeline's hyper-parameters) -> evaluate, then the pipeline's own condition step
   (`CheckAuc` of the definition each stack deploys, as its preview recorded it) evaluated on the
   evaluation report: the branch it selects must register the model (tools/rehearsal/gate.py). Its
   SealModel step then runs `bin/seal` with the definition's arguments against moto's S3, and a
   second write of other bytes to the sealed key must be refused (tools/rehearsal/seal.py).
3. Serving: `bin/serve` (gunicorn + uvicorn workers) with the trained model; tools/rehearsal/runtime_shim.py
   plays SageMaker Runtime; the prediction Lambda's real handler (containers/api/predict.py) answers
   API Gateway v2 events through its real botocore client, for clean and for drifted customers.
4. The closed promotion loop (tools/rehearsal/loop.py, with prod): approval -> dev PR body, dev's
   soak in moto's CloudWatch -> the prod PR with its evidence table (or, with --soak-fault, the
   refusal naming the SLO: exit 1), the deploy's evidence check, no restore PR while prod's promotion
   is merged but not deployed, the restore PR after alarms rolled back the endpoint's and the API's
   releases, and an emergency rollback PR.
5. A short report: AUC and gate verdicts, prediction latency (p50/p99 through handler, shim and
   server), mean predicted churn on clean vs drifted data, and how to open the dashboard.

Every process it starts runs in its own process group and is stopped on exit, Ctrl-C included.
Exit code 0 when every step ran, every preview passed, the model passed every stack's gate and every
prediction was answered; 1 otherwise, with one line on stderr saying what failed (the report lists
every problem).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any, Optional

from tools import processes
from tools.rehearsal.loop import FAULTS, rehearse_loop
from tools.rehearsal.pipeline import RehearsalError, finish_preview, judge_gates, run_pipeline, stack_settings, start_preview
from tools.rehearsal.promotion import gating_preview, rehearse_promotion
from tools.rehearsal.report import ROOT, ProgramTree, Report, render
from tools.rehearsal.seal import seal_model
from tools.rehearsal.serving import serve_and_predict


def rehearse(args: argparse.Namespace, work: Path) -> Report:
    tree = ProgramTree(args.program_dir)
    report = Report(workdir=str(work), kept=args.workdir is not None)
    report.stacks = stack_settings(tree, args.stack, args.overrides)
    # The preview and the pipeline are independent: they run side by side.
    preview = start_preview(tree, args.stack, args.overrides, work)
    try:
        hyperparameters = {"num_round": "100"} if args.quick else {}
        env = run_pipeline(tree, work, args.rows, hyperparameters, report)
    except BaseException:
        processes.stop(preview)
        raise
    previews = finish_preview(preview, report, work)
    judge_gates(report, previews, work)
    # Only a model that passed a gate is sealed, as the definition's branch says.
    passed = next((s.stack for s in report.stacks if s.gate_passed), None)
    if passed is not None:
        seal_model(tree, env, work, report, gating_preview(previews, passed) or {})
    if "prod" in args.stack:  # promotion to prod by identity (tools/rehearsal/promotion.py)
        promotion = rehearse_promotion(tree.root, work)
        report.promotion, report.problems = promotion.lines, [*report.problems, *promotion.problems]
        loop = rehearse_loop(tree.root, work, args.soak_fault)  # the closed loop (tools/rehearsal/loop.py)
        report.loop = loop.lines
        # A refused soak is the first thing said: the one line on stderr names the SLO that failed.
        report.problems = [*loop.problems, *report.problems] if loop.refusal else [*report.problems, *loop.problems]
    if any(s.gate_passed for s in report.stacks):
        serve_and_predict(tree, env, work, report, args.requests, args.rows_per_request, args.workers)
    else:
        report.problems.append("no stack's pipeline registers the model, so nothing is served")
    return report


def _terminate(signum: int, frame: Any) -> None:
    # SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C, so every child is stopped on the way out.
    raise KeyboardInterrupt


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.rehearsal", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stack", action="append", choices=("dev", "prod"), help="stacks to preview and gate (default: dev and prod)")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="config override, as tools.preview takes it"
    )
    parser.add_argument("--rows", type=int, help="rows of generated training data (default 5000; --quick 2000)")
    parser.add_argument("--requests", type=int, help="prediction requests per dataset (default 200; --quick 40)")
    parser.add_argument("--rows-per-request", type=int, default=10, help="customers per prediction request (default 10)")
    parser.add_argument("--workers", type=int, help="model server workers (default 2; --quick 1)")
    parser.add_argument(
        "--soak-fault", choices=FAULTS, help="inject a fault into dev's soak (closed loop): the prod promotion must refuse, naming the SLO"
    )
    parser.add_argument("--quick", action="store_true", help="smaller data, fewer boosting rounds and requests (tests)")
    parser.add_argument("--workdir", type=Path, help="keep everything here (default: a temporary directory, removed)")
    parser.add_argument("--json", type=Path, help="also write the report as JSON")
    parser.add_argument("--program-dir", type=Path, default=ROOT, help=argparse.SUPPRESS)  # a changed copy (tests)
    args = parser.parse_args(argv)
    args.stack = args.stack or ["dev", "prod"]
    args.program_dir = args.program_dir.resolve()
    args.rows = args.rows or (2000 if args.quick else 5000)
    args.requests = args.requests or (40 if args.quick else 200)
    args.workers = args.workers or (1 if args.quick else 2)
    for name in ("rows", "requests", "rows_per_request", "workers"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")

    signal.signal(signal.SIGTERM, _terminate)
    try:
        with contextlib.ExitStack() as stack:
            if args.workdir:
                args.workdir.mkdir(parents=True, exist_ok=True)
                work = args.workdir.resolve()
            else:
                work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rehearsal-")))
            report = rehearse(args, work)
            sys.stdout.write(render(report))
            if args.json:
                args.json.write_text(json.dumps({**asdict(report), "ok": report.ok}, indent=2) + "\n")
    except (RehearsalError, processes.StepFailed) as exc:
        print(f"rehearsal FAILED: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("rehearsal interrupted; its processes were stopped", file=sys.stderr)
        return 130
    if not report.ok:
        print(report.failure_line(), file=sys.stderr)
        return 1
    return 0
