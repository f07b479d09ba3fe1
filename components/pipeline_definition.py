"""The SageMaker Pipeline definition (JSON) of the training pipeline, generated offline.

The TrainingPipeline component calls `build_pipeline_definition` inside an `Output.apply` and hands
the result to `aws.sagemaker.Pipeline(pipeline_definition=...)`. The definition is produced by the
sagemaker SDK v3 (`sagemaker.mlops.workflow`), but:

* offline: no STS/S3/IAM/SageMaker call is made, with or without real credentials in the
  environment (a real `pulumi up` has them). The SDK gets a private boto3 session with static
  dummy credentials whose every HTTP request is refused before it is sent, so a code path of the
  SDK that would reach AWS fails loudly instead of silently creating a bucket or resolving a role;
* deterministic: the same `PipelineDefinitionArgs` give byte-identical JSON (no timestamps, job
  names or uuids survive into the definition; the SDK's user/admin config files are not read);
* cheap to import: the SDK (~3 s, ~250 MB) is imported only inside `build_pipeline_definition`.

Steps: Preprocess -> DataQualityBaseline -> Train (or Tune) -> Evaluate -> CheckAuc ->
(RegisterModel -> PublishBaseline) | AucBelowThreshold (Fail).

`baseline_uris` and `model_monitor_image_uri` are shared with the ModelEndpoint component, so the
Model Monitor schedule reads the very baseline the pipeline published for the pinned version.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import logging
import os
import re
import tempfile
import sys
import threading
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast

# ---- names and layout shared with the container entry points and the endpoint component ---------

STEP_PREPROCESS = "Preprocess"
STEP_BASELINE = "DataQualityBaseline"
STEP_TRAIN = "Train"
STEP_TUNE = "Tune"
STEP_EVALUATE = "Evaluate"
STEP_CONDITION = "CheckAuc"
STEP_REGISTER = "RegisterModel"
STEP_PUBLISH_BASELINE = "PublishBaseline"
STEP_FAIL = "AucBelowThreshold"

PARAM_INPUT_DATA_URI = "InputDataUri"
PARAM_PROCESSING_INSTANCE_TYPE = "ProcessingInstanceType"
PARAM_TRAINING_INSTANCE_TYPE = "TrainingInstanceType"

PREPROCESS_OUTPUTS = ("train", "validation", "test", "baseline")
PROCESSING_ROOT = "/opt/ml/processing"
BASELINE_FILE = "baseline.csv"  # written by containers/model preprocess into the `baseline` output
EVALUATION_FILE = "evaluation.json"  # written by containers/model evaluate
AUC_JSON_PATH = "binary_classification_metrics.auc.value"

OBJECTIVE_METRIC = "validation:auc"
# The trainer prints lines such as `[50] train:auc=0.9012 validation:auc=0.8731 validation:logloss=0.41`.
METRIC_DEFINITIONS: tuple[tuple[str, str], ...] = (
    ("validation:auc", r"validation:auc=([0-9\.]+)"),
    ("train:auc", r"train:auc=([0-9\.]+)"),
    ("validation:logloss", r"validation:logloss=([0-9\.]+)"),
)
# The serve contract of containers/model: CSV rows or JSON in, JSON or CSV out (honours Accept).
CONTENT_TYPES = ("text/csv", "application/json")

# The analyzer's two outputs; Model Monitor names them, not us.
STATISTICS_FILE = "statistics.json"
CONSTRAINTS_FILE = "constraints.json"
BASELINES_PREFIX = "baselines"
MODEL_MONITOR_REPOSITORY = "sagemaker-model-monitor-analyzer"
# Exactly what DefaultModelMonitor / QualityCheckStep pass for a CSV with a header (DatasetFormat.csv).
DATASET_FORMAT = {"csv": {"header": True, "output_columns_position": "START"}}

_DIGEST_PINNED_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?"
    r"/[a-z0-9]+(?:[._/-][a-z0-9]+)*@sha256:[0-9a-f]{64}$"
)
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PIPELINE_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
_GROUP_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


# ---- arguments ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParameterRangeSpec:
    """One tuned hyper-parameter: `continuous`/`integer` take min and max, `categorical` values."""

    type: Literal["continuous", "integer", "categorical"]
    min: float | None = None
    max: float | None = None
    values: tuple[str, ...] | None = None
    scaling: Literal["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"] = "Auto"

    def __post_init__(self) -> None:
        if self.type == "categorical":
            if not self.values or self.min is not None or self.max is not None:
                raise ValueError("a categorical range takes a non-empty `values` and no min/max")
            object.__setattr__(self, "values", tuple(str(v) for v in self.values))
            return
        if self.type not in ("continuous", "integer"):
            raise ValueError(f"range type must be continuous, integer or categorical, got {self.type!r}")
        if self.min is None or self.max is None or self.values is not None:
            raise ValueError(f"a {self.type} range takes min and max and no values")
        if not self.min < self.max:
            raise ValueError(f"range min ({self.min}) must be below max ({self.max})")
        if self.type == "integer" and not (float(self.min).is_integer() and float(self.max).is_integer()):
            raise ValueError(f"an integer range needs whole bounds, got {self.min}..{self.max}")
        if self.scaling not in ("Auto", "Linear", "Logarithmic", "ReverseLogarithmic"):
            raise ValueError(f"scaling must be Auto, Linear, Logarithmic or ReverseLogarithmic, got {self.scaling!r}")
        if self.scaling == "Logarithmic" and self.min <= 0:
            raise ValueError("a Logarithmic range needs min > 0")

    @classmethod
    def of(cls, value: Any) -> ParameterRangeSpec:
        """Accept a spec, a plain mapping, or any object with the same attributes (the stack config)."""
        if isinstance(value, ParameterRangeSpec):
            return value
        get = value.get if isinstance(value, Mapping) else lambda key, default=None: getattr(value, key, default)
        values = get("values")
        return cls(
            type=cast(Literal["continuous", "integer", "categorical"], get("type")),
            min=get("min"),
            max=get("max"),
            values=tuple(values) if values is not None else None,
            scaling=get("scaling") or "Auto",
        )


@dataclass(frozen=True)
class TuningSpec:
    """Bayesian tuning of the training step; `max_jobs == 0` turns tuning off."""

    max_jobs: int
    max_parallel: int
    ranges: Mapping[str, ParameterRangeSpec]

    def __post_init__(self) -> None:
        ranges = {str(name): ParameterRangeSpec.of(spec) for name, spec in sorted(dict(self.ranges).items())}
        object.__setattr__(self, "ranges", MappingProxyType(ranges))
        if self.max_jobs < 0:
            raise ValueError(f"tuning max_jobs must be >= 0, got {self.max_jobs}")
        if self.enabled:
            if not 1 <= self.max_parallel <= self.max_jobs:
                raise ValueError(f"tuning max_parallel must be 1..max_jobs ({self.max_jobs}), got {self.max_parallel}")
            if not ranges:
                raise ValueError("tuning needs at least one hyper-parameter range")

    @property
    def enabled(self) -> bool:
        return self.max_jobs > 0


@dataclass(frozen=True)
class PipelineDefinitionArgs:
    """Plain values only (resolved Outputs): everything the definition depends on, nothing else.

    No account id: every ARN the definition needs arrives whole (role, KMS key), and the
    publish-baseline job reads the version from the registered ModelPackageArn at run time.
    """

    pipeline_name: str
    region: str
    role_arn: str
    image_uri: str
    data_bucket: str
    artifact_bucket: str
    kms_key_arn: str
    model_package_group_name: str
    min_auc: float
    training_instance_type: str = "ml.m5.large"
    processing_instance_type: str = "ml.m5.large"
    use_spot: bool = False
    max_run_seconds: int = 3600
    max_wait_seconds: int = 7200
    hyperparameters: Mapping[str, str] = field(default_factory=dict)
    tuning: TuningSpec | None = None
    processing_max_runtime_seconds: int = 3600
    training_volume_size_gb: int = 30
    # Recorded in each version: where it may be deployed in real time (the dev and prod endpoint
    # types among them) and in batch. An operator reads them in the registry before promoting.
    inference_instance_types: tuple[str, ...] = ("ml.t2.medium", "ml.m5.large", "ml.m5.xlarge", "ml.c5.large", "ml.c5.xlarge")
    transform_instance_types: tuple[str, ...] = ("ml.m5.large", "ml.m5.xlarge")
    # The model-image jobs (preprocess, train, evaluate) only touch data SageMaker mounts for them:
    # with isolation on, the container has no network at all, so it cannot leak what it reads.
    # publish-baseline calls S3 itself and the analyzer is AWS's image: neither is isolated.
    network_isolation: bool = True

    def __post_init__(self) -> None:
        hyperparameters = dict(self.hyperparameters)
        for key, value in hyperparameters.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise ValueError(f"hyperparameters are strings (SageMaker's contract); got {key!r}: {value!r}")
        object.__setattr__(self, "hyperparameters", MappingProxyType(dict(sorted(hyperparameters.items()))))
        object.__setattr__(self, "inference_instance_types", tuple(self.inference_instance_types))
        object.__setattr__(self, "transform_instance_types", tuple(self.transform_instance_types))
        for problem in self._problems():
            raise ValueError(f"PipelineDefinitionArgs: {problem}")

    def _problems(self) -> Iterator[str]:
        checks: list[tuple[str, Any, re.Pattern[str], str]] = [
            ("pipeline_name", self.pipeline_name, _PIPELINE_NAME, "letters, digits and hyphens, at most 256"),
            ("region", self.region, _REGION, "an AWS region such as eu-west-1"),
            ("role_arn", self.role_arn, _ROLE_ARN, "an IAM role ARN"),
            ("image_uri", self.image_uri, _DIGEST_PINNED_IMAGE, "an ECR image pinned by digest (...amazonaws.com/repo@sha256:<64 hex>)"),
            ("data_bucket", self.data_bucket, _BUCKET, "an S3 bucket name"),
            ("artifact_bucket", self.artifact_bucket, _BUCKET, "an S3 bucket name"),
            ("kms_key_arn", self.kms_key_arn, _KMS_KEY_ARN, "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)"),
            ("model_package_group_name", self.model_package_group_name, _GROUP_NAME, "letters, digits and hyphens, at most 63"),
            ("training_instance_type", self.training_instance_type, _INSTANCE_TYPE, "an ml.* instance type"),
            ("processing_instance_type", self.processing_instance_type, _INSTANCE_TYPE, "an ml.* instance type"),
        ]
        for name, value, pattern, expected in checks:
            if not isinstance(value, str) or not pattern.match(value):
                yield f"{name} = {value!r}: expected {expected}"
        image = _DIGEST_PINNED_IMAGE.match(self.image_uri or "")
        if image and image.group("region") != self.region:
            yield f"image_uri is in {image.group('region')}, the pipeline in {self.region}: SageMaker pulls from its own region"
        if isinstance(self.kms_key_arn, str) and _KMS_KEY_ARN.match(self.kms_key_arn) and self.kms_key_arn.split(":")[3] != self.region:
            yield f"kms_key_arn is in {self.kms_key_arn.split(':')[3]}, the pipeline in {self.region}"
        if isinstance(self.region, str) and _REGION.match(self.region) and self.region not in _analyzer_registries():
            yield f"region {self.region!r} has no Model Monitor analyzer image in the sagemaker SDK's table"
        if isinstance(self.min_auc, bool) or not isinstance(self.min_auc, (int, float)) or not 0.0 <= self.min_auc <= 1.0:
            yield f"min_auc = {self.min_auc!r}: expected a number from 0 to 1"
        for name in ("max_run_seconds", "processing_max_runtime_seconds", "training_volume_size_gb"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                yield f"{name} = {value!r}: expected a positive integer"
        if self.use_spot and (not isinstance(self.max_wait_seconds, int) or self.max_wait_seconds < self.max_run_seconds):
            yield f"max_wait_seconds = {self.max_wait_seconds!r}: spot training needs max wait >= max run ({self.max_run_seconds})"
        for name in ("inference_instance_types", "transform_instance_types"):
            values = getattr(self, name)
            if not values or any(not _INSTANCE_TYPE.match(v) for v in values):
                yield f"{name} = {values!r}: expected a non-empty list of ml.* instance types"

    @property
    def tuning_enabled(self) -> bool:
        return self.tuning is not None and self.tuning.enabled


# ---- helpers shared with the endpoint component --------------------------------------------------


def baseline_prefix(artifact_bucket: str, model_package_group_name: str) -> str:
    """`s3://<bucket>/baselines/<group>`: the publish-baseline job appends `/<version>/`."""
    return f"s3://{artifact_bucket}/{BASELINES_PREFIX}/{model_package_group_name}"


def baseline_uris(artifact_bucket: str, model_package_group_name: str, version: int) -> tuple[str, str]:
    """(statistics_uri, constraints_uri) of the data-quality baseline of one model package version."""
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"model package version must be an integer >= 1, got {version!r}")
    root = f"{baseline_prefix(artifact_bucket, model_package_group_name)}/{version}"
    return f"{root}/{STATISTICS_FILE}", f"{root}/{CONSTRAINTS_FILE}"


def _analyzer_registries() -> Mapping[str, str]:
    """region -> account of the analyzer image, read from the SDK's own image_uris table.

    The JSON file is located without importing the SDK (find_spec on the top-level package runs
    no code), so the endpoint component can resolve the image without paying for the SDK import.
    """
    spec = find_spec("sagemaker")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the sagemaker SDK is not installed: it carries the Model Monitor image table")
    table = Path(next(iter(spec.submodule_search_locations))) / "core" / "image_uri_config" / "model-monitor.json"
    config = json.loads(table.read_text(encoding="utf-8"))
    version = config["versions"][""]
    if version["repository"] != MODEL_MONITOR_REPOSITORY:
        raise RuntimeError(f"unexpected repository {version['repository']!r} in {table}")
    return version["registries"]


def model_monitor_image_uri(region: str) -> str:
    """The Model Monitor analyzer image for `region`, as `image_uris.retrieve("model-monitor", region)`.

    Same table and same ECR host name resolution (botocore's endpoint data) as the SDK, without its
    3 s import; tests compare the two for every region of the table.
    """
    registries = _analyzer_registries()
    if region not in registries:
        raise ValueError(f"no Model Monitor analyzer image for region {region!r}; known: {', '.join(sorted(registries))}")
    endpoint = _endpoint_resolver().construct_endpoint("ecr", region) or {"hostname": f"ecr.{region}.amazonaws.com"}
    return f"{registries[region]}.dkr.{endpoint['hostname']}/{MODEL_MONITOR_REPOSITORY}"


@functools.lru_cache(maxsize=1)
def _endpoint_resolver() -> Any:
    import botocore.loaders
    import botocore.regions

    return botocore.regions.EndpointResolver(botocore.loaders.create_loader().load_data("endpoints"))


# ---- the SDK's environment -----------------------------------------------------------------------

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
def _sdk_environment(region: str) -> Iterator[None]:
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
def _offline_boto_session(region: str) -> Any:
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


# ---- the definition ------------------------------------------------------------------------------


def build_pipeline_definition(args: PipelineDefinitionArgs) -> str:
    """The pipeline definition JSON for `args`: offline, and byte-identical for equal args."""
    with _sdk_environment(args.region):
        _import_sdk()
        with _quiet_sdk():
            definition = _build(args)
    # Normalised through json: key order and separators no longer depend on how the SDK assembled it.
    return json.dumps(json.loads(definition), sort_keys=True, separators=(",", ":"))


# Imported before the build (see _import_sdk); _build imports its names from them.
_SDK_MODULES = (
    "sagemaker.mlops.workflow",
    "sagemaker.train.model_trainer",
    "sagemaker.train.tuner",
    "sagemaker.serve.model_builder",
)


def _import_sdk() -> None:
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
def _quiet_sdk() -> Iterator[None]:
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


def _build(args: PipelineDefinitionArgs) -> str:  # noqa: C901 - one linear story, step by step
    # Imported here, not at module level: importing the SDK costs ~3 s and ~250 MB.
    from sagemaker.core.drift_check_baselines import DriftCheckBaselines
    from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.core.network import NetworkConfig
    from sagemaker.core.parameter import CategoricalParameter, ContinuousParameter, IntegerParameter
    from sagemaker.core.processing import Processor
    from sagemaker.core.shapes import (
        MetricDefinition,
        ProcessingInput,
        ProcessingOutput,
        ProcessingS3Input,
        ProcessingS3Output,
        StoppingCondition,
    )
    from sagemaker.core.training.configs import CheckpointConfig, Compute, InputData, Networking, OutputDataConfig
    from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.core.workflow.pipeline_context import PipelineSession
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow import (
        CheckJobConfig,
        ConditionStep,
        FailStep,
        ModelStep,
        Pipeline,
        ProcessingStep,
        QualityCheckStep,
        TrainingStep,
        TuningStep,
    )
    from sagemaker.mlops.workflow.quality_check_step import DataQualityCheckConfig
    from sagemaker.serve.model_builder import ModelBuilder
    from sagemaker.train.model_trainer import ModelTrainer
    from sagemaker.train.tuner import HyperparameterTuner

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
            super().__init__(boto_session=_offline_boto_session(region), default_bucket=bucket)
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

    class TuningStepKeepingTrainerSettings(TuningStep):
        """A TuningStep whose training jobs keep the trainer's volume key and network isolation.

        HyperparameterTuner._build_training_job_definition (SDK 3.27) rebuilds ResourceConfig from
        instance type, count and volume size only, and takes from Networking only the VPC config:
        Compute.volume_kms_key_id and Networking.enable_network_isolation are dropped, so tuned
        jobs would run on AWS-managed-key volumes with network access. Put them back.
        """

        def __init__(self, *, volume_kms_key: str, network_isolation: bool, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._volume_kms_key = volume_kms_key
            self._network_isolation = network_isolation

        @property
        def arguments(self) -> Any:
            request = super().arguments
            definition = request["TrainingJobDefinition"]
            definition["ResourceConfig"].setdefault("VolumeKmsKeyId", self._volume_kms_key)
            if self._network_isolation:
                definition.setdefault("EnableNetworkIsolation", True)
            return request

    session = OfflinePipelineSession(args.artifact_bucket, args.region)
    kms = args.kms_key_arn
    isolated = NetworkConfig(enable_network_isolation=True) if args.network_isolation else None

    input_data_uri = ParameterString(name=PARAM_INPUT_DATA_URI, default_value=f"s3://{args.data_bucket}/incoming/")
    processing_instance_type = ParameterString(name=PARAM_PROCESSING_INSTANCE_TYPE, default_value=args.processing_instance_type)
    training_instance_type = ParameterString(name=PARAM_TRAINING_INSTANCE_TYPE, default_value=args.training_instance_type)

    def execution_uri(*parts: str) -> Any:
        """s3://<artifact>/pipelines/<pipeline>/<execution id>/<parts...>: one prefix per run."""
        return Join(on="/", values=["s3:/", args.artifact_bucket, "pipelines", args.pipeline_name, ExecutionVariables.PIPELINE_EXECUTION_ID, *parts])

    def s3_input(name: str, uri: Any, local: str) -> Any:
        return ProcessingInput(
            input_name=name,
            s3_input=ProcessingS3Input(
                s3_uri=uri, local_path=local, s3_data_type="S3Prefix", s3_input_mode="File", s3_data_distribution_type="FullyReplicated"
            ),
        )

    def s3_output(name: str, uri: Any) -> Any:
        return ProcessingOutput(
            output_name=name, s3_output=ProcessingS3Output(s3_uri=uri, local_path=f"{PROCESSING_ROOT}/{name}", s3_upload_mode="EndOfJob")
        )

    def model_image_processor(entrypoint: str, network_config: Any) -> Any:
        return Processor(
            role=args.role_arn,
            image_uri=args.image_uri,
            instance_count=1,
            instance_type=processing_instance_type,
            entrypoint=[entrypoint],
            volume_kms_key=kms,
            output_kms_key=kms,
            max_runtime_in_seconds=args.processing_max_runtime_seconds,
            base_job_name=entrypoint,
            sagemaker_session=session,
            network_config=network_config,
        )

    # 1. Preprocess: raw CSVs -> train/validation/test splits and the Model Monitor baseline.csv.
    preprocess = ProcessingStep(
        name=STEP_PREPROCESS,
        step_args=model_image_processor("preprocess", isolated).run(
            inputs=[s3_input("input", input_data_uri, f"{PROCESSING_ROOT}/input")],
            outputs=[s3_output(name, execution_uri(name)) for name in PREPROCESS_OUTPUTS],
        ),
    )

    def preprocess_output(name: str) -> Any:
        return preprocess.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri

    # 2. Data-quality baseline: the SDK's QualityCheckStep runs the analyzer image with the env
    # DefaultModelMonitor.suggest_baseline would (dataset_format, dataset_source, output_path,
    # publish_cloudwatch_metrics=Disabled). skip_check: this step only computes the baseline of the
    # new training data; comparing it with an older baseline is Model Monitor's job on the endpoint.
    # An explicit output URI keeps the SDK's timestamped default path out of the definition.
    baseline = QualityCheckStep(
        name=STEP_BASELINE,
        quality_check_config=DataQualityCheckConfig(
            baseline_dataset=Join(on="/", values=[preprocess_output("baseline"), BASELINE_FILE]),
            dataset_format=DATASET_FORMAT,
            output_s3_uri=execution_uri("data-quality-baseline"),
        ),
        check_job_config=CheckJobConfig(
            role=args.role_arn,
            instance_count=1,
            instance_type=processing_instance_type,
            volume_kms_key=kms,
            output_kms_key=kms,
            max_runtime_in_seconds=args.processing_max_runtime_seconds,
            base_job_name="data-quality-baseline",
            sagemaker_session=session,
        ),
        skip_check=True,
        register_new_baseline=True,
    )

    # 3. Train (or tune). The image's `train` program is what SageMaker runs for a training job.
    spot = args.use_spot
    trainer = ModelTrainer(
        training_image=args.image_uri,
        role=args.role_arn,
        sagemaker_session=session,
        base_job_name="train",
        compute=Compute(
            instance_type=training_instance_type,
            instance_count=1,
            volume_size_in_gb=args.training_volume_size_gb,
            volume_kms_key_id=kms,
            enable_managed_spot_training=True if spot else None,
        ),
        stopping_condition=StoppingCondition(
            max_runtime_in_seconds=args.max_run_seconds, **({"max_wait_time_in_seconds": args.max_wait_seconds} if spot else {})
        ),
        # SageMaker appends <training job name>/output/model.tar.gz: unique per run without an execution id.
        output_data_config=OutputDataConfig(s3_output_path=f"s3://{args.artifact_bucket}/pipelines/{args.pipeline_name}/training", kms_key_id=kms),
        # Per execution: a new run must never resume from the previous run's checkpoints.
        checkpoint_config=(
            CheckpointConfig(
                s3_uri=Join(on="/", values=["s3:/", args.artifact_bucket, "checkpoints", args.pipeline_name, ExecutionVariables.PIPELINE_EXECUTION_ID]),
                local_path="/opt/ml/checkpoints",
            )
            if spot
            else None
        ),
        networking=Networking(enable_network_isolation=True) if args.network_isolation else None,
        hyperparameters=dict(args.hyperparameters),
    ).with_metric_definitions([MetricDefinition(name=name, regex=regex) for name, regex in METRIC_DEFINITIONS])
    channels = [
        InputData(channel_name=name, data_source=preprocess_output(name), content_type="text/csv") for name in ("train", "validation")
    ]

    tuning = args.tuning if args.tuning_enabled else None
    if tuning is not None:
        tuner = HyperparameterTuner(
            model_trainer=trainer,
            objective_metric_name=OBJECTIVE_METRIC,
            objective_type="Maximize",
            hyperparameter_ranges={name: _sdk_range(spec, ContinuousParameter, IntegerParameter, CategoricalParameter) for name, spec in tuning.ranges.items()},
            metric_definitions=[{"Name": name, "Regex": regex} for name, regex in METRIC_DEFINITIONS],
            strategy="Bayesian",
            max_jobs=tuning.max_jobs,
            max_parallel_jobs=tuning.max_parallel,
            early_stopping_type="Auto",
            base_tuning_job_name="tune",
        )
        training_step: Any = TuningStepKeepingTrainerSettings(
            name=STEP_TUNE, step_args=tuner.tune(inputs=channels), volume_kms_key=kms, network_isolation=args.network_isolation
        )
        # The best training job's model.tar.gz (index 0 = best by the objective).
        model_data = training_step.get_top_model_s3_uri(top_k=0, s3_bucket=args.artifact_bucket, prefix=f"pipelines/{args.pipeline_name}/training")
    else:
        with session.telemetry_opted_out():
            train_args = trainer.train(input_data_config=channels)
        training_step = TrainingStep(name=STEP_TRAIN, step_args=train_args)
        model_data = training_step.properties.ModelArtifacts.S3ModelArtifacts

    # 4. Evaluate the model on the held-out test split; evaluation.json feeds the gate and the registry.
    evaluation_report = PropertyFile(name="EvaluationReport", output_name="evaluation", path=EVALUATION_FILE)
    evaluate = ProcessingStep(
        name=STEP_EVALUATE,
        step_args=model_image_processor("evaluate", isolated).run(
            inputs=[
                s3_input("model", model_data, f"{PROCESSING_ROOT}/model"),
                s3_input("test", preprocess_output("test"), f"{PROCESSING_ROOT}/test"),
            ],
            outputs=[s3_output("evaluation", execution_uri("evaluation"))],
        ),
        property_files=[evaluation_report],
    )
    auc = JsonGet(step_name=evaluate.name, property_file=evaluation_report, json_path=AUC_JSON_PATH)
    evaluation_uri = Join(on="/", values=[evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri, EVALUATION_FILE])

    # 6a. Register a version (PendingManualApproval: promotion is a human decision and a PR).
    statistics_uri = baseline.properties.CalculatedBaselineStatistics
    constraints_uri = baseline.properties.CalculatedBaselineConstraints
    builder = ModelBuilder(
        image_uri=args.image_uri,
        s3_model_data_url=model_data,
        role_arn=args.role_arn,
        sagemaker_session=session,
        # An explicit type, or ModelBuilder looks a default up; log_level None leaves loggers alone;
        # dependencies None, or the deprecated {"auto": True} default switches on script mode
        # (empty SAGEMAKER_PROGRAM/SUBMIT_DIRECTORY in the container environment).
        instance_type=args.inference_instance_types[0],
        log_level=None,
        dependencies=None,
    )
    with session.telemetry_opted_out():
        register_args = builder.register(
            model_package_group_name=args.model_package_group_name,
            content_types=list(CONTENT_TYPES),
            response_types=list(CONTENT_TYPES),
            inference_instances=list(args.inference_instance_types),
            transform_instances=list(args.transform_instance_types),
            model_metrics=ModelMetrics(
                model_statistics=MetricsSource(content_type="application/json", s3_uri=evaluation_uri),
                model_data_statistics=MetricsSource(content_type="application/json", s3_uri=statistics_uri),
                model_data_constraints=MetricsSource(content_type="application/json", s3_uri=constraints_uri),
            ),
            drift_check_baselines=DriftCheckBaselines(
                model_data_statistics=MetricsSource(
                    content_type="application/json", s3_uri=baseline.properties.BaselineUsedForDriftCheckStatistics
                ),
                model_data_constraints=MetricsSource(
                    content_type="application/json", s3_uri=baseline.properties.BaselineUsedForDriftCheckConstraints
                ),
            ),
            approval_status="PendingManualApproval",
        )
    register = ModelStep(name=STEP_REGISTER, step_args=register_args)

    # 6b. Copy the baseline to s3://<artifact>/baselines/<group>/<version>/: the endpoint component
    # knows only the pinned version number. The version exists only once RegisterModel has run, so
    # the job receives the registered ModelPackageArn (a RegisterModel step property; the v3
    # ModelStep exposes the DescribeModelPackage shape) and parses the version out of it.
    publish_baseline = ProcessingStep(
        name=STEP_PUBLISH_BASELINE,
        step_args=model_image_processor("publish-baseline", None).run(
            arguments=[
                "--model-package-arn", register.properties.ModelPackageArn,
                "--model-package-group", args.model_package_group_name,
                "--statistics-uri", statistics_uri,
                "--constraints-uri", constraints_uri,
                "--destination-prefix", baseline_prefix(args.artifact_bucket, args.model_package_group_name),
                "--kms-key-id", kms,
            ],
        ),
    )

    # 6c. Below the gate: fail the run with the reason, so it shows as Failed with the numbers.
    below_threshold = FailStep(
        name=STEP_FAIL,
        error_message=Join(on=" ", values=["Model AUC", auc, "is below the required minimum", _threshold_literal(args.min_auc), "- not registered."]),
    )

    # 5. The gate. The threshold is a literal, not a pipeline parameter: lowering it must be a
    # reviewed change of `training.minAuc`, not an override on `start-pipeline-execution`.
    gate = ConditionStep(
        name=STEP_CONDITION,
        conditions=[ConditionGreaterThanOrEqualTo(left=auc, right=float(args.min_auc))],
        if_steps=[register, publish_baseline],
        else_steps=[below_threshold],
    )

    pipeline = Pipeline(
        name=args.pipeline_name,
        parameters=[input_data_uri, processing_instance_type, training_instance_type],
        steps=[preprocess, baseline, training_step, evaluate, gate],
        sagemaker_session=session,
        # No SageMaker Experiments trial per run: nothing reads it, and it would need extra IAM.
        pipeline_experiment_config=None,
    )
    return pipeline.definition()


def _threshold_literal(value: float) -> str:
    """The threshold as the gate compares it (`0.8`, not `0.80000001` or `8e-01`)."""
    return repr(float(value))


def _sdk_range(spec: ParameterRangeSpec, continuous: Any, integer: Any, categorical: Any) -> Any:
    if spec.type == "categorical":
        return categorical(list(spec.values or ()))
    if spec.type == "integer":
        # SageMaker wants "3", not "3.0", for an integer range: the SDK stringifies what it gets.
        return integer(int(spec.min or 0), int(spec.max or 0), scaling_type=spec.scaling)
    return continuous(float(spec.min or 0.0), float(spec.max or 0.0), scaling_type=spec.scaling)
