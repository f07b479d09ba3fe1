"""Rehearsal step 2b: the pipeline's SealModel step, run as SageMaker would run it, against moto's S3.

The step's arguments are read from the definition the stack deploys (as its preview recorded it) and
resolved the way SageMaker resolves them: the execution id, and Std:JsonGet on the Evaluate step's
report the local evaluate wrote. The model image's `bin/seal` then runs as its own process against a
moto server on 127.0.0.1 (a versioned artifact bucket of the definition's name), and RegisterModel's
ModelDataUrl and CustomerMetadataProperties, resolved the same way, must name exactly what it sealed.
A second write to the sealed key, of other bytes (a retrained model), must be refused: `seal` exits
1 with S3's 412 as the reason and the object keeps its one version.

moto enforces no bucket policy: the refusal seen here is S3's If-None-Match, not the policy that
requires the header (tests/components/shared/test_bucket_walls.py evaluates that policy).
"""

from __future__ import annotations

import json
import logging
import sys
import tarfile
import urllib.request
from contextlib import contextmanager
from hashlib import sha256
from pathlib import Path
from typing import Any, Iterator, Mapping

from tools import processes
from tools.rehearsal.gate import DefinitionEvaluator, GateError, definition_from_preview
from tools.rehearsal.report import ROOT, ProgramTree, Report

# What ExecutionVariables.PIPELINE_EXECUTION_ID resolves to in the rehearsal.
EXECUTION_ID = "rehearsal"
STEP_TIMEOUT = 120
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "rehearsal", "AWS_SECRET_ACCESS_KEY": "rehearsal", "AWS_SESSION_TOKEN": "rehearsal"}


class SealError(Exception):
    """The step could not be rehearsed or did not do what the definition says; the message says what."""


@contextmanager
def moto_s3() -> Iterator[str]:
    """A moto server on 127.0.0.1, emptied first (moto's backends are global to the process); its URL."""
    from moto.server import ThreadedMotoServer

    # werkzeug logs every request moto serves; the report is for what was found.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=30).close()
        yield url
    finally:
        server.stop()


def _options(arguments: list[Any], evaluator: DefinitionEvaluator) -> dict[str, str]:
    values = [str(evaluator.value(a)[0]) for a in arguments]
    return dict(zip(values[::2], values[1::2]))


def _run_seal(tree: ProgramTree, env: Mapping[str, str], options: Mapping[str, str], log: Path) -> int:
    command = [sys.executable, str(tree.model_bin / "seal"), *[item for pair in options.items() for item in pair]]
    process = processes.start(command, dict(env), log, ROOT)
    try:
        return process.wait(timeout=STEP_TIMEOUT)
    finally:
        processes.stop(process)


def _retrained(model_dir: Path, archive: Path) -> Path:
    """Other bytes for the same key: the model packed with one more file, as a retrained model would differ."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(model_dir.iterdir()):
            tar.add(path, arcname=path.name)
        notes = archive.parent / "retrained.txt"
        notes.write_text("a retrained model\n")
        tar.add(notes, arcname=notes.name)
    return archive


def rehearse_seal(tree: ProgramTree, env: Mapping[str, str], work: Path, preview: Mapping[str, Any]) -> list[str]:
    """Seal the rehearsal's model as the definition's SealModel step says; the report's lines, or SealError."""
    import boto3

    from components.training.definition.layout import STEP_REGISTER, STEP_SEAL

    try:
        definition = definition_from_preview(preview)
    except GateError as exc:
        raise SealError(str(exc)) from None
    evaluator = DefinitionEvaluator(definition, work / "processing", {"PipelineExecutionId": EXECUTION_ID})
    step = evaluator.steps.get(STEP_SEAL)
    if step is None:
        raise SealError(f"the pipeline definition has no {STEP_SEAL} step")
    app = (step.get("Arguments") or {}).get("AppSpecification") or {}
    if app.get("ContainerEntrypoint") != ["seal"]:
        raise SealError(f"{STEP_SEAL} runs {app.get('ContainerEntrypoint')}, not the model image's seal entry point")
    try:
        options = _options(list(app.get("ContainerArguments") or []), evaluator)
    except GateError as exc:
        raise SealError(f"{STEP_SEAL}'s arguments cannot be resolved: {exc}") from None
    destination = options.get("--destination", "")
    bucket, _, key = destination.removeprefix("s3://").partition("/")
    region = options.get("--region", "us-east-1")
    seal_env = {**env, **FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": region}
    logs = work / "logs"
    with moto_s3() as url:
        seal_env["AWS_ENDPOINT_URL_S3"] = url
        s3 = boto3.client("s3", region_name=region, endpoint_url=url, **{k.lower(): v for k, v in FAKE_CREDENTIALS.items()})
        location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=bucket, **location)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})

        code = _run_seal(tree, seal_env, options, logs / "seal.log")
        if code != 0:
            raise SealError(f"seal exited with {code}; log {logs / 'seal.log'}:\n{processes.tail(logs / 'seal.log')}")
        sealed = json.loads((work / "processing" / "seal" / "seal.json").read_text())["model_artifact"]
        versions = s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])
        register = ((evaluator.steps.get(STEP_REGISTER) or {}).get("Arguments")) or {}
        try:
            [container] = (register.get("InferenceSpecification") or {}).get("Containers") or [{}]
            registered = evaluator.value(container.get("ModelDataUrl"))[0]
            metadata = {name: evaluator.value(value)[0] for name, value in (register.get("CustomerMetadataProperties") or {}).items()}
        except (GateError, ValueError) as exc:
            raise SealError(f"{STEP_REGISTER} does not name the sealed model: {exc}") from None
        recorded = {"ModelDataSha256": sealed["sha256"], "ModelDataVersionId": sealed["version_id"]}
        evaluated = json.loads((work / "processing" / "evaluation" / "evaluation.json").read_text())["model_artifact"]["sha256"]
        if (
            registered != destination
            or metadata != recorded
            or sealed["sha256"] != evaluated
            or [v["VersionId"] for v in versions] != [sealed["version_id"]]
        ):
            raise SealError(
                f"{STEP_REGISTER} registers {registered} with {metadata}; {STEP_SEAL} sealed {destination} "
                f"({recorded}, versions {[v['VersionId'] for v in versions]}); Evaluate scored sha256 {evaluated}"
            )

        # A second write to the key, of other bytes, in a job directory of its own.
        again = work / "reseal"
        other = _retrained(work / "ml" / "model", again / "model" / "model.tar.gz")
        second_env = {
            **seal_env,
            "SM_PROCESSING_MODEL_DIR": str(other.parent),
            "SM_PROCESSING_SEAL_DIR": str(again / "seal"),
            "SM_OUTPUT_DIR": str(again / "output"),
        }
        second = _run_seal(tree, second_env, {**options, "--expected-sha256": sha256(other.read_bytes()).hexdigest()}, logs / "reseal.log")
        reason = processes.tail(again / "output" / "message", 1024)
        after = s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])
        if second == 0 or "412 PreconditionFailed" not in reason or after != versions:
            raise SealError(
                f"a second write of other bytes to {destination} was not refused: seal exited {second} ({reason or 'no reason'}), "
                f"{len(after)} version(s) now"
            )
    return [
        f"{STEP_SEAL} (the definition's arguments, execution id {EXECUTION_ID!r}, moto S3): {destination}",
        f"  sha256 {sealed['sha256']} (the bytes Evaluate scored), version {sealed['version_id']}",
        f"{STEP_REGISTER} names it: ModelDataUrl, ModelDataSha256 and ModelDataVersionId resolve to the sealed object",
        f"a second write of other bytes to the key: refused (seal exited {second}, S3 answered 412 PreconditionFailed); "
        f"the object keeps its {len(after)} version",
    ]


def seal_model(tree: ProgramTree, env: Mapping[str, str], work: Path, report: Report, preview: Mapping[str, Any]) -> None:
    """Rehearse the seal; its lines or its problem go into the report."""
    try:
        report.seal = rehearse_seal(tree, env, work, preview)
    except SealError as exc:
        report.seal = [f"FAILED: {exc}"]
        report.problems.append(f"the seal step: {exc}")
