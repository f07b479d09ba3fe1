"""The `dashboard` section: the Streamlit dashboard on Fargate behind the HTTPS load balancer, its
domain and certificate, and its working hours."""

from __future__ import annotations

import ipaddress
import json
import zoneinfo
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, Field
from pydantic.dataclasses import dataclass

from components.config.base import STRICT_SHAPE, KeyOf

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
_HOSTNAME = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
CERTIFICATE_ARN = r"^arn:aws[a-z-]*:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[A-Za-z0-9-]+$"


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError as exc:
        raise ValueError(f"not a CIDR block ({exc})") from None


Cidr = Annotated[str, AfterValidator(_cidr), Field(description="an IPv4/IPv6 CIDR block such as 10.0.0.0/16")]


_WEEKDAY = r"(MON|TUE|WED|THU|FRI|SAT|SUN)"


@dataclass(frozen=True, config=STRICT_SHAPE)
class DashboardScheduleConfig:
    """When the dashboard runs; outside these hours its service is scaled to zero tasks."""

    days: Annotated[
        str,
        Field(
            pattern=rf"^{_WEEKDAY}(-{_WEEKDAY})?(,{_WEEKDAY}(-{_WEEKDAY})?)*$",
            description="days of the week as in cron, e.g. MON-FRI or MON,WED,FRI",
        ),
    ]
    """Days the dashboard runs (cron day-of-week names)."""
    start: Annotated[int, Field(ge=0, le=23, description="an hour from 0 to 23")]
    """Hour it starts, in `timezone`."""
    stop: Annotated[int, Field(ge=1, le=23, description="an hour from 1 to 23, after start")]
    """Hour it scales to zero, in `timezone` (same day: the schedule does not run overnight)."""
    timezone: Annotated[str, Field(default="UTC", description="an IANA time zone such as UTC or Europe/Paris")] = "UTC"
    """Time zone of start and stop (Application Auto Scaling scheduled actions take IANA names)."""


@dataclass(frozen=True, config=STRICT_SHAPE)
class DashboardConfig:
    desired_count: Annotated[int, Field(alias="desiredCount", ge=1, le=20, description="an integer from 1 to 20")]
    """Fargate tasks of the Streamlit dashboard."""
    cpu: Annotated[
        Literal[tuple(FARGATE_MEMORY_BY_CPU)], Field(description=f"Fargate cpu units: one of {', '.join(map(str, FARGATE_MEMORY_BY_CPU))}")  # type: ignore[valid-type]
    ]
    """CPU units of one dashboard task."""
    memory: Annotated[int, Field(ge=512, description="MiB valid for the cpu size")]
    """Memory (MiB) of one dashboard task."""
    allowed_cidrs: Annotated[tuple[Cidr, ...], Field(alias="allowedCidrs", min_length=1, description="a non-empty list of CIDR blocks")]
    """Who may reach the dashboard's load balancer."""
    certificate_arn: Annotated[
        Optional[str],
        Field(
            alias="certificateArn",
            default=None,
            pattern=CERTIFICATE_ARN,
            description="an ACM certificate ARN in the stack's Region, or absent",
        ),
    ] = None
    """Your ACM certificate for domainName; absent: one the program validates in hostedZoneId, or (no domain) a self-signed one."""
    domain_name: Annotated[
        Optional[str],
        Field(
            alias="domainName",
            default=None,
            max_length=253,
            pattern=_HOSTNAME,
            description="a lower-case DNS name such as dashboard.example.com, or absent",
        ),
    ] = None
    """The name users open; Cognito's callback and sign-out URLs use it. Absent: the ALB's DNS name."""
    hosted_zone_id: Annotated[
        Optional[str],
        Field(
            alias="hostedZoneId",
            default=None,
            pattern=r"^Z[A-Z0-9]{1,31}$",
            description="a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ, or absent",
        ),
    ] = None
    """Route 53 public zone of domainName: the program adds the alias record and a DNS-validated certificate."""
    schedule: Annotated[
        Optional[DashboardScheduleConfig], Field(default=None, description="an object with days, start, stop and timezone, or absent")
    ] = None
    """Working hours of the dashboard (its tasks are scaled to zero outside them); absent: always on."""


def dashboard_problems(value: DashboardConfig, k: KeyOf) -> list[str]:
    """Rules that span several keys of `dashboard`: domain and certificate, schedule, Fargate size."""
    problems: list[str] = []
    problems.extend(_dashboard_domain(value, k))
    if value.schedule is not None:
        schedule = value.schedule
        if schedule.stop <= schedule.start:
            problems.append(
                f"{k('schedule.stop')} = {schedule.stop}: must be after schedule.start ({schedule.start}); a schedule runs within one day"
            )
        try:
            zoneinfo.ZoneInfo(schedule.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            problems.append(
                f"{k('schedule.timezone')} = {json.dumps(schedule.timezone)}: not an IANA time zone; expected e.g. UTC or Europe/Paris"
            )
    if value.memory not in FARGATE_MEMORY_BY_CPU[value.cpu]:
        allowed = FARGATE_MEMORY_BY_CPU[value.cpu]
        problems.append(
            f"{k('memory')} = {value.memory}: not a valid Fargate size for cpu {value.cpu}; expected one of {allowed[0]}..{allowed[-1]} in steps of {allowed[1] - allowed[0]}"
        )
    return problems


def _dashboard_domain(value: DashboardConfig, k: KeyOf) -> list[str]:
    """A certificate is for a name, and a name needs a certificate users' browsers trust."""
    problems = []
    if value.domain_name is None:
        for key, given in (("certificateArn", value.certificate_arn), ("hostedZoneId", value.hosted_zone_id)):
            if given is not None:
                problems.append(
                    f"{k(key)} = {json.dumps(given)}: only valid with dashboard.domainName (the name it is for); set domainName or remove {key}"
                )
    elif value.certificate_arn is None and value.hosted_zone_id is None:
        problems.append(
            f"{k('domainName')} = {json.dumps(value.domain_name)}: needs a certificate for that name; set dashboard.hostedZoneId "
            "(the program creates the DNS record and a DNS-validated certificate) or dashboard.certificateArn (your certificate; "
            "point the name at the output dashboardLoadBalancerDnsName yourself)"
        )
    return problems
