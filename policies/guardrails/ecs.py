"""ECS: tasks run in private subnets without public IP addresses (traffic reaches them through the
load balancer; they reach AWS through the NAT gateway and VPC endpoints)."""

from __future__ import annotations

from typing import Callable

from pulumi_policy import ResourceValidationArgs

from guardrails.common import get_path, resource_policy, truthy

SERVICE = "aws:ecs/service:Service"
TASK_SET = "aws:ecs/taskSet:TaskSet"


def _no_public_ip(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    if truthy(get_path(args.props, "networkConfiguration", "assignPublicIp")):
        report(
            f"{args.resource_type} '{args.name}' gives its tasks public IP addresses, so they are reachable from the internet "
            "around the load balancer and its authentication. Set network_configuration.assign_public_ip=False and run the "
            "tasks in private subnets."
        )


ecs_no_public_ip = resource_policy(
    "ecs-no-public-ip",
    "ECS services and task sets do not assign public IP addresses to tasks.",
    [SERVICE, TASK_SET],
    _no_public_ip,
)

POLICIES = [ecs_no_public_ip]
