"""Public exposure: nothing a change adds gets an address the internet can reach.

A database, broker, warehouse or replication instance with `publicly_accessible=True`, a subnet that
hands every instance a public IP, a launch configuration or spot request with a public address, a
notebook with direct internet access: each puts a service on the internet that its security group
is then the only thing guarding (AWS Config rds-instance-public-access-check,
redshift-cluster-public-access-check, subnet-auto-assign-public-ip-disabled,
sagemaker-notebook-no-direct-internet-access; Checkov CKV_AWS_17/87/89/130/88/122). The program's
internet-facing entry points are the API (IAM-authorized) and the dashboard's load balancer (HTTPS
and Cognito, alb-* guardrails); both carry none of these switches.
"""

from __future__ import annotations

from typing import Any, Callable

from pulumi_policy import ResourceValidationArgs

from guardrails import data_stores, network
from guardrails.common import bullet_list, peek, truthy
from guardrails.schema_class import SchemaClass

# Property -> the value that exposes the resource (None: any truthy value). `directInternetAccess`
# defaults to Enabled, so an unset value exposes too.
EXPOSING = {
    "publiclyAccessible": None,
    "mapPublicIpOnLaunch": None,
    "associatePublicIpAddress": None,
    "mapCustomerOwnedIpOnLaunch": None,
    "directInternetAccess": "Enabled",
}
DEFAULT_EXPOSED = {"directInternetAccess": "Enabled"}

EXPOSURE = SchemaClass(
    EXPOSING,
    {
        data_stores.RDS_INSTANCE: "judged by rds-protected",
        data_stores.RDS_CLUSTER: "judged by rds-protected",
        network.INSTANCE: "judged by ec2-instance-hardened",
    },
)


def _exposed(prop: str, value: Any) -> bool:
    wanted = EXPOSING[prop]
    if wanted is None:
        return truthy(value)
    return str(value if value is not None else DEFAULT_EXPOSED.get(prop, "")) == wanted


def _check(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    problems = []
    for prop in sorted(EXPOSURE.member_properties(args.resource_type)):
        value = peek(args.props, prop)
        if _exposed(prop, value):
            shown = value if value is not None else f"unset, which defaults to {DEFAULT_EXPOSED[prop]}"
            problems.append(f"{prop} is {shown}")
    if problems:
        report(
            f"{args.resource_type} '{args.name}' is reachable from the internet:{bullet_list(problems)}\n"
            "Keep it in the private subnets without a public address (publicly_accessible=False, map_public_ip_on_launch=False, "
            "associate_public_ip_address=False, direct_internet_access='Disabled'); reach it through the VPC, SSM Session "
            "Manager or the API."
        )


no_public_exposure = EXPOSURE.policy(
    "no-public-exposure",
    "No resource of any pulumi-aws type with a public-address switch (publicly_accessible, map_public_ip_on_launch, "
    "associate_public_ip_address, direct_internet_access) is reachable from the internet.",
    _check,
)

POLICIES = [no_public_exposure]
