"""The arguments of the pipeline definition: plain, validated values (resolved Outputs)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, cast

from components.training.definition.layout import analyzer_registries

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
        if isinstance(self.region, str) and _REGION.match(self.region) and self.region not in analyzer_registries():
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
