"""The `endpoint` and `monitoring` sections: the real-time endpoint (serverless or provisioned, with
autoscaling and a blue/green canary) and Model Monitor's drift checks."""

from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import Field
from pydantic.dataclasses import dataclass

from components.config.base import STRICT_SHAPE, KeyOf
from components.config.instance_types import EndpointInstanceType, MonitorInstanceType, member_name

SERVERLESS_MEMORY_SIZES = (1024, 2048, 3072, 4096, 5120, 6144)
CANARY_MAX_PERCENT = 50
# The longest bake of a canary: it sets how long an endpoint release may take, which the CI job that
# applies a stack must outlive (components/shared/apply_job.py).
CANARY_MAX_WAIT_MINUTES = 60


@dataclass(frozen=True, config=STRICT_SHAPE)
class ServerlessConfig:
    memory_mb: Annotated[
        Literal[SERVERLESS_MEMORY_SIZES], Field(alias="memoryMb", description=f"one of {', '.join(map(str, SERVERLESS_MEMORY_SIZES))}")  # type: ignore[valid-type]
    ]
    """Memory of a serverless endpoint (serverless mode only)."""
    max_concurrency: Annotated[int, Field(alias="maxConcurrency", ge=1, le=200, description="an integer from 1 to 200")]
    """Concurrent invocations of a serverless endpoint (serverless mode only)."""


@dataclass(frozen=True, config=STRICT_SHAPE)
class AutoscalingConfig:
    min: Annotated[int, Field(ge=1, description="an integer >= 1")]
    """Fewest instances autoscaling keeps (provisioned mode)."""
    max: Annotated[int, Field(ge=1, description="an integer >= 1")]
    """Most instances autoscaling adds (provisioned mode)."""
    target_invocations_per_instance: Annotated[
        int, Field(alias="targetInvocationsPerInstance", ge=1, description="an integer >= 1 (invocations per instance per minute)")
    ]
    """Target of the SageMakerVariantInvocationsPerInstance tracking policy."""
    scale_in_cooldown_seconds: Annotated[
        int, Field(alias="scaleInCooldownSeconds", default=300, ge=0, le=3600, description="seconds from 0 to 3600")
    ] = 300
    """Wait after a scale-in before the next one."""
    scale_out_cooldown_seconds: Annotated[
        int, Field(alias="scaleOutCooldownSeconds", default=60, ge=0, le=3600, description="seconds from 0 to 3600")
    ] = 60
    """Wait after a scale-out before the next one."""


@dataclass(frozen=True, config=STRICT_SHAPE)
class CanaryConfig:
    # AWS: "the canary size should be less than or equal to 50% of the new fleet's capacity".
    percent: Annotated[
        int,
        Field(
            ge=1,
            le=CANARY_MAX_PERCENT,
            description=f"an integer from 1 to {CANARY_MAX_PERCENT} (percent of the new fleet's capacity; AWS allows at most half)",
        ),
    ]
    """Share of the new fleet's capacity (CAPACITY_PERCENT) that serves a new endpoint configuration first (blue/green canary)."""
    wait_minutes: Annotated[
        int, Field(alias="waitMinutes", ge=0, le=CANARY_MAX_WAIT_MINUTES, description=f"an integer from 0 to {CANARY_MAX_WAIT_MINUTES}")
    ]
    """How long the canary serves before the rest of the traffic shifts."""


@dataclass(frozen=True, config=STRICT_SHAPE)
class EndpointConfig:
    mode: Annotated[Literal["serverless", "provisioned"], Field(description="serverless or provisioned")]
    """Serverless (pay per request, no data capture or canary) or provisioned instances."""
    data_capture_percent: Annotated[int, Field(alias="dataCapturePercent", ge=0, le=100, description="an integer from 0 to 100")]
    """Share of requests and responses captured for Model Monitor (provisioned mode)."""
    model_package_version: Annotated[
        Optional[int], Field(alias="modelPackageVersion", default=None, ge=1, description="a model package version >= 1, or absent")
    ] = None
    """The approved model package version this stack serves; absent: no endpoint and no API yet."""
    instance_type: Annotated[
        Optional[EndpointInstanceType],
        Field(alias="instanceType", default=None, description=f"a SageMaker endpoint instance type ({member_name('endpoint')}), or absent"),
    ] = None
    """Instance type of a provisioned endpoint (required there)."""
    instance_count: Annotated[int, Field(alias="instanceCount", default=1, ge=1, description="an integer >= 1")] = 1
    """Initial instance count of a provisioned endpoint (within autoscaling min..max)."""
    serverless: Optional[ServerlessConfig] = None
    """Serverless settings (required when mode is serverless)."""
    autoscaling: Optional[AutoscalingConfig] = None
    """Target-tracking autoscaling (provisioned mode only)."""
    canary: Optional[CanaryConfig] = None
    """Blue/green canary for endpoint updates (provisioned mode only); absent: all at once, still with rollback alarms."""

    @property
    def enabled(self) -> bool:
        return self.model_package_version is not None


@dataclass(frozen=True, config=STRICT_SHAPE)
class MonitoringConfig:
    schedule: Annotated[Literal["hourly", "daily", "off"], Field(description="hourly, daily or off")]
    """How often Model Monitor compares captured traffic with the baseline."""
    drift_threshold: Annotated[float, Field(alias="driftThreshold", default=0.2, gt=0, description="a number > 0")] = 0.2
    """The drift alarm fires when the summed feature drift exceeds this value."""
    instance_type: Annotated[MonitorInstanceType, Field(alias="instanceType", default="ml.m5.large")] = "ml.m5.large"
    """Instance type of the Model Monitor data-quality jobs."""


def endpoint_problems(value: EndpointConfig, k: KeyOf) -> list[str]:
    """Rules that span several keys of `endpoint`: each mode's own settings, autoscaling's bounds."""
    problems: list[str] = []
    if value.mode == "serverless":
        if value.serverless is None:
            problems.append(f"{k('serverless')}: required when mode is serverless (memoryMb, maxConcurrency)")
        for extra in ("autoscaling", "canary"):
            if getattr(value, extra) is not None:
                problems.append(f"{k(extra)}: only valid when mode is provisioned (mode is serverless)")
    else:
        if value.serverless is not None:
            problems.append(f"{k('serverless')}: only valid when mode is serverless (mode is provisioned)")
        if value.instance_type is None:
            problems.append(f"{k('instanceType')}: required when mode is provisioned")
        a = value.autoscaling
        if a is not None:
            if a.min > a.max:
                problems.append(f"{k('autoscaling.min')} = {a.min}: above autoscaling.max ({a.max})")
            elif not a.min <= value.instance_count <= a.max:
                problems.append(f"{k('instanceCount')} = {value.instance_count}: outside autoscaling min..max ({a.min}..{a.max})")
        problems.extend(_canary_fleet(value, k))
    return problems


def _canary_fleet(value: EndpointConfig, k: KeyOf) -> list[str]:
    """A canary is part of the fleet: the new fleet needs an instance for the canary and at least one
    more for the rest, or the "canary" takes all traffic at once. The fleet a release starts from is
    as small as autoscaling may have made it."""
    if value.canary is None:
        return []
    smallest, key = value.instance_count, "instanceCount"
    if value.autoscaling is not None and value.autoscaling.min < smallest:
        smallest, key = value.autoscaling.min, "autoscaling.min"
    if smallest >= 2:
        return []
    return [
        f"{k('canary')}: a canary needs at least 2 instances (one for the canary, one for the rest) but {k(key)} = {smallest}; "
        "expected instanceCount (and autoscaling.min) of 2 or more, or no canary"
    ]
