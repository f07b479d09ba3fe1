"""Cost: an estimate of the stack's monthly bill from its resources, held to the stack's budget.

`cost-budget` always states the estimate with its breakdown:
* over the stack's `monthlyBudgetUsd` (or with something the price table cannot price), as the
  violation's message, at the policy's enforcement level (mandatory in prod, advisory in dev);
* within budget, as the reason it declares itself not applicable (the protocol's "not applicable"
  answer), which blocks nothing whatever the enforcement level. The offline preview prints the
  estimate from either in its "Cost estimate" section and exports it as summary.costEstimate.
`pulumi preview` prints no not-applicable reason, so `cost-estimate` reports the same itemised
estimate as an advisory violation on every preview: the CLI prints it, and so do the PR comment and
the job summary. Its level must be `advisory` in every policy config (a config whose `all` is
mandatory, as prod's is, would otherwise make it block every deployment); the pack's tests check it.

What is counted: always-on capacity (provisioned SageMaker endpoint instances at the autoscaling
minimum, Fargate tasks, load balancers, NAT gateways, public IPv4 addresses, interface endpoints),
scheduled work (training pipeline runs from the EventBridge schedules that start them, Model
Monitor runs from their schedules; each job billed for its maximum run time, i.e. an upper bound,
at on-demand prices even when spot is allowed) and fixed monthly fees (KMS keys, dashboards, alarm
metrics, secrets). Serverless endpoints cost nothing idle. Usage-based charges are listed, not
estimated. Prices: prices.py (us-east-1, with the date they were read).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Optional, Union

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ReportViolation, StackValidationArgs, StackValidationPolicy

from guardrails import prices
from guardrails.common import StackView, as_list, get_path, is_list, is_unknown, num, peek
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
REFERENCE_YEAR = 2026  # schedules are counted over a whole (non-leap) year, then divided by 12
DEFAULT_BUDGET_USD = 1000

HEADLINE = "Estimated monthly cost: ${total:,.2f} of a ${budget:,.2f} budget"
REPORT_HEADLINE = "Estimated monthly cost: ${total:,.2f}"


@dataclass
class Estimate:
    items: list[tuple[str, float]] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return round(sum(cost for _, cost in self.items), 2)

    def add(self, description: str, cost: float) -> None:
        self.items.append((description, round(cost, 2)))

    def render(self, budget: Optional[float]) -> str:
        """The itemised estimate; the headline names the budget when there is one to compare with."""
        headline = REPORT_HEADLINE.format(total=self.total) if budget is None else HEADLINE.format(total=self.total, budget=budget)
        lines = [headline + f" ({prices.PRICE_REGION} on-demand prices read {prices.PRICES_READ})"]
        lines += [f"  ${cost:>9,.2f}  {description}" for description, cost in sorted(self.items, key=lambda i: -i[1])]
        lines += [f"  not priced: {item}" for item in self.unpriced]
        lines += [f"  note: {note}" for note in self.notes]
        lines.append(f"  not included (usage-based): {', '.join(prices.USAGE_BASED)}")
        return "\n".join(lines)


# ---- schedules ----------------------------------------------------------------------------------

_MONTHS = {name.upper(): i for i, name in enumerate(calendar.month_abbr) if name}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_CRON = re.compile(r"^cron\((.+)\)$")
_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")


def _expand(field_text: str, low: int, high: int, names: Mapping[str, int]) -> Optional[set[int]]:
    """The values an EventBridge cron field matches; None for `?`."""
    if field_text == "?":
        return None
    values: set[int] = set()
    for part in field_text.split(","):
        part = part.upper()
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
        if part in ("*", ""):
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = int(names.get(a, a)), int(names.get(b, b))
        else:
            start = int(names.get(part, part))
            end = high if step > 1 else start
        values.update(range(start, end + 1, step))
    return values


def runs_per_month(expression: Any) -> Optional[float]:
    """Average runs per month of an EventBridge schedule expression; None when it cannot be read."""
    if not isinstance(expression, str):
        return None
    expression = expression.strip()
    rate = _RATE.match(expression)
    if rate:
        every, unit = int(rate[1]), rate[2].rstrip("s")
        per_hour = {"minute": 60 / every, "hour": 1 / every, "day": 1 / (24 * every)}[unit]
        return per_hour * prices.HOURS_PER_MONTH
    cron = _CRON.match(expression)
    if not cron:
        return None
    fields = cron[1].split()
    if len(fields) != 6:
        return None
    minute, hour, dom, month, dow, _year = fields
    try:
        minutes = _expand(minute, 0, 59, {})
        hours = _expand(hour, 0, 23, {})
        months = _expand(month, 1, 12, _MONTHS)
        # L, W and # pick one day a month (last day, nearest weekday, n-th weekday).
        one_a_month = any(c in dom + dow for c in "LW#")
        days = None if one_a_month or dom == "?" else _expand(dom, 1, 31, {})
        weekdays = None if one_a_month or dow == "?" else _expand(dow, 1, 7, _DAYS)
    except ValueError:
        return None
    if not minutes or not hours or not months:
        return None
    matching_days = 0
    for m in months:
        if one_a_month:
            matching_days += 1
            continue
        for d in range(1, calendar.monthrange(REFERENCE_YEAR, m)[1] + 1):
            weekday = (date(REFERENCE_YEAR, m, d).isoweekday() % 7) + 1  # EventBridge: 1 = Sunday
            if (days is not None and d in days) or (weekdays is not None and weekday in weekdays) or (days is None and weekdays is None):
                matching_days += 1
    return matching_days * len(hours) * len(minutes) / 12


# ---- estimate -----------------------------------------------------------------------------------


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
        names_endpoint = any(d.urn == endpoint.urn for d in deps) if deps else (isinstance(name, str) and resource_id == f"endpoint/{name}/variant/{variant_name}")
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
                        continue
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
        estimate.notes.append(f"pipeline '{pipeline.name}': runs started by new data or drift alarms come on top (${per_run:.2f} each at most)")


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
        hourly = vcpu * prices.FARGATE_VCPU_HOUR.get(architecture, prices.FARGATE_VCPU_HOUR["X86_64"]) + memory_gb * prices.FARGATE_GB_HOUR.get(
            architecture, prices.FARGATE_GB_HOUR["X86_64"]
        )
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
    targets = [t for t in view.of_type(SCALING_TARGET) if t.props.get("serviceNamespace") == "ecs" and view.refers_to(t, "resourceId", service, "name")]
    actions = [a for t in targets for a in view.of_type(SCHEDULED_ACTION) if view.refers_to(a, "resourceId", t, "resourceId")]
    if not actions:
        return None
    events: list[tuple[int, Optional[float], Optional[float]]] = []  # (minute of the week, min, max)
    expressions = []
    for action in actions:
        expression = str(action.props.get("schedule") or "")
        minutes = _week_minutes(expression)
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


def _week_minutes(expression: str) -> Optional[list[int]]:
    """Minutes of a week (Sunday 00:00 = 0) at which a cron(...) schedule fires; None if unreadable."""
    cron = _CRON.match(expression.strip())
    if not cron:
        return None
    fields = cron[1].split()
    if len(fields) != 6:
        return None
    try:
        minutes = _expand(fields[0], 0, 59, {})
        hours = _expand(fields[1], 0, 23, {})
        days = _expand(fields[4], 1, 7, _DAYS)
    except ValueError:
        return None
    if minutes is None or hours is None or fields[2] not in ("?", "*") or fields[3] != "*":
        return None  # day-of-month or month schedules are not weekly
    days = days if days is not None else set(range(1, 8))
    return sorted((d - 1) * 24 * 60 + h * 60 + m for d in days for h in hours for m in minutes)


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
        estimate.add(f"Elastic IPs (public IPv4): {len(eips)} × {hours} h × ${prices.PUBLIC_IPV4_HOUR}", len(eips) * hours * prices.PUBLIC_IPV4_HOUR)
    for endpoint in view.of_type(VPC_ENDPOINT):
        if endpoint.props.get("vpcEndpointType") == "Interface":
            azs = max(1, len(as_list(endpoint.props.get("subnetIds"))))
            estimate.add(f"VPC interface endpoint '{endpoint.name}': {azs} AZ × {hours} h × ${prices.INTERFACE_ENDPOINT_AZ_HOUR}", azs * hours * prices.INTERFACE_ENDPOINT_AZ_HOUR)


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
        estimate.add(f"CloudWatch dashboards: {len(dashboards)} × ${prices.CLOUDWATCH_DASHBOARD_MONTH:.2f}", len(dashboards) * prices.CLOUDWATCH_DASHBOARD_MONTH)
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
        cost = standard * prices.CLOUDWATCH_ALARM_METRIC_MONTH + high * prices.CLOUDWATCH_HIGH_RES_ALARM_METRIC_MONTH + composite * prices.CLOUDWATCH_COMPOSITE_ALARM_MONTH
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
        estimate.notes.append(f"resources in {', '.join(others)} are priced at {prices.PRICE_REGION} rates (other regions are typically 5-30% dearer)")


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


def _budget(args: StackValidationArgs, report: ReportViolation) -> None:
    budget = float(args.get_config().get("monthlyBudgetUsd", DEFAULT_BUDGET_USD))
    estimate = estimate_stack(args)
    breakdown = estimate.render(budget)
    fix = (
        "Use smaller or fewer instances (endpoint.instanceType/instanceCount, autoscaling min, dashboard.desiredCount/cpu/memory), "
        "a serverless endpoint, fewer NAT gateways or less frequent schedules; or raise monthlyBudgetUsd in the stack's "
        "policy config through a reviewed pull request."
    )
    if estimate.total > budget:
        report(f"The stack's estimated monthly cost ${estimate.total:,.2f} exceeds its budget of ${budget:,.2f} by ${estimate.total - budget:,.2f}. {fix}\n{breakdown}", None)
    elif estimate.unpriced:
        report(
            f"The stack's monthly cost cannot be checked against its budget of ${budget:,.2f}: some resources have no price in "
            f"policies/guardrails/prices.py. Add their prices (with the date read), or use priced instance types.\n{breakdown}",
            None,
        )
    else:
        args.not_applicable(f"within budget.\n{breakdown}")


cost_budget = StackValidationPolicy(
    name="cost-budget",
    description="The stack's estimated monthly cost stays within its configured budget (the estimate is always stated).",
    validate=_budget,
    config_schema=PolicyConfigSchema(
        properties={
            "monthlyBudgetUsd": {
                "type": "number",
                "exclusiveMinimum": 0,
                "default": DEFAULT_BUDGET_USD,
                "description": "The stack's monthly budget in USD, compared with the estimate (us-east-1 on-demand prices).",
            }
        }
    ),
)



def _report_estimate(args: StackValidationArgs, report: ReportViolation) -> None:
    estimate = estimate_stack(args)
    if not estimate.items and not estimate.unpriced:
        args.not_applicable("nothing in the stack has a price")
        return
    report(
        "Informational, never blocking: the stack's estimated monthly cost, itemised. To lower it, see the "
        "cost-budget policy's hint (smaller or fewer instances, serverless, fewer NAT gateways, Fargate Spot "
        f"and schedules for dev's dashboard).\n{estimate.render(None)}",
        None,
    )


cost_estimate = StackValidationPolicy(
    name="cost-estimate",
    description="States the stack's estimated monthly cost, itemised, on every preview (advisory: it never blocks).",
    validate=_report_estimate,
    enforcement_level=EnforcementLevel.ADVISORY,
)

POLICIES = [cost_budget, cost_estimate]
