"""A promotion rehearsed by identity (part of `make demo`), on copies of the stack files.

1. The shared registry (moto): version 1 is the one in service; the pipeline run registers version 2,
   a person approves it; a later run registers version 3, not approved.
2. dev pins version 2 (`tools.promote --to dev --version 2 --check`).
3. dev's offline preview (the real program under mocks) gives dev's outputs: the package it serves.
4. Promoting a version dev does not serve (3) to prod is refused; promoting dev's is accepted.
5. prod's offline preview, reading dev's outputs through its StackReference, serves the identical
   package ARN, which is the ARN the registry holds.
6. EndpointRelease's provider releases that configuration with the inputs prod's preview recorded,
   after the SDK's wire round trip, against a Stubber that validates every request
   (tools/rehearsal/release_step.py).

Every failure is one line in `problems`; `lines` says what happened.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional
from unittest import mock

from tools.promote.stack_file import read_stack, with_version
from tools.rehearsal.release_step import rehearse_release

PIPELINE_TYPE = "aws:sagemaker/pipeline:Pipeline"
STACK_REFERENCE = "pulumi:pulumi:StackReference"
MODEL_TYPE = "aws:sagemaker/model:Model"
RELEASE_TYPE = "pulumi-python:dynamic:EndpointRelease"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "rehearsal",
    "AWS_SECRET_ACCESS_KEY": "rehearsal",
    "AWS_SESSION_TOKEN": "rehearsal",
    "AWS_DEFAULT_REGION": "us-east-1",
}
STEP_TIMEOUT = 600


@dataclass
class PromotionResult:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    served_arn: Optional[str] = None


def gating_preview(previews: dict[str, dict[str, Any]], stack: str) -> Optional[dict[str, Any]]:
    """The preview whose pipeline gates `stack`'s models: its own, or (a stack that serves another
    stack's registry through a StackReference) the registry owner's."""
    preview = previews.get(stack)
    if preview is None:
        return None
    resources = preview.get("resources") or []
    if any(r.get("type") == PIPELINE_TYPE for r in resources):
        return preview
    owners = [r["name"].rsplit("/", 1)[-1] for r in resources if r.get("type") == STACK_REFERENCE]
    return previews.get(owners[0]) if owners else preview


def _promote(stack_dir: Path, *args: str) -> tuple[int, str, str]:
    from tools.promote import cli as promote

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = promote.main([*args, "--stack-dir", str(stack_dir)])
    return code, out.getvalue().strip(), err.getvalue().strip()


def _program(stack: str, stack_dir: Path, out: Path) -> dict[str, Any]:
    from tools.offline.records import run_program

    code, errors = run_program(["--stack", stack, "--program-dir", str(stack_dir), "--out", str(out)], stack_dir, timeout=STEP_TIMEOUT)
    if code != 0:
        raise RuntimeError(f"the offline program of {stack} failed: {errors.strip()[-800:]}")
    return json.loads(out.read_text())


def program_view(root: Path, work: Path, name: str = "promotion") -> Path:
    """The program with copies of its stack files: everything else is a link to the real tree."""
    view = work / name / "program"
    view.mkdir(parents=True, exist_ok=True)
    for entry in root.iterdir():
        if (
            entry.name.startswith(".")
            or entry.name in ("venv", "__pycache__")
            or (entry.name.startswith("Pulumi.") and entry.name != "Pulumi.yaml")
        ):
            continue
        link = view / entry.name
        if not link.exists():
            link.symlink_to(entry)
    # Both copies start on version 1, the one the rehearsal's registry has in service, whatever the
    # repository's files pin after its own promotions (a promotion pull request runs this too).
    for stack in ("dev", "prod"):
        (view / f"Pulumi.{stack}.yaml").write_text(with_version(read_stack(root, stack), 1))
    return view


def rehearse_promotion(root: Path, work: Path) -> PromotionResult:
    import boto3
    from moto import mock_aws

    result = PromotionResult()
    view = program_view(root, work)
    records = work / "promotion"
    with mock.patch.dict(os.environ, FAKE_CREDENTIALS), mock_aws():
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        group = "mlops-dev-churn"
        sagemaker.create_model_package_group(ModelPackageGroupName=group, ModelPackageGroupDescription="the shared registry (rehearsal)")

        def register(status: str) -> str:
            container = {
                "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-dev-model@sha256:" + "0" * 64,
                "ModelDataUrl": "s3://mlops-dev-artifacts/model.tar.gz",
            }
            spec = {"Containers": [container], "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["application/json"]}
            return sagemaker.create_model_package(ModelPackageGroupName=group, ModelApprovalStatus=status, InferenceSpecification=spec)[
                "ModelPackageArn"
            ]

        register("Approved")  # version 1: in service
        registered = register("PendingManualApproval")  # version 2: this pipeline run
        sagemaker.update_model_package(ModelPackageArn=registered, ModelApprovalStatus="Approved")
        register("PendingManualApproval")  # version 3: a later run, not approved
        result.lines.append(f"registry: {registered} registered by the pipeline run and approved (version 3 registered, pending)")

        code, out, err = _promote(view, "--to", "dev", "--version", "2", "--check")
        if code != 0:
            result.problems.append(f"promotion: pinning version 2 in dev failed: {err or out}")
            return result
        result.lines.append("dev pins version 2: " + out.splitlines()[-1])

        try:
            dev = _program("dev", view, records / "dev.json")
        except RuntimeError as exc:
            result.problems.append(f"promotion: {exc}")
            return result
        served = dev["outputs"].get("modelPackageArn")
        outputs = records / "dev-outputs.json"
        outputs.write_text(json.dumps(dev["outputs"]))
        if served != registered:
            result.problems.append(f"promotion: dev serves {served}, not the registered package {registered}")
            return result

        code, _, err = _promote(view, "--to", "prod", "--version", "3", "--dev-outputs", str(outputs))
        if code != 1:
            result.problems.append(f"promotion: promoting version 3, which dev does not serve, was not refused (exit {code})")
            return result
        result.lines.append(f"prod --version 3 refused: {err.removeprefix('refused: ')}")
        code, out, err = _promote(view, "--to", "prod", "--dev-outputs", str(outputs))
        if code != 0:
            result.problems.append(f"promotion: promoting the version dev serves to prod failed: {err or out}")
            return result
        result.lines.append("prod accepted: " + out.splitlines()[-1])

    preview_json = records / "prod-preview.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.preview",
            "--program-dir",
            str(view),
            "--stack",
            "prod",
            "--stack-outputs",
            f"dev={outputs}",
            "--json",
            str(preview_json),
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    if done.returncode != 0 or not preview_json.exists():
        result.problems.append(
            f"promotion: prod's offline preview failed (exit {done.returncode}): {(done.stdout + done.stderr).strip()[-600:]}"
        )
        return result
    prod = json.loads(preview_json.read_text())
    models = [r["inputs"].get("primaryContainer", {}).get("modelPackageName") for r in prod["resources"] if r["type"] == MODEL_TYPE]
    if models != [served] or prod["outputs"].get("modelPackageArn") != served:
        result.problems.append(f"promotion: prod's preview serves {models or 'no model'}, not dev's {served}")
        return result
    result.served_arn = served
    result.lines.append(
        f"prod's offline preview serves {served}: the package dev serves (policy verdict: {'OK' if prod['summary'].get('ok') else 'BLOCKED'})"
    )
    if not prod["summary"].get("ok"):
        result.problems.append("promotion: prod's preview of the promoted pin is BLOCKED by a mandatory policy")
        return result
    releases = [r["inputs"] for r in prod["resources"] if r["type"] == RELEASE_TYPE]
    if len(releases) != 1:
        result.problems.append(f"promotion: prod's preview declares {len(releases)} endpoint releases, not one")
        return result
    release = rehearse_release(releases[0])
    result.lines += release.lines
    result.problems += [f"promotion: {problem}" for problem in release.problems]
    return result


def main(argv: Optional[list[str]] = None) -> int:
    """`python -m tools.rehearsal.promotion`: the promotion rehearsal alone."""
    from tools.rehearsal.report import ROOT

    with tempfile.TemporaryDirectory(prefix="promotion-") as tmp:
        result = rehearse_promotion(ROOT, Path(tmp))
    print("\n".join(result.lines))
    if result.problems:
        print(result.problems[0], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
