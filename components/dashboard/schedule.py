"""The dashboard's working hours: Application Auto Scaling scheduled actions that scale its ECS
service to zero tasks outside them (and back to its desired count), to cut an idle stack's bill."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class WorkingHours:
    days: str
    """Cron day-of-week names, e.g. MON-FRI."""
    start: int
    stop: int
    timezone: str = "UTC"


def schedule_service(
    name: str, cluster: aws.ecs.Cluster, service: aws.ecs.Service, tasks: int, hours: WorkingHours, parent: pulumi.Resource
) -> None:
    """Scales `service` to `tasks` at `hours.start` and to 0 at `hours.stop` on `hours.days`.

    The ECS service's scalable target is registered with Application Auto Scaling (it uses its
    service-linked role, created on first use); the service ignores changes to its desired count, so
    a `pulumi up` outside working hours does not start it again.
    """
    child = pulumi.ResourceOptions(parent=parent)
    target = aws.appautoscaling.Target(
        f"{name}-scaling",
        service_namespace="ecs",
        scalable_dimension="ecs:service:DesiredCount",
        resource_id=pulumi.Output.format("service/{0}/{1}", cluster.name, service.name),
        min_capacity=0,
        max_capacity=tasks,
        opts=child,
    )
    for action, hour, count in (("start", hours.start, tasks), ("stop", hours.stop, 0)):
        aws.appautoscaling.ScheduledAction(
            f"{name}-{action}",
            name=f"{name}-{action}",
            service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension,
            resource_id=target.resource_id,
            schedule=f"cron(0 {hour} ? * {hours.days} *)",
            timezone=hours.timezone,
            scalable_target_action=aws.appautoscaling.ScheduledActionScalableTargetActionArgs(min_capacity=count, max_capacity=count),
            opts=child,
        )
