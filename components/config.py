"""Typed stack configuration: `Pulumi.<stack>.yaml` parsed into frozen dataclasses.

Every problem is collected and reported at once, each naming the full key, the value and what is
allowed, before the program declares a single resource. Only shape and consistency are checked
here; what a safe production stack must look like is judged by the policy pack (policies/), which
sees the resources whatever code or config produced them.
"""

from __future__ import annotations

import ipaddress
import json
import re
import zoneinfo
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Optional

from pydantic import AfterValidator, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

PROJECT = "sagemaker-mlops"

_STRICT_SHAPE = ConfigDict(extra="forbid")

InstanceType = Annotated[str, Field(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$", description="a SageMaker instance type such as ml.m5.large")]
ScheduleExpression = Annotated[
    str, Field(pattern=r"^(cron\(\S+( \S+){5}\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\))$",
               description="an EventBridge expression: cron(min hour dom month dow year) or rate(N unit)")
]

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

# Fargate's valid task sizes: cpu units -> allowed memory (MiB).
FARGATE_MEMORY_BY_CPU: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),
    16384: tuple(range(32768, 122881, 8192)),
}
SERVERLESS_MEMORY_SIZES = (1024, 2048, 3072, 4096, 5120, 6144)
CANARY_MAX_PERCENT = 50
# PutFunctionConcurrency: "leave at least 100 simultaneous executions unreserved".
LAMBDA_UNRESERVED_MINIMUM = 100
DEFAULT_ACCOUNT_CONCURRENCY_LIMIT = 1000
_HOSTNAME = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
_CERTIFICATE_ARN = r"^arn:aws[a-z-]*:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[A-Za-z0-9-]+$"


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError as exc:
        raise ValueError(f"not a CIDR block ({exc})") from None


Cidr = Annotated[str, AfterValidator(_cidr), Field(description="an IPv4/IPv6 CIDR block such as 10.0.0.0/16")]


@dataclass(frozen=True, config=_STRICT_SHAPE)
class NetworkConfig:
    az_count: Annotated[int, Field(alias="azCount", ge=2, le=3, description="an integer from 2 to 3")]
    """Availability Zones of the VPC, each with one public and one private subnet."""
    nat_gateways: Annotated[int, Field(alias="natGateways", ge=1, description="an integer >= 1")]
    """NAT gateways (with Elastic IPs); the private subnets share them round-robin."""


@dataclass(frozen=True, config=_STRICT_SHAPE)
class TuningRange:
    type: Annotated[Literal["continuous", "integer", "categorical"], Field(description="continuous, integer or categorical")]
    """How SageMaker searches this hyper-parameter."""
    min: Annotated[Optional[float], Field(default=None, description="the lower bound (continuous/integer)")] = None
    """Lower bound of a continuous or integer range."""
    max: Annotated[Optional[float], Field(default=None, description="the upper bound (continuous/integer)")] = None
    """Upper bound of a continuous or integer range."""
    values: Annotated[Optional[tuple[str, ...]], Field(default=None, min_length=1, description="the choices (categorical)")] = None
    """The choices of a categorical range."""
    scaling: Annotated[Literal["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"], Field(default="Auto", description="Auto, Linear, Logarithmic or ReverseLogarithmic")] = "Auto"
    """How the tuner samples the range."""


@dataclass(frozen=True, config=_STRICT_SHAPE)
class TuningConfig:
    max_jobs: Annotated[int, Field(alias="maxJobs", ge=0, le=500, description="an integer from 0 (no tuning) to 500")]
    """Training jobs the Bayesian tuning step runs in total; 0 turns tuning off."""
    max_parallel: Annotated[int, Field(alias="maxParallel", ge=1, le=100, description="an integer from 1 to 100")]
    """Training jobs the tuning step runs at once (at most maxJobs)."""
    ranges: Annotated[dict[str, TuningRange], Field(min_length=1, description="a map of hyper-parameter name to its range")]
    """The hyper-parameters to search, by name."""


@dataclass(frozen=True, config=_STRICT_SHAPE)
class TrainingConfig:
    instance_type: Annotated[InstanceType, Field(alias="instanceType")]
    """Instance type of the training (and tuning) jobs."""
    use_spot: Annotated[bool, Field(alias="useSpot", description="true or false")]
    """Managed spot training, with checkpoints so an interrupted job resumes."""
    schedule: ScheduleExpression
    """When EventBridge starts a periodic retraining run."""
    min_auc: Annotated[float, Field(alias="minAuc", ge=0, le=1, description="a number from 0 to 1")]
    """Quality gate: a model registers only when its test AUC reaches this value."""
    processing_instance_type: Annotated[InstanceType, Field(alias="processingInstanceType", default="ml.m5.large")] = "ml.m5.large"
    """Instance type of the processing steps (preprocess, baseline, evaluate)."""
    tuning: Annotated[Optional[TuningConfig], Field(default=None, description="maxJobs, maxParallel and ranges")] = None
    """Optional Bayesian hyper-parameter tuning step in place of the single training job."""

    @property
    def tuning_enabled(self) -> bool:
        return self.tuning is not None and self.tuning.max_jobs > 0


@dataclass(frozen=True, config=_STRICT_SHAPE)
class ServerlessConfig:
    memory_mb: Annotated[Literal[SERVERLESS_MEMORY_SIZES], Field(alias="memoryMb", description=f"one of {', '.join(map(str, SERVERLESS_MEMORY_SIZES))}")]  # type: ignore[valid-type]
    """Memory of a serverless endpoint (serverless mode only)."""
    max_concurrency: Annotated[int, Field(alias="maxConcurrency", ge=1, le=200, description="an integer from 1 to 200")]
    """Concurrent invocations of a serverless endpoint (serverless mode only)."""


@dataclass(frozen=True, config=_STRICT_SHAPE)
class AutoscalingConfig:
    min: Annotated[int, Field(ge=1, description="an integer >= 1")]
    """Fewest instances autoscaling keeps (provisioned mode)."""
    max: Annotated[int, Field(ge=1, description="an integer >= 1")]
    """Most instances autoscaling adds (provisioned mode)."""
    target_invocations_per_instance: Annotated[int, Field(alias="targetInvocationsPerInstance", ge=1, description="an integer >= 1 (invocations per instance per minute)")]
    """Target of the SageMakerVariantInvocationsPerInstance tracking policy."""
    scale_in_cooldown_seconds: Annotated[int, Field(alias="scaleInCooldownSeconds", default=300, ge=0, le=3600, description="seconds from 0 to 3600")] = 300
    """Wait after a scale-in before the next one."""
    scale_out_cooldown_seconds: Annotated[int, Field(alias="scaleOutCooldownSeconds", default=60, ge=0, le=3600, description="seconds from 0 to 3600")] = 60
    """Wait after a scale-out before the next one."""


@dataclass(frozen=True, config=_STRICT_SHAPE)
class CanaryConfig:
    # AWS: "the canary size should be less than or equal to 50% of the new fleet's capacity".
    percent: Annotated[int, Field(ge=1, le=CANARY_MAX_PERCENT, description=f"an integer from 1 to {CANARY_MAX_PERCENT} (percent of the new fleet's capacity; AWS allows at most half)")]
    """Share of the new fleet's capacity (CAPACITY_PERCENT) that serves a new endpoint configuration first (blue/green canary)."""
    wait_minutes: Annotated[int, Field(alias="waitMinutes", ge=0, le=60, description="an integer from 0 to 60")]
    """How long the canary serves before the rest of the traffic shifts."""


@dataclass(frozen=True, config=_STRICT_SHAPE)
class EndpointConfig:
    mode: Annotated[Literal["serverless", "provisioned"], Field(description="serverless or provisioned")]
    """Serverless (pay per request, no data capture or canary) or provisioned instances."""
    data_capture_percent: Annotated[int, Field(alias="dataCapturePercent", ge=0, le=100, description="an integer from 0 to 100")]
    """Share of requests and responses captured for Model Monitor (provisioned mode)."""
    model_package_version: Annotated[Optional[int], Field(alias="modelPackageVersion", default=None, ge=1, description="a model package version >= 1, or absent")] = None
    """The approved model package version this stack serves; absent: no endpoint and no API yet."""
    instance_type: Annotated[Optional[InstanceType], Field(alias="instanceType", default=None, description="a SageMaker instance type such as ml.m5.large")] = None
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


@dataclass(frozen=True, config=_STRICT_SHAPE)
class MonitoringConfig:
    schedule: Annotated[Literal["hourly", "daily", "off"], Field(description="hourly, daily or off")]
    """How often Model Monitor compares captured traffic with the baseline."""
    drift_threshold: Annotated[float, Field(alias="driftThreshold", default=0.2, gt=0, description="a number > 0")] = 0.2
    """The drift alarm fires when the summed feature drift exceeds this value."""


@dataclass(frozen=True, config=_STRICT_SHAPE)
class ThrottleConfig:
    rate: Annotated[int, Field(ge=1, description="an integer >= 1 (requests per second)")]
    """API Gateway stage's steady-state request limit."""
    burst: Annotated[int, Field(ge=1, description="an integer >= 1")]
    """API Gateway stage's burst limit."""


@dataclass(frozen=True, config=_STRICT_SHAPE)
class ApiConfig:
    deployment_config: Annotated[LambdaDeploymentConfig, Field(alias="deploymentConfig", description=f"one of {', '.join(LAMBDA_DEPLOYMENT_CONFIGS)}")]
    """CodeDeploy configuration (without `CodeDeployDefault.`) that shifts traffic to a new API version."""
    throttle: ThrottleConfig
    """API Gateway stage throttling."""
    reserved_concurrency: Annotated[Optional[int], Field(alias="reservedConcurrency", default=None, ge=1, description="an integer >= 1, or absent")] = None
    """Reserved concurrency of the prediction Lambda; absent: unreserved. At most accountConcurrencyLimit - 100."""
    account_concurrency_limit: Annotated[int, Field(alias="accountConcurrencyLimit", default=DEFAULT_ACCOUNT_CONCURRENCY_LIMIT, ge=1, description="an integer >= 1 (the account's Lambda ConcurrentExecutions in the stack's Region)")] = DEFAULT_ACCOUNT_CONCURRENCY_LIMIT
    """The account's Lambda concurrency limit (`aws lambda get-account-settings`); new accounts may have less than 1000."""

    @property
    def codedeploy_config_name(self) -> str:
        return f"CodeDeployDefault.{self.deployment_config}"


_WEEKDAY = r"(MON|TUE|WED|THU|FRI|SAT|SUN)"


@dataclass(frozen=True, config=_STRICT_SHAPE)
class DashboardScheduleConfig:
    """When the dashboard runs; outside these hours its service is scaled to zero tasks."""

    days: Annotated[str, Field(pattern=rf"^{_WEEKDAY}(-{_WEEKDAY})?(,{_WEEKDAY}(-{_WEEKDAY})?)*$", description="days of the week as in cron, e.g. MON-FRI or MON,WED,FRI")]
    """Days the dashboard runs (cron day-of-week names)."""
    start: Annotated[int, Field(ge=0, le=23, description="an hour from 0 to 23")]
    """Hour it starts, in `timezone`."""
    stop: Annotated[int, Field(ge=1, le=23, description="an hour from 1 to 23, after start")]
    """Hour it scales to zero, in `timezone` (same day: the schedule does not run overnight)."""
    timezone: Annotated[str, Field(default="UTC", description="an IANA time zone such as UTC or Europe/Paris")] = "UTC"
    """Time zone of start and stop (Application Auto Scaling scheduled actions take IANA names)."""


@dataclass(frozen=True, config=_STRICT_SHAPE)
class DashboardConfig:
    desired_count: Annotated[int, Field(alias="desiredCount", ge=1, le=20, description="an integer from 1 to 20")]
    """Fargate tasks of the Streamlit dashboard."""
    cpu: Annotated[Literal[tuple(FARGATE_MEMORY_BY_CPU)], Field(description=f"Fargate cpu units: one of {', '.join(map(str, FARGATE_MEMORY_BY_CPU))}")]  # type: ignore[valid-type]
    """CPU units of one dashboard task."""
    memory: Annotated[int, Field(ge=512, description="MiB valid for the cpu size")]
    """Memory (MiB) of one dashboard task."""
    allowed_cidrs: Annotated[tuple[Cidr, ...], Field(alias="allowedCidrs", min_length=1, description="a non-empty list of CIDR blocks")]
    """Who may reach the dashboard's load balancer."""
    certificate_arn: Annotated[Optional[str], Field(alias="certificateArn", default=None, pattern=_CERTIFICATE_ARN, description="an ACM certificate ARN in the stack's Region, or absent")] = None
    """Your ACM certificate for domainName; absent: one the program validates in hostedZoneId, or (no domain) a self-signed one."""
    domain_name: Annotated[Optional[str], Field(alias="domainName", default=None, max_length=253, pattern=_HOSTNAME, description="a lower-case DNS name such as dashboard.example.com, or absent")] = None
    """The name users open; Cognito's callback and sign-out URLs use it. Absent: the ALB's DNS name."""
    hosted_zone_id: Annotated[Optional[str], Field(alias="hostedZoneId", default=None, pattern=r"^Z[A-Z0-9]{1,31}$", description="a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ, or absent")] = None
    """Route 53 public zone of domainName: the program adds the alias record and a DNS-validated certificate."""
    schedule: Annotated[Optional[DashboardScheduleConfig], Field(default=None, description="an object with days, start, stop and timezone, or absent")] = None
    """Working hours of the dashboard (its tasks are scaled to zero outside them); absent: always on."""


StackName = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$",
               description="a fully qualified stack name <org>/<project>/<stack>, e.g. acme/sagemaker-mlops/dev")
]
AccountId = Annotated[str, Field(pattern=r"^\d{12}$", description='a 12-digit AWS account id, quoted (e.g. "210987654321")')]


@dataclass(frozen=True, config=_STRICT_SHAPE)
class RegistryConfig:
    """Where the one training pipeline and model registry live.

    Absent `stack`: this stack owns them (and may grant `consumerAccounts` what serving needs).
    `stack` set: this stack declares none and serves from that stack's registry (StackReference).
    """

    stack: Annotated[Optional[StackName], Field(default=None, description="a fully qualified stack name <org>/<project>/<stack>, e.g. acme/sagemaker-mlops/dev")] = None
    """The stack that owns the registry, read through a StackReference; absent: this stack owns it."""
    consumer_accounts: Annotated[tuple[AccountId, ...], Field(alias="consumerAccounts", default=(), description="a list of 12-digit AWS account ids, quoted")] = ()
    """Accounts whose stacks may serve this registry's models (owner stack only)."""

    @property
    def owned(self) -> bool:
        return self.stack is None


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

    @property
    def owns_registry(self) -> bool:
        """This stack declares the training pipeline and the model package group."""
        return self.registry.owned

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
    # Required on the stack that owns the registry, refused on one that consumes it (_registry_problems).
    "training": (TrainingConfig, False),
    "endpoint": (EndpointConfig, True),
    "monitoring": (MonitoringConfig, True),
    "api": (ApiConfig, True),
    "dashboard": (DashboardConfig, True),
    "registry": (RegistryConfig, False),
}
_ADAPTERS = {key: TypeAdapter(tp) for key, (tp, _) in _SECTIONS.items()}
_REGION_KEY = "aws:region"
_REGION = r"^[a-z]{2}(-gov)?-[a-z]+-\d$"


class ConfigError(Exception):
    """Invalid stack configuration; `problems` has one clear line per problem."""

    def __init__(self, stack: str, problems: list[str]):
        self.stack = stack
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid configuration for stack '{stack}' ({len(problems)} problem{'s' if len(problems) != 1 else ''}):\n{lines}")


def _key(section: str, loc: tuple[Any, ...]) -> str:
    path = section
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return f"{PROJECT}:{path}"


def _fields(tp: Any) -> dict[str, Any]:
    """alias -> pydantic FieldInfo of a config dataclass (empty for anything else)."""
    infos = getattr(tp, "__pydantic_fields__", None) or {}
    return {(info.alias or name): info for name, info in infos.items()}


def _inner_dataclass(annotation: Any) -> Any:
    """The config dataclass inside Optional[...] / dict[str, ...], if any."""
    if hasattr(annotation, "__pydantic_fields__"):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_dataclass(arg)
        if found is not None:
            return found
    return None


def _field_at(section_type: Any, loc: tuple[Any, ...]) -> tuple[Any, Any]:
    """Follows `loc` through nested config dataclasses: (leaf FieldInfo or None, leaf's container type)."""
    tp, info = section_type, None
    for part in loc:
        if tp is None:
            if isinstance(part, int) and info is not None:
                continue  # an item of a list: the list's field describes its items
            return None, None
        if part in _fields(tp):
            info = _fields(tp)[part]
            tp = _inner_dataclass(info.annotation)
        elif info is not None and "dict" in str(info.annotation):
            continue  # a map key such as a hyper-parameter name
        elif isinstance(part, int):
            continue
        else:
            return None, tp
    return info, tp


def _format_error(section: str, error: Mapping[str, Any]) -> str:
    section_type = _SECTIONS[section][0]
    loc = tuple(error["loc"])
    key = _key(section, loc)
    kind = error["type"]
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        _, container = _field_at(section_type, loc[:-1])
        allowed = list(_fields(container)) if container is not None else []
        hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        return f"{key}: unknown key{hint}"
    if kind in ("missing", "missing_argument"):
        return f"{key}: required key is missing"
    if loc:
        info, _ = _field_at(section_type, loc)
        description = info.description if info is not None else None
    elif _fields(section_type):
        description = f"a map with the keys {', '.join(_fields(section_type))}"
    else:
        description = next((m.description for m in getattr(section_type, "__metadata__", ()) if getattr(m, "description", None)), None)
    # A literal error already lists the allowed values.
    expected = f"; expected {description}" if description and kind != "literal_error" else ""
    return f"{key} = {json.dumps(error.get('input'), default=str)}: {error['msg']}{expected}"


def _errors(section: str, exc: ValidationError) -> list[str]:
    errors = exc.errors(include_url=False)
    locs = [tuple(e["loc"]) for e in errors]
    # A container error ("at least 1 item after validation") only echoes its failing items.
    leaves = [e for e, loc in zip(errors, locs) if not any(o != loc and o[: len(loc)] == loc for o in locs)]
    return [_format_error(section, e) for e in leaves]


def _consistency(section: str, value: Any) -> list[str]:
    """Rules that span several keys of one section."""
    problems: list[str] = []
    k = lambda path: f"{PROJECT}:{section}.{path}"  # noqa: E731 - a local path formatter
    if isinstance(value, NetworkConfig) and value.nat_gateways > value.az_count:
        problems.append(f"{k('natGateways')} = {value.nat_gateways}: more NAT gateways than AZs; expected at most azCount ({value.az_count})")
    if isinstance(value, TrainingConfig) and value.tuning is not None:
        t = value.tuning
        if t.max_parallel > max(t.max_jobs, 1) and t.max_jobs > 0:
            problems.append(f"{k('tuning.maxParallel')} = {t.max_parallel}: more parallel jobs than jobs; expected at most maxJobs ({t.max_jobs})")
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
    if isinstance(value, EndpointConfig):
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
    if isinstance(value, ApiConfig) and value.reserved_concurrency is not None:
        most = value.account_concurrency_limit - LAMBDA_UNRESERVED_MINIMUM
        if value.reserved_concurrency > most:
            problems.append(
                f"{k('reservedConcurrency')} = {value.reserved_concurrency}: AWS keeps {LAMBDA_UNRESERVED_MINIMUM} executions unreserved, "
                f"so with accountConcurrencyLimit {value.account_concurrency_limit} expected at most {max(most, 0)}"
                + ("" if most >= 1 else "; remove reservedConcurrency or raise the account's Lambda concurrency quota")
            )
    if isinstance(value, DashboardConfig):
        problems.extend(_dashboard_domain(value, k))
    if isinstance(value, DashboardConfig) and value.schedule is not None:
        schedule = value.schedule
        if schedule.stop <= schedule.start:
            problems.append(f"{k('schedule.stop')} = {schedule.stop}: must be after schedule.start ({schedule.start}); a schedule runs within one day")
        try:
            zoneinfo.ZoneInfo(schedule.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            problems.append(f"{k('schedule.timezone')} = {json.dumps(schedule.timezone)}: not an IANA time zone; expected e.g. UTC or Europe/Paris")
    if isinstance(value, RegistryConfig):
        if value.stack is not None and value.consumer_accounts:
            problems.append(
                f"{k('consumerAccounts')}: only valid on the stack that owns the registry; this stack consumes "
                f"the registry of {value.stack} (registry.stack), which must grant the accounts instead"
            )
        if value.stack is not None and value.stack.split("/")[1] != PROJECT:
            problems.append(f"{k('stack')} = {json.dumps(value.stack)}: names project '{value.stack.split('/')[1]}'; expected a stack of project {PROJECT}")
        duplicates = sorted({a for a in value.consumer_accounts if value.consumer_accounts.count(a) > 1})
        if duplicates:
            problems.append(f"{k('consumerAccounts')}: {', '.join(duplicates)} listed more than once; expected each account once")
    if isinstance(value, DashboardConfig) and value.memory not in FARGATE_MEMORY_BY_CPU[value.cpu]:
        allowed = FARGATE_MEMORY_BY_CPU[value.cpu]
        problems.append(f"{k('memory')} = {value.memory}: not a valid Fargate size for cpu {value.cpu}; expected one of {allowed[0]}..{allowed[-1]} in steps of {allowed[1] - allowed[0]}")
    return problems


def _dashboard_domain(value: DashboardConfig, k: Any) -> list[str]:
    """A certificate is for a name, and a name needs a certificate users' browsers trust."""
    problems = []
    if value.domain_name is None:
        for key, given in (("certificateArn", value.certificate_arn), ("hostedZoneId", value.hosted_zone_id)):
            if given is not None:
                problems.append(f"{k(key)} = {json.dumps(given)}: only valid with dashboard.domainName (the name it is for); set domainName or remove {key}")
    elif value.certificate_arn is None and value.hosted_zone_id is None:
        problems.append(
            f"{k('domainName')} = {json.dumps(value.domain_name)}: needs a certificate for that name; set dashboard.hostedZoneId "
            "(the program creates the DNS record and a DNS-validated certificate) or dashboard.certificateArn (your certificate; "
            "point the name at the output dashboardLoadBalancerDnsName yourself)"
        )
    return problems


def _registry_problems(stack: str, parsed: Mapping[str, Any], present: set[str]) -> list[str]:
    """The registry's owner trains; a consumer trains nothing and names another stack."""
    registry = parsed.get("registry") or RegistryConfig()
    if "registry" in present and parsed.get("registry") is None:
        return []  # its own problems are already reported
    if registry.stack is None:
        return [] if "training" in present else [f"{PROJECT}:training: required key is missing (this stack owns the registry: registry.stack is not set)"]
    problems = []
    if registry.stack.rsplit("/", 1)[-1] == stack:
        problems.append(f"{PROJECT}:registry.stack = {json.dumps(registry.stack)}: names this stack; expected the stack that owns the registry, or no registry.stack")
    if "training" in present:
        problems.append(
            f"{PROJECT}:training: only valid on the stack that owns the registry; this stack serves models of "
            f"{registry.stack} (registry.stack) and declares no pipeline: remove training"
        )
    return problems


def _decode(raw: Any) -> Any:
    """The engine hands structured config to programs as JSON text; scalars stay strings."""
    if isinstance(raw, str) and raw[:1] in "{[":
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def parse_stack_config(raw: Mapping[str, Any], project: str, stack: str) -> StackConfig:
    """Parses the flat engine config (`namespace:key` -> value) into a StackConfig.

    Raises ConfigError listing every problem found.
    """
    problems: list[str] = []
    prefix = f"{PROJECT}:"
    ours = {k[len(prefix):]: _decode(v) for k, v in raw.items() if k.startswith(prefix)}
    for unknown in sorted(set(ours) - set(_SECTIONS)):
        problems.append(f"{prefix}{unknown}: unknown key; allowed keys: {', '.join(_SECTIONS)}")

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
            problems.extend(_errors(key, exc))
            continue
        problems.extend(_consistency(key, value))
        parsed[key] = value

    problems.extend(_registry_problems(stack, parsed, set(ours) & set(_SECTIONS)))

    region = raw.get(_REGION_KEY)
    if region is None:
        problems.append(f"{_REGION_KEY}: required key is missing; expected an AWS region such as us-east-1")
    elif not isinstance(region, str) or not re.match(_REGION, region):
        problems.append(f"{_REGION_KEY} = {json.dumps(region)}: not an AWS region; expected a region such as us-east-1")
    elif isinstance(parsed.get("dashboard"), DashboardConfig) and parsed["dashboard"].certificate_arn is not None:
        # A load balancer can use only certificates of its own Region.
        arn = parsed["dashboard"].certificate_arn
        cert_region = re.match(_CERTIFICATE_ARN, arn)["region"]  # type: ignore[index]  # the field's pattern matched
        if cert_region != region:
            problems.append(f"{PROJECT}:dashboard.certificateArn = {json.dumps(arn)}: a certificate of {cert_region}; expected one of the stack's Region {region} (an ALB uses only certificates of its Region)")

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
    )


def load_stack_config() -> StackConfig:
    """Reads the running program's config (real engine or mocks) and parses it."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return parse_stack_config(raw, project=pulumi.get_project(), stack=pulumi.get_stack())
