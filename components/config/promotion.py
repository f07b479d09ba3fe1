"""The `promotion` section, on the stack a model is promoted into (prod): how long the stack it is
promoted from (dev) must have served the exact package, and the service levels that soak must meet.
The program declares nothing from it; tools.promote reads it through this parser so a typo is refused
by the same checks as every other key."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic.dataclasses import dataclass

from components.config.base import STRICT_SHAPE, KeyOf


@dataclass(frozen=True, config=STRICT_SHAPE)
class SloConfig:
    max_5xx_rate: Annotated[
        float, Field(alias="max5xxRate", default=0.01, ge=0, le=1, description="a fraction from 0 to 1 (0.01 = 1% of invocations)")
    ] = 0.01
    """Highest share of invocations answered 5XX (Invocation5XXErrors / Invocations) over the soak."""
    p99_latency_ms: Annotated[
        float, Field(alias="p99LatencyMs", default=500, gt=0, le=60000, description="milliseconds, above 0 and at most 60000")
    ] = 500
    """Highest p99 ModelLatency of any hour of the soak."""
    min_invocations: Annotated[int, Field(alias="minInvocations", default=100, ge=1, description="an integer >= 1")] = 100
    """Fewest invocations the soak must have served: an idle soak proves nothing."""
    max_data_quality_violations: Annotated[int, Field(alias="maxDataQualityViolations", default=0, ge=0, description="an integer >= 0")] = 0
    """Most constraint violations in Model Monitor's reports written during the soak."""


@dataclass(frozen=True, config=STRICT_SHAPE)
class PromotionConfig:
    soak_hours: Annotated[float, Field(alias="soakHours", default=24, gt=0, le=720, description="hours, above 0 and at most 720")] = 24
    """How long the source stack (dev) must have served the exact package before it may be promoted here."""
    evidence_max_age_hours: Annotated[
        float, Field(alias="evidenceMaxAgeHours", default=24, gt=0, le=168, description="hours, above 0 and at most 168")
    ] = 24
    """How old the soak evidence may be when the deploy re-checks it."""
    slo: SloConfig = SloConfig()
    """The service levels the soak must meet (besides: no drift alarm, no rollback)."""


def promotion_problems(value: PromotionConfig, k: KeyOf) -> list[str]:
    """Rules that span several keys of `promotion`."""
    if value.evidence_max_age_hours > value.soak_hours * 7:
        return [
            f"{k('evidenceMaxAgeHours')} = {value.evidence_max_age_hours:g}: more than seven soaks ({value.soak_hours:g} h each); "
            "expected evidence no older than a week of soaks"
        ]
    return []
