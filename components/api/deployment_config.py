"""CodeDeploy's predefined Lambda deployment configurations and how long each takes to shift traffic."""

from __future__ import annotations

import re

_DEPLOYMENT_CONFIG = re.compile(
    r"^CodeDeployDefault\.Lambda(?:(?P<all>AllAtOnce)|Canary10Percent(?P<canary>\d+)Minutes|Linear10PercentEvery(?P<linear>\d+)Minutes?)$"
)


def traffic_shift_minutes(deployment_config_name: str) -> int:
    """How long CodeDeploy's predefined Lambda configuration takes to shift all traffic."""
    match = _DEPLOYMENT_CONFIG.match(deployment_config_name)
    if match is None:
        raise ValueError(
            f"deployment config {deployment_config_name!r} is not a predefined CodeDeploy Lambda configuration "
            "(expected CodeDeployDefault.LambdaAllAtOnce, ...LambdaCanary10Percent<N>Minutes or ...LambdaLinear10PercentEvery<N>Minute(s))"
        )
    if match["all"]:
        return 0
    if match["canary"]:
        return int(match["canary"])
    return 10 * int(match["linear"])  # ten steps of 10%: generous by one interval
