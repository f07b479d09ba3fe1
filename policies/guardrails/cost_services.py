"""The stack's monthly cost, priced service by service from its resources (`estimate_stack`).

What is counted: always-on capacity (provisioned SageMaker endpoint instances at the autoscaling
minimum, Fargate tasks, load balancers, NAT gateways, public IPv4 addresses, interface endpoints),
scheduled work (training pipeline runs from the EventBridge schedules that start them, Model
Monitor runs from their schedules; each job billed for its maximum run time, i.e. an upper bound,
at on-demand prices even when spot is allowed) and fixed monthly fees (KMS keys, dashboards, alarm
metrics, secrets). Serverless endpoints cost nothing idle. Usage-based charges are listed, not
estimated. Prices: prices.py (us-east-1, with the date they were read).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional, Union

from pulumi_policy import StackValidationArgs

from guardrails import prices
from guardrails.common import StackView, as_list, get_path, is_list, is_unknown, num, peek
from guardrails.cost_estimate import Estimate
from guardrails.cost_schedules import runs_per_month, week_minutes
from guardrails.sagemaker_endpoint import (
    ENDPOINT,
    SCALING_TARGET,
    VARIANT_INSTANCES,
    endpoint_config,
    provisioned_variants,
    serverless_only,
)
from guardrails.sagemaker_jobs import DATA_QUALITY_JOB, PIPELINE, Job, load_definition, monitoring_job, pipeline_jobs

MONITORING_SCHEDULE = "aws:sagemaker/monitoringSchedule:MonitoringSchedule"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
ECS_SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
EIP = "aws:ec2/eip:Eip"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
KMS_KEYS = ("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey", "aws:kms/externalKey:ExternalKey")
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
SECRET = "aws:secretsmanager/secret:Secret"
SCHEDULED_ACTION = "aws:appautoscaling/scheduledAction:ScheduledAction"
HOURS_PER_WEEK = 168


def _float(value: Any, default: float = 0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _variant_scaling(view: StackView, endpoint: Any, variant_name: str) -> Optional[tuple[float, float]]:
    """(min, max) instance count of an endpoint variant, if an autoscaling target manages it."""
    name = endpoint.props.get("name")
    for target in view.of_type(SCALING_TARGET):
        if target.props.get("serviceNamespace") != "sagemaker" or target.props.get("scalableDimension") != VARIANT_INSTANCES:
            continue
        resource_id = target.props.get("resourceId")
        deps = target.property_dependencies.get("resourceId") if target.property_dependencies else None
        names_endpoint = (
            any(d.urn == endpoint.urn for d in deps)
            if deps
            else (isinstance(name, str) and resource_id == f"endpoint/{name}/variant/{variant_name}")
        )
        if names_endpoint and (not isinstance(resource_id, str) or resource_id.endswith(f"/variant/{variant_name}")):
            return _float(target.props.get("minCapacity"), 0), _float(target.props.get("maxCapacity"), 0)
    return None


def _endpoints(view: StackView, estimate: Estimate) -> None:
    for endpoint in view.of_type(ENDPOINT):
        config = endpoint_config(view, endpoint)
        if config is None:
            estimate.unpriced.append(f"SageMaker endpoint '{endpoint.name}': its endpoint configuration is not in this stack")
            continue
        if serverless_only(config.props):
            estimate.add(f"SageMaker serverless endpoint '{endpoint.name}': $0 idle (billed per request)", 0)
            continue
        for variant in provisioned_variants(config.props):
            instance_type = variant.get("instanceType")
            count = _float(variant.get("initialInstanceCount"), 1)
            scaling = _variant_scaling(view, endpoint, str(variant.get("variantName")))
            if scaling is not None:
                count = max(count, scaling[0])
            price = prices.SAGEMAKER_HOSTING_HOUR.get(str(instance_type))
            if price is None:
                estimate.unpriced.append(f"SageMaker endpoint '{endpoint.name}': no hosting price for {instance_type}")
                continue
            estimate.add(
                f"SageMaker endpoint '{endpoint.name}' variant {variant.get('variantName')}: {num(count)} × {instance_type} × "
                f"{prices.HOURS_PER_MONTH} h × ${price}/h",
                count * prices.HOURS_PER_MONTH * price,
            )
            if scaling is not None and scaling[1] > count:
                extra = (scaling[1] - count) * prices.HOURS_PER_MONTH * price
                estimate.notes.append(
                    f"endpoint '{endpoint.name}' may scale out to {num(scaling[1])} instances: up to ${extra:,.2f}/month more at full scale"
                )


def _job_cost(job: Job, estimate: Estimate, owner: str) -> Optional[float]:
    price = prices.SAGEMAKER_JOB_HOUR.get(str(job.instance_type))
    if price is None:
        estimate.unpriced.append(f"{owner}: no job price for {job.instance_type or job.instance_type_expr} ({job.where})")
        return None
    if job.instance_count is None:
        estimate.unpriced.append(f"{owner}: no instance count it can read ({job.instance_count_expr}) ({job.where})")
        return None
    return job.instance_count * job.jobs_per_run * job.max_runtime_seconds / 3600 * price


def _pipelines(view: StackView, estimate: Estimate) -> None:
    rules = view.of_type(EVENT_RULE)
    targets = view.of_type(EVENT_TARGET)
    for pipeline in view.of_type(PIPELINE):
        text = peek(pipeline.props, "pipelineDefinition")
        if is_unknown(text):
            estimate.notes.append(
                f"pipeline '{pipeline.name}': its definition embeds outputs of resources not created yet, so its runs are estimated only at `pulumi up`"
            )
            continue
        definition = load_definition(text)
        if definition is None:
            continue
        runs = 0.0
        schedules = []
        for target in targets:
            if not view.refers_to(target, "arn", pipeline, "arn"):
                continue
            for rule in rules:
                if view.refers_to(target, "rule", rule, "name") and rule.props.get("scheduleExpression"):
                    per_month = runs_per_month(rule.props["scheduleExpression"])
                    if per_month is None:
                        estimate.unpriced.append(f"pipeline '{pipeline.name}': cannot read schedule {rule.props['scheduleExpression']!r}")
                    else:
                        runs += per_month
                        schedules.append(str(rule.props["scheduleExpression"]))
        if not schedules:
            estimate.notes.append(f"pipeline '{pipeline.name}' has no schedule: its event-driven and manual runs are not estimated")
            continue
        jobs = pipeline_jobs(pipeline.name, definition)
        costs = [c for c in (_job_cost(j, estimate, f"pipeline '{pipeline.name}'") for j in jobs) if c is not None]
        per_run = sum(costs)
        spot = " (spot allowed; priced on demand)" if any(j.spot for j in jobs) else ""
        estimate.add(
            f"SageMaker pipeline '{pipeline.name}': {num(round(runs, 2))} scheduled run(s)/month ({', '.join(schedules)}) × "
            f"${per_run:.2f}/run ({len(jobs)} jobs, each at most its max run time){spot}",
            runs * per_run,
        )
        estimate.notes.append(
            f"pipeline '{pipeline.name}': runs started by new data or drift alarms come on top (${per_run:.2f} each at most)"
        )


def _monitoring(view: StackView, estimate: Estimate) -> None:
    definitions = view.of_type(DATA_QUALITY_JOB)
    for schedule in view.of_type(MONITORING_SCHEDULE):
        config = schedule.props.get("monitoringScheduleConfig")
        expression = get_path(config, "scheduleConfig", "scheduleExpression")
        deps = schedule.property_dependencies.get("monitoringScheduleConfig") if schedule.property_dependencies else None
        name = get_path(config, "monitoringJobDefinitionName")
        definition = next(
            (d for d in definitions if (deps and any(x.urn == d.urn for x in deps)) or (not deps and d.props.get("name") == name)),
            None,
        )
        runs = runs_per_month(expression)
        if definition is None or runs is None:
            estimate.unpriced.append(f"monitoring schedule '{schedule.name}': job definition or schedule {expression!r} not readable")
            continue
        job = monitoring_job(definition.resource_type, definition.name, definition.props)
        per_run = _job_cost(job, estimate, f"monitoring schedule '{schedule.name}'")
        if per_run is None:
            continue
        estimate.add(
            f"Model Monitor '{schedule.name}': {num(round(runs, 2))} runs/month ({expression}) × {job.instance_count} × {job.instance_type} "
            f"× at most {num(job.max_runtime_seconds / 3600)} h",
            runs * per_run,
        )


def _fargate(view: StackView, estimate: Estimate) -> None:
    definitions = view.of_type(TASK_DEFINITION)
    for service in view.of_type(ECS_SERVICE):
        strategies = [str(get_path(s, "capacityProvider")) for s in as_list(service.props.get("capacityProviderStrategies"))]
        if service.props.get("launchType") != "FARGATE" and not any(s.startswith("FARGATE") for s in strategies):
            estimate.notes.append(f"ECS service '{service.name}' does not run on Fargate: its EC2 capacity is priced elsewhere")
            continue
        task = next((d for d in definitions if view.refers_to(service, "taskDefinition", d, "arn", "family")), None)
        if task is None:
            estimate.unpriced.append(f"ECS service '{service.name}': its task definition is not in this stack")
            continue
        architecture = str(get_path(task.props, "runtimePlatform", "cpuArchitecture") or "X86_64")
        vcpu = _float(task.props.get("cpu")) / 1024
        memory_gb = _float(task.props.get("memory")) / 1024
        count = _float(service.props.get("desiredCount"), 0)
        schedule = _scheduled_tasks(view, service, count)
        if isinstance(schedule, str):
            estimate.unpriced.append(f"ECS service '{service.name}': {schedule}")
            continue
        hourly = vcpu * prices.FARGATE_VCPU_HOUR.get(
            architecture, prices.FARGATE_VCPU_HOUR["X86_64"]
        ) + memory_gb * prices.FARGATE_GB_HOUR.get(architecture, prices.FARGATE_GB_HOUR["X86_64"])
        spot = " (Fargate Spot allowed; priced on demand)" if "FARGATE_SPOT" in strategies else ""
        if schedule is None:
            estimate.add(
                f"Fargate service '{service.name}': {num(count)} task(s) × ({num(vcpu)} vCPU + {num(memory_gb)} GB, {architecture}) × "
                f"{prices.HOURS_PER_MONTH} h{spot}",
                count * hourly * prices.HOURS_PER_MONTH,
            )
            continue
        task_hours, expressions = schedule  # task-hours in a week
        monthly = task_hours * prices.HOURS_PER_MONTH / HOURS_PER_WEEK
        estimate.add(
            f"Fargate service '{service.name}': {num(round(monthly, 1))} task-hours × ({num(vcpu)} vCPU + {num(memory_gb)} GB, {architecture}) "
            f"(scheduled: {num(round(task_hours, 1))} of {HOURS_PER_WEEK} task-hours a week at {num(count)} task(s); {', '.join(expressions)}){spot}",
            monthly * hourly,
        )


def _scheduled_tasks(view: StackView, service: Any, count: float) -> Union[None, str, tuple[float, list[str]]]:
    """Task-hours a week of an ECS service whose desired count Application Auto Scaling schedules
    (scheduled actions on its scalable target): None when none does, a reason when it cannot be read.

    Each action sets the count into [minCapacity, maxCapacity]; between two actions it holds. Time
    zones shift when, not how long, so a week in the actions' own zone gives the share.
    """
    targets = [
        t
        for t in view.of_type(SCALING_TARGET)
        if t.props.get("serviceNamespace") == "ecs" and view.refers_to(t, "resourceId", service, "name")
    ]
    actions = [a for t in targets for a in view.of_type(SCHEDULED_ACTION) if view.refers_to(a, "resourceId", t, "resourceId")]
    if not actions:
        return None
    events: list[tuple[int, Optional[float], Optional[float]]] = []  # (minute of the week, min, max)
    expressions = []
    for action in actions:
        expression = str(action.props.get("schedule") or "")
        minutes = week_minutes(expression)
        if minutes is None:
            return f"cannot read the scheduled action '{action.name}' schedule {expression!r} (cron(...) expected)"
        bounds = action.props.get("scalableTargetAction") or {}
        low, high = bounds.get("minCapacity"), bounds.get("maxCapacity")
        events += [(m, None if low is None else _float(low), None if high is None else _float(high)) for m in minutes]
        expressions.append(expression)
    events.sort()
    # The count at the start of the week is what the week's last action left (the schedule repeats).
    tasks = count
    for _, low, high in events:
        tasks = min(max(tasks, low if low is not None else tasks), high if high is not None else tasks)
    total, previous = 0.0, 0
    for minute, low, high in events:
        total += tasks * (minute - previous) / 60
        tasks = min(max(tasks, low if low is not None else tasks), high if high is not None else tasks)
        previous = minute
    total += tasks * (HOURS_PER_WEEK * 60 - previous) / 60
    return total, sorted(set(expressions))


def _network(view: StackView, estimate: Estimate) -> None:
    hours = prices.HOURS_PER_MONTH
    for lb in view.of_type(LOAD_BALANCER):
        kind = lb.props.get("loadBalancerType") or "application"
        hour, lcu = (prices.ALB_HOUR, prices.ALB_LCU_HOUR) if kind == "application" else (prices.NLB_HOUR, prices.NLB_LCU_HOUR)
        if kind not in ("application", "network"):
            estimate.unpriced.append(f"load balancer '{lb.name}': type {kind}")
            continue
        public = 0 if lb.props.get("internal") is True else _count(lb.props, "subnets") or _count(lb.props, "subnetMappings")
        cost = hours * hour + prices.ASSUMED_LCU * hours * lcu + public * hours * prices.PUBLIC_IPV4_HOUR
        estimate.add(
            f"{'ALB' if kind == 'application' else 'NLB'} '{lb.name}': {hours} h × ${hour} + {prices.ASSUMED_LCU} LCU × {hours} h × ${lcu}"
            + (f" + {public} public IPv4 × {hours} h × ${prices.PUBLIC_IPV4_HOUR}" if public else ""),
            cost,
        )
    nats = view.of_type(NAT_GATEWAY)
    if nats:
        estimate.add(f"NAT gateways: {len(nats)} × {hours} h × ${prices.NAT_GATEWAY_HOUR}", len(nats) * hours * prices.NAT_GATEWAY_HOUR)
    eips = view.of_type(EIP)
    if eips:
        estimate.add(
            f"Elastic IPs (public IPv4): {len(eips)} × {hours} h × ${prices.PUBLIC_IPV4_HOUR}", len(eips) * hours * prices.PUBLIC_IPV4_HOUR
        )
    for endpoint in view.of_type(VPC_ENDPOINT):
        if endpoint.props.get("vpcEndpointType") == "Interface":
            azs = max(1, len(as_list(endpoint.props.get("subnetIds"))))
            estimate.add(
                f"VPC interface endpoint '{endpoint.name}': {azs} AZ × {hours} h × ${prices.INTERFACE_ENDPOINT_AZ_HOUR}",
                azs * hours * prices.INTERFACE_ENDPOINT_AZ_HOUR,
            )


def _count(props: Any, key: str) -> int:
    """How many items a list property has; its items may be unknown in a preview (subnet ids)."""
    value = peek(props, key)
    return len(value) if is_list(value) else 0


def _alarm_metrics(alarm: Any) -> tuple[int, bool]:
    queries = [q for q in as_list(alarm.props.get("metricQueries")) if isinstance(q, Mapping)]
    if queries:
        metrics = [q for q in queries if q.get("metric")]
        periods = [_float(get_path(q, "metric", "period"), 60) for q in metrics]
        return max(1, len(metrics)), any(p < 60 for p in periods)
    return 1, _float(alarm.props.get("period"), 60) < 60


def _fixed_fees(view: StackView, estimate: Estimate) -> None:
    keys = view.of_type(*KMS_KEYS)
    if keys:
        estimate.add(f"KMS keys: {len(keys)} × ${prices.KMS_KEY_MONTH:.2f}", len(keys) * prices.KMS_KEY_MONTH)
    dashboards = view.of_type(DASHBOARD)
    if dashboards:
        estimate.add(
            f"CloudWatch dashboards: {len(dashboards)} × ${prices.CLOUDWATCH_DASHBOARD_MONTH:.2f}",
            len(dashboards) * prices.CLOUDWATCH_DASHBOARD_MONTH,
        )
    standard = high = 0
    alarms = view.of_type(METRIC_ALARM)
    for alarm in alarms:
        metrics, high_res = _alarm_metrics(alarm)
        if high_res:
            high += metrics
        else:
            standard += metrics
    composite = len(view.of_type(COMPOSITE_ALARM))
    if alarms or composite:
        cost = (
            standard * prices.CLOUDWATCH_ALARM_METRIC_MONTH
            + high * prices.CLOUDWATCH_HIGH_RES_ALARM_METRIC_MONTH
            + composite * prices.CLOUDWATCH_COMPOSITE_ALARM_MONTH
        )
        parts = [f"{standard} metric(s) × ${prices.CLOUDWATCH_ALARM_METRIC_MONTH:.2f}"]
        if high:
            parts.append(f"{high} high-resolution × ${prices.CLOUDWATCH_HIGH_RES_ALARM_METRIC_MONTH:.2f}")
        if composite:
            parts.append(f"{composite} composite × ${prices.CLOUDWATCH_COMPOSITE_ALARM_MONTH:.2f}")
        estimate.add(f"CloudWatch alarms: {len(alarms) + composite} alarm(s) reading {' + '.join(parts)}", cost)
    secrets = view.of_type(SECRET)
    if secrets:
        estimate.add(f"Secrets Manager secrets: {len(secrets)} × ${prices.SECRET_MONTH:.2f}", len(secrets) * prices.SECRET_MONTH)


def _region_note(args: StackValidationArgs, estimate: Estimate) -> None:
    regions = set()
    for resource in args.resources:
        provider = resource.provider
        if provider is not None and provider.resource_type == "pulumi:providers:aws":
            region = provider.props.get("region")
            if isinstance(region, str):
                regions.add(region)
    others = sorted(regions - {prices.PRICE_REGION})
    if others:
        estimate.notes.append(
            f"resources in {', '.join(others)} are priced at {prices.PRICE_REGION} rates (other regions are typically 5-30% dearer)"
        )


def estimate_stack(args: StackValidationArgs) -> Estimate:
    view = StackView(args)
    estimate = Estimate()
    _endpoints(view, estimate)
    _monitoring(view, estimate)
    _pipelines(view, estimate)
    _fargate(view, estimate)
    _network(view, estimate)
    _fixed_fees(view, estimate)
    _region_note(args, estimate)
    return estimate
