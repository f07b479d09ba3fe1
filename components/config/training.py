"""The `network` and `training` sections: the VPC, and the training pipeline with its optional
hyper-parameter tuning."""

from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import Field
from pydantic.dataclasses import dataclass

from components.config.base import STRICT_SHAPE, KeyOf
from components.config.instance_types import ProcessingInstanceType, TrainingInstanceType
from components.config.schedule import ScheduleExpression


@dataclass(frozen=True, config=STRICT_SHAPE)
class NetworkConfig:
    az_count: Annotated[int, Field(alias="azCount", ge=2, le=3, description="an integer from 2 to 3")]
    """Availability Zones of the VPC, each with one public and one private subnet."""
    nat_gateways: Annotated[int, Field(alias="natGateways", ge=1, description="an integer >= 1")]
    """NAT gateways (with Elastic IPs); the private subnets share them round-robin."""


@dataclass(frozen=True, config=STRICT_SHAPE)
class TuningRange:
    type: Annotated[Literal["continuous", "integer", "categorical"], Field(description="continuous, integer or categorical")]
    """How SageMaker searches this hyper-parameter."""
    min: Annotated[Optional[float], Field(default=None, description="the lower bound (continuous/integer)")] = None
    """Lower bound of a continuous or integer range."""
    max: Annotated[Optional[float], Field(default=None, description="the upper bound (continuous/integer)")] = None
    """Upper bound of a continuous or integer range."""
    values: Annotated[Optional[tuple[str, ...]], Field(default=None, min_length=1, description="the choices (categorical)")] = None
    """The choices of a categorical range."""
    scaling: Annotated[
        Literal["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"],
        Field(default="Auto", description="Auto, Linear, Logarithmic or ReverseLogarithmic"),
    ] = "Auto"
    """How the tuner samples the range."""


@dataclass(frozen=True, config=STRICT_SHAPE)
class TuningConfig:
    max_jobs: Annotated[int, Field(alias="maxJobs", ge=0, le=500, description="an integer from 0 (no tuning) to 500")]
    """Training jobs the Bayesian tuning step runs in total; 0 turns tuning off."""
    max_parallel: Annotated[int, Field(alias="maxParallel", ge=1, le=100, description="an integer from 1 to 100")]
    """Training jobs the tuning step runs at once (at most maxJobs)."""
    ranges: Annotated[dict[str, TuningRange], Field(min_length=1, description="a map of hyper-parameter name to its range")]
    """The hyper-parameters to search, by name."""


@dataclass(frozen=True, config=STRICT_SHAPE)
class TrainingConfig:
    instance_type: Annotated[TrainingInstanceType, Field(alias="instanceType")]
    """Instance type of the training (and tuning) jobs."""
    use_spot: Annotated[bool, Field(alias="useSpot", description="true or false")]
    """Managed spot training, with checkpoints so an interrupted job resumes."""
    schedule: ScheduleExpression
    """When EventBridge starts a periodic retraining run."""
    min_auc: Annotated[float, Field(alias="minAuc", ge=0, le=1, description="a number from 0 to 1")]
    """Quality gate: a model registers only when its test AUC reaches this value."""
    processing_instance_type: Annotated[ProcessingInstanceType, Field(alias="processingInstanceType", default="ml.m5.large")] = (
        "ml.m5.large"
    )
    """Instance type of the processing steps (preprocess, baseline, evaluate)."""
    tuning: Annotated[Optional[TuningConfig], Field(default=None, description="maxJobs, maxParallel and ranges")] = None
    """Optional Bayesian hyper-parameter tuning step in place of the single training job."""

    @property
    def tuning_enabled(self) -> bool:
        return self.tuning is not None and self.tuning.max_jobs > 0


def network_problems(value: NetworkConfig, k: KeyOf) -> list[str]:
    """Rules that span several keys of `network`."""
    problems: list[str] = []
    if value.nat_gateways > value.az_count:
        problems.append(
            f"{k('natGateways')} = {value.nat_gateways}: more NAT gateways than AZs; expected at most azCount ({value.az_count})"
        )
    return problems


def training_problems(value: TrainingConfig, k: KeyOf) -> list[str]:
    """Rules that span several keys of `training` (its tuning ranges)."""
    problems: list[str] = []
    if value.tuning is not None:
        t = value.tuning
        if t.max_parallel > max(t.max_jobs, 1) and t.max_jobs > 0:
            problems.append(
                f"{k('tuning.maxParallel')} = {t.max_parallel}: more parallel jobs than jobs; expected at most maxJobs ({t.max_jobs})"
            )
        for name, r in sorted(t.ranges.items()):
            path = f"tuning.ranges.{name}"
            if r.type == "categorical":
                if r.values is None:
                    problems.append(f"{k(path + '.values')}: required for a categorical range")
                if r.min is not None or r.max is not None:
                    problems.append(f"{k(path)}: a categorical range takes values, not min/max")
            else:
                if r.min is None or r.max is None:
                    problems.append(f"{k(path)}: a {r.type} range needs both min and max")
                elif r.min >= r.max:
                    problems.append(f"{k(path + '.min')} = {r.min}: must be below max ({r.max})")
                if r.values is not None:
                    problems.append(f"{k(path + '.values')}: only categorical ranges take values")
    return problems
