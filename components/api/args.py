"""CanaryApiArgs: what the prediction API is built from, checked before anything is declared."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi

from components.api.deployment_config import traffic_shift_minutes
from components.api.function_package import API_SOURCE_DIR

LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
# API Gateway waits 30 s at most for an integration.
INTEGRATION_TIMEOUT_MS = 30_000
# The traffic hooks' Lambda timeout: room for their checks, at most Lambda's 15 minutes.
HOOK_TIMEOUT_BOUNDS_SECONDS = (60, 900)


@dataclass(frozen=True)
class CanaryApiArgs:
    name_prefix: str
    region: str
    kms_key_arn: pulumi.Input[str]
    alarm_topic_arn: pulumi.Input[str]
    endpoint_name: pulumi.Input[str]
    endpoint_arn: pulumi.Input[str]
    feature_names: Sequence[str]
    deployment_config_name: str
    """Full CodeDeploy name, e.g. CodeDeployDefault.LambdaCanary10Percent5Minutes."""
    throttle_rate: int
    throttle_burst: int
    log_retention_days: int
    reserved_concurrency: Optional[int] = None
    memory_mb: int = 512
    # Longer than the handler's worst case (2 attempts x (2 s connect + 10 s read) = 24 s) and
    # shorter than API Gateway's 30 s: a hung invocation ends as a Lambda error, which the
    # rollback alarm sees, rather than only as a gateway timeout.
    timeout_seconds: int = 29
    hook_timeout_seconds: int = 300
    duration_p99_threshold_ms: int = 3000
    source_dir: str = API_SOURCE_DIR

    def problems(self) -> list[str]:
        found = []
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            found.append(
                f"log_retention_days={self.log_retention_days} is not a CloudWatch Logs retention (one of {', '.join(map(str, LOG_RETENTION_DAYS))})"
            )
        if min(self.throttle_rate, self.throttle_burst) < 1:
            found.append(f"throttle rate {self.throttle_rate} and burst {self.throttle_burst} must both be >= 1")
        if not 25 <= self.timeout_seconds < INTEGRATION_TIMEOUT_MS // 1000:
            found.append(
                f"timeout_seconds={self.timeout_seconds} must exceed the handler's 24 s worst case and stay under API Gateway's 30 s"
            )
        least, most = HOOK_TIMEOUT_BOUNDS_SECONDS
        if not least <= self.hook_timeout_seconds <= most:
            found.append(
                f"hook_timeout_seconds={self.hook_timeout_seconds} must be {least}..{most} (the hooks keep 45 s in reserve to report)"
            )
        if not self.feature_names:
            found.append("feature_names is empty")
        try:
            traffic_shift_minutes(self.deployment_config_name)
        except ValueError as exc:
            found.append(str(exc))
        return found
