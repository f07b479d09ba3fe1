"""Rehearsal steps 1 and 2: the offline preview of each stack, the training pipeline's entry points,
and the pipeline's own quality gate (tools/rehearsal/gate.py) judged on what they produced."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any, Sequence

from tools import processes
from tools.rehearsal.gate import GateError, evaluate_gate
from tools.rehearsal.promotion import gating_preview
from tools.rehearsal.report import FALLBACK_ENDPOINT, ROOT, ProgramTree, Report, StackResult

STEP_TIMEOUT = 300


class RehearsalError(Exception):
    """A step could not run; the message names it and shows the end of its log."""


# ---- 1. the offline preview ----------------------------------------------------------------------


def start_preview(tree: ProgramTree, stacks: Sequence[str], overrides: Sequence[str], work: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "tools.preview", "--json", str(work / "preview" / "preview.json"), "--program-dir", str(tree.root)]
    for stack in stacks:
        command += ["--stack", stack]
    for override in overrides:
        command += ["--set", override]
    (work / "preview").mkdir(parents=True, exist_ok=True)
    return processes.start(command, {**os.environ, "PYTHONPATH": str(ROOT)}, work / "preview.log", ROOT)


def finish_preview(process: subprocess.Popen, report: Report, work: Path) -> dict[str, dict[str, Any]]:
    """Waits for the preview; records each stack's verdict; returns each stack's preview JSON."""
    previews: dict[str, dict[str, Any]] = {}
    try:
        code = process.wait(timeout=STEP_TIMEOUT)
    except subprocess.TimeoutExpired:
        processes.stop(process)
        report.problems.append(f"the offline preview did not finish within {STEP_TIMEOUT} s")
        return previews
    output = processes.tail(work / "preview.log", 1_000_000)
    several = len(report.stacks) > 1
    for result in report.stacks:
        path = work / "preview" / (f"preview.{result.stack}.json" if several else "preview.json")
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            result.preview = f"{result.stack}: no result; the preview said:\n{output[-1500:]}"
            report.problems.append(f"the preview of {result.stack} did not run")
            continue
        previews[result.stack] = data
        summary = data.get("summary") or {}
        result.preview_ok = bool(summary.get("ok"))
        if summary.get("error"):
            result.preview = f"{result.stack}: ERROR: {summary['error']}"
        else:
            verdict = "OK" if result.preview_ok else "BLOCKED"
            result.preview = (
                f"{result.stack}: {verdict}: {summary.get('resources')} resources, {summary.get('policies')} policies, "
                f"{summary.get('mandatoryViolations')} mandatory violation(s), {summary.get('advisoryViolations')} advisory"
            )
            blocking = sorted({v["policy"] for v in data.get("violations") or [] if v.get("level") == "mandatory"})
            if blocking:
                result.preview += f" ({', '.join(blocking)})"
        endpoint = (data.get("outputs") or {}).get("endpointName")
        if endpoint and report.endpoint_name == FALLBACK_ENDPOINT:
            report.endpoint_name = endpoint
        if not result.preview_ok:
            report.problems.append(f"the preview of {result.stack} did not pass ({result.preview.splitlines()[0]})")
    # The policy pack prints one "Cost estimate (<stack>): $X/month ..." line per stack.
    report.cost_lines = [line.strip() for line in output.splitlines() if line.strip().lower().startswith("cost estimate")]
    if code not in (0, 1, 2):
        report.problems.append(f"the offline preview exited with {code}; log {work / 'preview.log'}")
    return previews


# ---- 2. the training pipeline --------------------------------------------------------------------


def stack_settings(tree: ProgramTree, stacks: Sequence[str], overrides: Sequence[str]) -> list[StackResult]:
    """Each stack's quality gate and pinned version, from its config as the program validates it."""
    from components.config.stack import PROJECT, ConfigError, parse_stack_config
    from tools.offline.stack_files import StackFileError, apply_overrides, engine_config, stack_config

    def parsed(stack: str, overrides: Sequence[str]):
        try:
            raw = apply_overrides(stack_config(tree.root, stack), overrides, namespace=PROJECT)
            return parse_stack_config(engine_config(raw), project=PROJECT, stack=stack)
        except (StackFileError, ConfigError) as exc:
            raise RehearsalError(str(exc)) from None

    results = []
    for stack in stacks:
        config = parsed(stack, overrides)
        # A stack serving another's registry (registry.stack) is gated by that stack's pipeline.
        training = config.training or parsed(str(config.registry.stack).rsplit("/", 1)[-1], []).training
        results.append(StackResult(stack, min_auc=training.min_auc, model_version=config.endpoint.model_package_version))
    return results


def sagemaker_env(work: Path) -> dict[str, str]:
    """SageMaker's /opt/ml layout, moved into the work directory (see containers/model/churn/paths.py)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SM_", "SAGEMAKER_"))}
    ml, processing = work / "ml", work / "processing"
    env.update(
        SM_BASE_DIR=str(ml),
        SM_PROCESSING_DIR=str(processing),
        SM_CHANNEL_TRAIN=str(processing / "train"),
        SM_CHANNEL_VALIDATION=str(processing / "validation"),
        # The evaluation step reads the model.tar.gz training produced, as the pipeline wires it.
        SM_PROCESSING_MODEL_DIR=str(processing / "model"),
    )
    return env


PIPELINE_STEPS = ("generate-data", "preprocess", "train", "evaluate")


def pack_model(work: Path) -> Path:
    """What SageMaker does when a training job ends: the files of /opt/ml/model at the root of
    model.tar.gz, the job's S3ModelArtifacts; the Evaluate and SealModel steps receive that object as it is."""
    archive = work / "processing" / "model" / "model.tar.gz"
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted((work / "ml" / "model").iterdir()):
            tar.add(path, arcname=path.name)
    return archive


def run_steps(
    tree: ProgramTree, work: Path, rows: int, hyperparameters: dict[str, str], steps: Sequence[str] = PIPELINE_STEPS
) -> tuple[dict[str, str], dict[str, float]]:
    """Runs the model image's entry points in order; (their environment, seconds per step)."""
    from components.training.args import DEFAULT_HYPERPARAMETERS

    env = sagemaker_env(work)
    (work / "processing" / "input").mkdir(parents=True, exist_ok=True)
    config_dir = work / "ml" / "input" / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "hyperparameters.json").write_text(json.dumps({**DEFAULT_HYPERPARAMETERS, **hyperparameters}))
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    arguments = {"generate-data": ["--rows", str(rows), "--output", str(work / "processing" / "input" / "churn.csv")]}
    seconds: dict[str, float] = {}
    for name in steps:
        command = [sys.executable, str(tree.model_bin / name), *arguments.get(name, [])]
        try:
            seconds[name] = round(processes.run(name, command, env, logs / f"{name}.log", ROOT, STEP_TIMEOUT), 2)
        except processes.StepFailed as exc:
            raise RehearsalError(str(exc)) from None
        if name == "train":
            pack_model(work)
    return env, seconds


def run_pipeline(tree: ProgramTree, work: Path, rows: int, hyperparameters: dict[str, str], report: Report) -> dict[str, str]:
    env, report.step_seconds = run_steps(tree, work, rows, hyperparameters)
    report.rows = rows
    split = re.search(r"-> (train \d+, validation \d+, test \d+)", processes.tail(work / "logs" / "preprocess.log"))
    report.split = split.group(1) if split else ""
    metadata = json.loads((work / "ml" / "model" / "metadata.json").read_text())
    report.trees = metadata.get("best_iteration")
    evaluation = json.loads((work / "processing" / "evaluation" / "evaluation.json").read_text())
    report.auc = float(evaluation["binary_classification_metrics"]["auc"]["value"])
    return env


def judge_gates(report: Report, previews: dict[str, dict[str, Any]], work: Path) -> None:
    """Each stack's pipeline definition (as its preview recorded it) decides on the evaluation report."""
    for result in report.stacks:
        preview = gating_preview(previews, result.stack)  # a stack serving dev's registry is gated by dev's pipeline
        if preview is None or not preview.get("resources"):
            result.gate_passed, result.gate = False, "not evaluated: the preview recorded no pipeline definition"
            report.problems.append(f"{result.stack}: the pipeline's gate could not be evaluated (no pipeline definition from the preview)")
            continue
        try:
            verdict = evaluate_gate(preview, work / "processing")
        except GateError as exc:
            result.gate_passed, result.gate = False, f"not evaluated: {exc}"
            report.problems.append(f"{result.stack}: the pipeline's gate could not be evaluated: {exc}")
            continue
        result.gate_passed, result.gate = verdict.registers, verdict.describe()
        if not verdict.registers:
            report.problems.append(f"{result.stack}: the pipeline's gate does not register the model ({verdict.describe()})")
