"""The endpoint's health alarms: 5XX errors and p99 latency (the blue/green rollback alarms) and,
on instances, CPU (declared by ModelEndpoint, as its children)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

if TYPE_CHECKING:
    from components.endpoint.args import ModelEndpointArgs


def health_alarms(
    name: str, args: ModelEndpointArgs, endpoint_name: str, variant_name: str, provisioned: bool, parent: pulumi.Resource
) -> dict[str, aws.cloudwatch.MetricAlarm]:
    child = pulumi.ResourceOptions(parent=parent)
    dimensions = {"EndpointName": endpoint_name, "VariantName": variant_name}
    actions = [args.alarm_topic_arn]
    alarms = {
        # Counts are summed: an average of error counts hides a burst (the seeds' mistake).
        "errors": aws.cloudwatch.MetricAlarm(
            f"{name}-5xx-alarm",
            name=f"{args.name_prefix}-endpoint-5xx",
            alarm_description=f"{endpoint_name}: the model answered with 5XX errors (rolls back a blue/green update)",
            namespace="AWS/SageMaker",
            metric_name="Invocation5XXErrors",
            dimensions=dimensions,
            statistic="Sum",
            period=60,
            evaluation_periods=2,
            datapoints_to_alarm=1,
            comparison_operator="GreaterThanThreshold",
            threshold=0,
            # No invocations means no errors: an idle endpoint must not look broken.
            treat_missing_data="notBreaching",
            alarm_actions=actions,
            ok_actions=actions,
            opts=child,
        ),
        "latency": aws.cloudwatch.MetricAlarm(
            f"{name}-latency-alarm",
            name=f"{args.name_prefix}-endpoint-latency-p99",
            alarm_description=f"{endpoint_name}: p99 model latency above {args.latency_p99_threshold_ms} ms (rolls back a blue/green update)",
            namespace="AWS/SageMaker",
            metric_name="ModelLatency",
            dimensions=dimensions,
            extended_statistic="p99",
            period=60,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            comparison_operator="GreaterThanThreshold",
            threshold=args.latency_p99_threshold_ms * 1000,  # ModelLatency is in microseconds
            # Percentiles over a handful of requests are noise: judge only full samples.
            evaluate_low_sample_count_percentiles="ignore",
            treat_missing_data="notBreaching",
            alarm_actions=actions,
            ok_actions=actions,
            opts=child,
        ),
    }
    if provisioned:
        alarms["cpu"] = aws.cloudwatch.MetricAlarm(
            f"{name}-cpu-alarm",
            name=f"{args.name_prefix}-endpoint-cpu",
            alarm_description=f"{endpoint_name}: CPU above {args.cpu_threshold_percent}% of one core per instance for 10 minutes",
            namespace="/aws/sagemaker/Endpoints",
            metric_name="CPUUtilization",
            dimensions=dimensions,
            statistic="Average",
            period=300,
            evaluation_periods=2,
            comparison_operator="GreaterThanThreshold",
            threshold=args.cpu_threshold_percent,
            # Instance metrics stop only when instances do: keep the last state, do not guess.
            treat_missing_data="missing",
            alarm_actions=actions,
            ok_actions=actions,
            opts=child,
        )
    return alarms
