"""The `api` section: the prediction API (API Gateway + Lambda) and how CodeDeploy releases it."""

from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import Field
from pydantic.dataclasses import dataclass

from components.config.base import STRICT_SHAPE, KeyOf

# CodeDeploy's predefined Lambda deployment configurations, without the `CodeDeployDefault.` prefix.
LAMBDA_DEPLOYMENT_CONFIGS = (
    "LambdaAllAtOnce",
    "LambdaCanary10Percent5Minutes",
    "LambdaCanary10Percent10Minutes",
    "LambdaCanary10Percent15Minutes",
    "LambdaCanary10Percent30Minutes",
    "LambdaLinear10PercentEvery1Minute",
    "LambdaLinear10PercentEvery2Minutes",
    "LambdaLinear10PercentEvery3Minutes",
    "LambdaLinear10PercentEvery10Minutes",
)
LambdaDeploymentConfig = Literal[LAMBDA_DEPLOYMENT_CONFIGS]  # type: ignore[valid-type]
# PutFunctionConcurrency: "leave at least 100 simultaneous executions unreserved".
LAMBDA_UNRESERVED_MINIMUM = 100
DEFAULT_ACCOUNT_CONCURRENCY_LIMIT = 1000


@dataclass(frozen=True, config=STRICT_SHAPE)
class ThrottleConfig:
    rate: Annotated[int, Field(ge=1, description="an integer >= 1 (requests per second)")]
    """API Gateway stage's steady-state request limit."""
    burst: Annotated[int, Field(ge=1, description="an integer >= 1")]
    """API Gateway stage's burst limit."""


@dataclass(frozen=True, config=STRICT_SHAPE)
class ApiConfig:
    deployment_config: Annotated[
        LambdaDeploymentConfig, Field(alias="deploymentConfig", description=f"one of {', '.join(LAMBDA_DEPLOYMENT_CONFIGS)}")
    ]
    """CodeDeploy configuration (without `CodeDeployDefault.`) that shifts traffic to a new API version."""
    throttle: ThrottleConfig
    """API Gateway stage throttling."""
    reserved_concurrency: Annotated[
        Optional[int], Field(alias="reservedConcurrency", default=None, ge=1, description="an integer >= 1, or absent")
    ] = None
    """Reserved concurrency of the prediction Lambda; absent: unreserved. At most accountConcurrencyLimit - 100."""
    account_concurrency_limit: Annotated[
        int,
        Field(
            alias="accountConcurrencyLimit",
            default=DEFAULT_ACCOUNT_CONCURRENCY_LIMIT,
            ge=1,
            description="an integer >= 1 (the account's Lambda ConcurrentExecutions in the stack's Region)",
        ),
    ] = DEFAULT_ACCOUNT_CONCURRENCY_LIMIT
    """The account's Lambda concurrency limit (`aws lambda get-account-settings`); new accounts may have less than 1000."""

    @property
    def codedeploy_config_name(self) -> str:
        return codedeploy_config_name(self.deployment_config)


def codedeploy_config_name(deployment_config: str) -> str:
    """CodeDeploy's full name of one of LAMBDA_DEPLOYMENT_CONFIGS."""
    return f"CodeDeployDefault.{deployment_config}"


def api_problems(value: ApiConfig, k: KeyOf) -> list[str]:
    """Rules that span several keys of `api`: reserved concurrency within the account's limit."""
    problems: list[str] = []
    if value.reserved_concurrency is not None:
        most = value.account_concurrency_limit - LAMBDA_UNRESERVED_MINIMUM
        if value.reserved_concurrency > most:
            problems.append(
                f"{k('reservedConcurrency')} = {value.reserved_concurrency}: AWS keeps {LAMBDA_UNRESERVED_MINIMUM} executions unreserved, "
                f"so with accountConcurrencyLimit {value.account_concurrency_limit} expected at most {max(most, 0)}"
                + ("" if most >= 1 else "; remove reservedConcurrency or raise the account's Lambda concurrency quota")
            )
    return problems
