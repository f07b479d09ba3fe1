"""The sagemaker SDK, made to build a pipeline definition offline, deterministically and quietly.

The SDK gets a private boto3 session with static dummy credentials whose every HTTP request is
refused before it is sent, its user/admin config files are replaced by an empty one, telemetry is
opted out, and whatever its import does to the caller's process (root logger, environment) is
undone. Nothing here imports the SDK at module level: that costs ~3 s and ~250 MB.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import logging
import os
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# The only SDK setting we need: no telemetry (it is an HTTP GET sent from a background thread).
_SDK_CONFIG: dict[str, Any] = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}
_DUMMY_CREDENTIALS = {"aws_access_key_id": "OFFLINEDEFINITION", "aws_secret_access_key": "offline-definition-no-aws-calls"}
# os.environ is process-wide: one build at a time, and the caller's values come back afterwards.
_ENV_LOCK = threading.Lock()


class OfflineViolationError(RuntimeError):
    """The SDK tried to call AWS while building the definition (a bug to fix, never to retry)."""


def _refuse_request(request: Any = None, event_name: str = "", **_: Any) -> None:
    operation = event_name.split(".", 2)[-1] if event_name else "an AWS API"
    url = getattr(request, "url", "?")
    raise OfflineViolationError(f"building the pipeline definition tried to call {operation} ({url}); it must stay offline")


@contextlib.contextmanager
def sdk_environment(region: str) -> Iterator[None]:
    """Set what the SDK reads from os.environ for the duration of one build, then restore it.

    * SAGEMAKER_VALIDATE_ROLE=false: ModelTrainer otherwise simulates the role's policies in IAM.
    * AWS_EC2_METADATA_DISABLED=true and dummy env credentials unless the caller has a key pair: any
      boto3 session the SDK creates on its own (not ours) then resolves credentials from the
      environment instead of probing the instance metadata service.
    * SAGEMAKER_{USER,ADMIN}_CONFIG_OVERRIDE -> an empty config file: no user or admin defaults
      (tags, subnets, KMS keys, an S3 config location) leak into the definition, and the sessions
      the SDK creates on its own (a LocalSession per ProcessingStep) skip the ~0.3 s schema
      validation of a non-empty config. Telemetry is opted out on our session (see below).
    * AWS_DEFAULT_REGION only when the caller has no region: importing sagemaker.mlops creates a
      default boto3 client at class-definition time (sagemaker.ai_registry.air_hub.AIRHub) and
      fails without one.
    """
    with _ENV_LOCK, tempfile.TemporaryDirectory(prefix="sm-pipeline-definition-") as scratch:
        config_file = Path(scratch) / "config.yaml"
        config_file.write_text("{}\n", encoding="utf-8")
        overrides = {
            "SAGEMAKER_VALIDATE_ROLE": "false",
            "AWS_EC2_METADATA_DISABLED": "true",
            "SAGEMAKER_USER_CONFIG_OVERRIDE": str(config_file),
            "SAGEMAKER_ADMIN_CONFIG_OVERRIDE": str(config_file),
        }
        if not (os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY")):
            overrides["AWS_ACCESS_KEY_ID"] = _DUMMY_CREDENTIALS["aws_access_key_id"]
            overrides["AWS_SECRET_ACCESS_KEY"] = _DUMMY_CREDENTIALS["aws_secret_access_key"]
        if not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
            overrides["AWS_DEFAULT_REGION"] = region
        saved = {name: os.environ.get(name) for name in overrides}
        os.environ.update(overrides)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@functools.cache
def offline_boto_session(region: str) -> Any:
    """A boto3 session with static dummy credentials whose clients refuse to send any request.

    Explicit credentials mean the caller's credential chain (env, profiles, SSO, IMDS) is never
    consulted; the `before-send` hook is registered before any client exists, so every client the
    SDK creates from this session inherits it. Cached per region: a boto3 session caches the
    service models it loads (~0.5 s of JSON per build otherwise); builds are serialised by
    _ENV_LOCK, so the session is never used from two threads at once.
    """
    import boto3

    session = boto3.Session(region_name=region, **_DUMMY_CREDENTIALS)
    session.events.register("before-send", _refuse_request)
    return session


# Imported before the build (see import_sdk); the step builders import their names from them.
_SDK_MODULES = (
    "sagemaker.mlops.workflow",
    "sagemaker.train.model_trainer",
    "sagemaker.train.tuner",
    "sagemaker.serve.model_builder",
)


def import_sdk() -> None:
    """Import the SDK once, undoing what its import does to the caller's process.

    Importing it runs `logging.basicConfig(level=INFO)` (sagemaker.core.experiments._metrics):
    a stderr handler on the root logger and INFO for every library, e.g. a Pulumi program's whole
    output. The root logger is put back as it was; the SDK's own deprecation warnings about its
    internal imports are not shown.
    """
    if all(name in sys.modules for name in _SDK_MODULES):
        return
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            for name in _SDK_MODULES:
                importlib.import_module(name)
    finally:
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
        root.setLevel(level)


@contextlib.contextmanager
def quiet_sdk() -> Iterator[None]:
    """Errors only from the SDK while it builds: it logs and warns ~15 times per build about its
    own defaults ("Popping out 'ProcessingJobName'...", "No Job being started"), on every preview."""
    names = ["sagemaker", *(name for name in logging.root.manager.loggerDict if name.startswith("sagemaker."))]
    saved = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Running within a PipelineSession", category=UserWarning)
            yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


@functools.cache
def _offline_session_class() -> Any:
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    class OfflinePipelineSession(PipelineSession):
        """A PipelineSession that knows its bucket and keeps its SDK config empty.

        * default_bucket(): the SDK's would head/create `sagemaker-<region>-<account>` in S3 (and
          ask STS for the account) even when given a bucket.
        * sagemaker_config: every lookup of a config value re-validates the whole config against
          the SDK's JSON schema (~0.15 s each, ~90 lookups per build: 13 s instead of 1 s). The
          only value we need is TelemetryOptOut, read by the telemetry decorator of the public
          calls (ModelTrainer.train, ModelBuilder.register): `telemetry_opted_out()` supplies it
          around exactly those calls; the suite checks that no telemetry is ever sent.
        """

        def __init__(self, bucket: str, region: str) -> None:
            # No config given: it is read from the (empty) override files, without validation.
            super().__init__(boto_session=offline_boto_session(region), default_bucket=bucket)
            self._offline_bucket = bucket
            self.sagemaker_config: dict[str, Any] = {}

        def default_bucket(self) -> str:
            return self._offline_bucket

        def account_id(self) -> str:
            raise OfflineViolationError("the SDK asked STS for the account id while building the definition")

        @contextlib.contextmanager
        def telemetry_opted_out(self) -> Iterator[None]:
            self.sagemaker_config = _SDK_CONFIG
            try:
                yield
            finally:
                self.sagemaker_config = {}

    return OfflinePipelineSession


def offline_session(bucket: str, region: str) -> Any:
    """The PipelineSession every step of one build uses (call inside `sdk_environment`)."""
    return _offline_session_class()(bucket, region)
