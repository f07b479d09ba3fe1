"""Typed stack configuration: `Pulumi.<stack>.yaml` parsed into frozen dataclasses.

Every problem is collected and reported at once, each naming the full key, the value and what is
allowed, before the program declares a single resource. Only shape and consistency are checked
here; what a safe production stack must look like is judged by the policy pack (policies/), which
sees the resources whatever code or config produced them.

This module is the entry point (`StackConfig`, `parse_stack_config`, `load_stack_config`); each
section's model and its cross-key rules live in `config_<section>.py`, the error formatting shared by
all of them in `config_base.py`.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

from pydantic import Field, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

from components.config.api import (
    DEFAULT_ACCOUNT_CONCURRENCY_LIMIT,
    LAMBDA_DEPLOYMENT_CONFIGS,
    LAMBDA_UNRESERVED_MINIMUM,
    ApiConfig,
    LambdaDeploymentConfig,
    ThrottleConfig,
    api_problems,
)
from components.config.base import PROJECT, ConfigError, KeyOf, decode, key_of, validation_problems
from components.config.dashboard import (
    CERTIFICATE_ARN,
    FARGATE_MEMORY_BY_CPU,
    Cidr,
    DashboardConfig,
    DashboardScheduleConfig,
    dashboard_problems,
)
from components.config.endpoint import (
    CANARY_MAX_PERCENT,
    SERVERLESS_MEMORY_SIZES,
    AutoscalingConfig,
    CanaryConfig,
    EndpointConfig,
    MonitoringConfig,
    ServerlessConfig,
    endpoint_problems,
)
from components.config.promotion import PromotionConfig, SloConfig, promotion_problems
from components.config.registry import AccountId, RegistryConfig, StackName, referencing_stacks, registry_problems, stack_registry_problems
from components.config.schedule import ScheduleExpression
from components.config.training import (
    NetworkConfig,
    TrainingConfig,
    TuningConfig,
    TuningRange,
    network_problems,
    training_problems,
)

# The names importers use, whichever module defines them.
__all__ = [
    "CANARY_MAX_PERCENT",
    "DEFAULT_ACCOUNT_CONCURRENCY_LIMIT",
    "FARGATE_MEMORY_BY_CPU",
    "LAMBDA_DEPLOYMENT_CONFIGS",
    "LAMBDA_UNRESERVED_MINIMUM",
    "PROJECT",
    "SERVERLESS_MEMORY_SIZES",
    "AccountId",
    "ApiConfig",
    "AutoscalingConfig",
    "CanaryConfig",
    "Cidr",
    "ConfigError",
    "DashboardConfig",
    "DashboardScheduleConfig",
    "Email",
    "EndpointConfig",
    "Environment",
    "LambdaDeploymentConfig",
    "MonitoringConfig",
    "NetworkConfig",
    "NonEmpty",
    "PromotionConfig",
    "RegistryConfig",
    "ScheduleExpression",
    "ServerlessConfig",
    "SloConfig",
    "StackConfig",
    "StackName",
    "ThrottleConfig",
    "TrainingConfig",
    "TuningConfig",
    "TuningRange",
    "load_stack_config",
    "parse_stack_config",
]


Environment = Literal["dev", "prod"]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", description="an e-mail address")]
NonEmpty = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[\w .:/=+\-@]+$", description="a non-empty tag value")]


@dataclass(frozen=True)
class StackConfig:
    """The validated configuration of one stack."""

    project: str
    stack: str
    region: str
    """Region of every resource (`aws:region`)."""
    environment: Environment
    """Stage name, used in resource names and tags."""
    owner: str
    """The `Owner` tag on every resource."""
    cost_center: str
    """The `CostCenter` tag on every resource."""
    notification_email: Optional[str]
    """E-mail subscription to the alarm topic; absent: no subscription."""
    network: NetworkConfig
    """The VPC."""
    training: Optional[TrainingConfig]
    """The training pipeline and model registry; only on the stack that owns the registry."""
    endpoint: EndpointConfig
    """The real-time endpoint serving the pinned model version."""
    monitoring: MonitoringConfig
    """Model Monitor data-quality checks and the drift alarm."""
    api: ApiConfig
    """The prediction API (API Gateway + Lambda released by CodeDeploy)."""
    dashboard: DashboardConfig
    """The Streamlit dashboard on Fargate behind the ALB and Cognito."""
    registry: RegistryConfig = RegistryConfig()
    """Which stack owns the training pipeline and model registry; absent: this one."""
    consumer_stacks: tuple[str, ...] = ()
    """Stacks of this project whose registry.stack names this one (read from their stack files)."""
    promotion: Optional[PromotionConfig] = None
    """The soak a package must pass in the stack it is promoted from (tools.promote); absent: no soak gate."""

    @property
    def owns_registry(self) -> bool:
        """This stack declares the training pipeline and the model package group."""
        return self.registry.owned

    @property
    def registry_shared(self) -> bool:
        """This stack owns a registry that another stack or account serves from: its group, artifact
        bucket, image repository and key must outlive this stack's own mistakes (protect, no force
        delete, the longest key deletion window)."""
        return self.owns_registry and bool(self.registry.consumer_accounts or self.consumer_stacks)

    @property
    def is_prod(self) -> bool:
        return self.environment == "prod"

    @property
    def name_prefix(self) -> str:
        """Short prefix for physical names that must be unique per account and region."""
        return f"mlops-{self.environment}"

    @property
    def tags(self) -> dict[str, str]:
        return {
            "Project": self.project,
            "Environment": self.environment,
            "Owner": self.owner,
            "CostCenter": self.cost_center,
            "ManagedBy": "pulumi",
        }


# key -> (type, required). Scalars arrive from the engine as strings, objects as JSON.
_SECTIONS: dict[str, tuple[Any, bool]] = {
    "environment": (Annotated[Environment, Field(description="dev or prod")], True),
    "owner": (NonEmpty, True),
    "costCenter": (NonEmpty, True),
    "notificationEmail": (Email, False),
    "network": (NetworkConfig, True),
    # Required on the stack that owns the registry, refused on one that consumes it (stack_registry_problems).
    "training": (TrainingConfig, False),
    "endpoint": (EndpointConfig, True),
    "monitoring": (MonitoringConfig, True),
    "api": (ApiConfig, True),
    "dashboard": (DashboardConfig, True),
    "registry": (RegistryConfig, False),
    "promotion": (PromotionConfig, False),
}
_ADAPTERS = {key: TypeAdapter(tp) for key, (tp, _) in _SECTIONS.items()}
_REGION_KEY = "aws:region"
# Namespaces a stack file may use besides the project's: the engine's own and the providers this
# program runs (requirements.txt). Anything else is a typo whose setting would be silently ignored.
OTHER_NAMESPACES = ("aws", "docker", "tls", "pulumi")
_REGION = r"^[a-z]{2}(-gov)?-[a-z]+-\d$"


# Rules that span several keys of one section, by section.
_CONSISTENCY: dict[str, Callable[[Any, KeyOf], list[str]]] = {
    "network": network_problems,
    "training": training_problems,
    "endpoint": endpoint_problems,
    "api": api_problems,
    "dashboard": dashboard_problems,
    "registry": registry_problems,
    "promotion": promotion_problems,
}


def _consistency(section: str, value: Any) -> list[str]:
    """Rules that span several keys of one section."""
    rules = _CONSISTENCY.get(section)
    return rules(value, key_of(section)) if rules is not None else []


def _foreign_keys(raw: Mapping[str, Any]) -> list[str]:
    """Keys outside the project's and the providers' namespaces (`sagemaker-mlop:owner`, `owner`)."""
    problems = []
    namespaces = (PROJECT, *OTHER_NAMESPACES)
    for key in sorted(raw):
        namespace, colon, name = key.partition(":")
        if colon and namespace in namespaces:
            continue
        close = difflib.get_close_matches(namespace, namespaces, n=1) if colon else []
        hint = f" (did you mean {close[0]}:{name}?)" if close else ""
        problems.append(
            f"{key}: unknown namespace '{namespace if colon else ''}'{hint}; expected {PROJECT}:<key>, or a key of {', '.join(f'{n}:' for n in OTHER_NAMESPACES)}"
        )
    return problems


def parse_stack_config(raw: Mapping[str, Any], project: str, stack: str, consumer_stacks: tuple[str, ...] = ()) -> StackConfig:
    """Parses the flat engine config (`namespace:key` -> value) into a StackConfig.

    Raises ConfigError listing every problem found.
    """
    problems: list[str] = []
    prefix = f"{PROJECT}:"
    ours = {k[len(prefix) :]: decode(v) for k, v in raw.items() if k.startswith(prefix)}
    for unknown in sorted(set(ours) - set(_SECTIONS)):
        problems.append(f"{prefix}{unknown}: unknown key; allowed keys: {', '.join(_SECTIONS)}")
    problems.extend(_foreign_keys(raw))

    parsed: dict[str, Any] = {}
    for key, (_, required) in _SECTIONS.items():
        if key not in ours:
            if required:
                problems.append(f"{prefix}{key}: required key is missing")
            else:
                parsed[key] = None
            continue
        try:
            value = _ADAPTERS[key].validate_python(ours[key])
        except ValidationError as exc:
            problems.extend(validation_problems(key, _SECTIONS[key][0], exc))
            continue
        problems.extend(_consistency(key, value))
        parsed[key] = value

    problems.extend(stack_registry_problems(stack, parsed, set(ours) & set(_SECTIONS)))

    region = raw.get(_REGION_KEY)
    if region is None:
        problems.append(f"{_REGION_KEY}: required key is missing; expected an AWS region such as us-east-1")
    elif not isinstance(region, str) or not re.match(_REGION, region):
        problems.append(f"{_REGION_KEY} = {json.dumps(region)}: not an AWS region; expected a region such as us-east-1")
    elif isinstance(parsed.get("dashboard"), DashboardConfig) and parsed["dashboard"].certificate_arn is not None:
        # A load balancer can use only certificates of its own Region.
        arn = parsed["dashboard"].certificate_arn
        cert_region = re.match(CERTIFICATE_ARN, arn)["region"]  # type: ignore[index]  # the field's pattern matched
        if cert_region != region:
            problems.append(
                f"{PROJECT}:dashboard.certificateArn = {json.dumps(arn)}: a certificate of {cert_region}; expected one of the stack's Region {region} (an ALB uses only certificates of its Region)"
            )

    if problems:
        raise ConfigError(stack, problems)
    return StackConfig(
        project=project,
        stack=stack,
        region=region,
        environment=parsed["environment"],
        owner=parsed["owner"],
        cost_center=parsed["costCenter"],
        notification_email=parsed["notificationEmail"],
        network=parsed["network"],
        training=parsed["training"],
        endpoint=parsed["endpoint"],
        monitoring=parsed["monitoring"],
        api=parsed["api"],
        dashboard=parsed["dashboard"],
        registry=parsed["registry"] or RegistryConfig(),
        consumer_stacks=consumer_stacks,
        promotion=parsed["promotion"],
    )


def load_stack_config() -> StackConfig:
    """Reads the running program's config (real engine or mocks) and parses it."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    stack = pulumi.get_stack()
    # The engine runs the program from the project directory, beside the other stacks' files.
    return parse_stack_config(raw, project=pulumi.get_project(), stack=stack, consumer_stacks=referencing_stacks(Path.cwd(), stack))
