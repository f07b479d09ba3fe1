"""The cost estimate and the budget guardrail, through the protocol; schedule arithmetic directly."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import pytest
from policy_testkit import KEY_ARN, PACK_DIR, UNKNOWN, Stack, analyze, assert_fails, assert_passes, findings, not_applicable

from tools.offline.analyzer import PolicyPackError
from tools.preview.cli import parse_cost_estimate

sys.path.insert(0, str(PACK_DIR))
from guardrails import prices  # the pack's own modules, as the pack imports them
from guardrails.cost_schedules import runs_per_month, week_minutes

PIPELINE_ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p"


def monthly_pipeline(s: Stack, definition: dict) -> None:
    """A pipeline 'pipeline' that an EventBridge rule 'schedule' starts once a month."""
    pipeline = s.add(
        "aws:sagemaker/pipeline:Pipeline", "pipeline", {"pipelineDefinition": json.dumps(definition)}, outputs={"arn": PIPELINE_ARN}
    )
    rule = s.add(
        "aws:cloudwatch/eventRule:EventRule", "schedule", {"scheduleExpression": "cron(0 3 1 * ? *)"}, outputs={"name": "schedule-1"}
    )
    s.add(
        "aws:cloudwatch/eventTarget:EventTarget",
        "target",
        {"rule": "schedule-1", "arn": PIPELINE_ARN},
        deps={"rule": [rule], "arn": [pipeline]},
    )


def fargate_service(s: Stack, name: str, cpu: str, memory: str, count: int = 1, **task: Any) -> None:
    """A Fargate service `name` and its task definition `<name>-task` (`task`: more of its inputs)."""
    arn = f"arn:aws:ecs:us-east-1:123456789012:task-definition/{name}:1"
    definition = s.add(
        "aws:ecs/taskDefinition:TaskDefinition",
        f"{name}-task",
        {"family": name, "cpu": cpu, "memory": memory, **task},
        outputs={"arn": arn},
    )
    s.add(
        "aws:ecs/service:Service",
        name,
        {"launchType": "FARGATE", "desiredCount": count, "taskDefinition": arn},
        deps={"taskDefinition": [definition]},
    )


def costly_stack(name: str = "prod", instance_type: str = "ml.m5.large") -> Stack:
    """One of everything the estimate prices, sized like the shipped prod stack."""
    s = Stack(name)
    model = s.add(
        "aws:sagemaker/model:Model",
        "model",
        {"primaryContainer": {"modelPackageName": "arn:aws:sagemaker:us-east-1:123456789012:model-package/g/1"}},
    )
    variant = {"variantName": "AllTraffic", "modelName": "model", "instanceType": instance_type, "initialInstanceCount": 2}
    config = s.add(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "config",
        {"productionVariants": [variant]},
        outputs={"name": "config-1"},
        deps={"productionVariants": [model]},
    )
    endpoint = s.add(
        "aws:sagemaker/endpoint:Endpoint",
        "endpoint",
        {"name": "churn", "endpointConfigName": "config-1"},
        deps={"endpointConfigName": [config]},
    )
    s.add(
        "aws:appautoscaling/target:Target",
        "scaling",
        {
            "serviceNamespace": "sagemaker",
            "scalableDimension": "sagemaker:variant:DesiredInstanceCount",
            "resourceId": "endpoint/churn/variant/AllTraffic",
            "minCapacity": 2,
            "maxCapacity": 4,
        },
        deps={"resourceId": [endpoint]},
    )
    job = s.add(
        "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
        "data-quality",
        {
            "jobResources": {"clusterConfig": {"instanceCount": 1, "instanceType": "ml.m5.large", "volumeKmsKeyId": KEY_ARN}},
            "stoppingCondition": {"maxRuntimeInSeconds": 1800},
        },
        outputs={"name": "dq-1"},
    )
    s.add(
        "aws:sagemaker/monitoringSchedule:MonitoringSchedule",
        "monitor",
        {
            "monitoringScheduleConfig": {
                "monitoringJobDefinitionName": "dq-1",
                "monitoringType": "DataQuality",
                "scheduleConfig": {"scheduleExpression": "cron(0 * ? * * *)"},
            }
        },
        deps={"monitoringScheduleConfig": [job]},
    )
    definition = {
        "Parameters": [{"Name": "TrainingInstanceType", "DefaultValue": "ml.m5.xlarge"}],
        "Steps": [
            {
                "Name": "Prep",
                "Type": "Processing",
                "Arguments": {
                    "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large"}},
                    "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
                },
            },
            {
                "Name": "Train",
                "Type": "Training",
                "Arguments": {
                    "ResourceConfig": {"InstanceCount": 1, "InstanceType": {"Get": "Parameters.TrainingInstanceType"}},
                    "StoppingCondition": {"MaxRuntimeInSeconds": 7200},
                },
            },
        ],
    }
    monthly_pipeline(s, definition)
    task = s.add(
        "aws:ecs/taskDefinition:TaskDefinition",
        "task",
        {"family": "dashboard", "cpu": "1024", "memory": "2048"},
        outputs={"arn": "arn:aws:ecs:us-east-1:123456789012:task-definition/dashboard:1"},
    )
    s.add(
        "aws:ecs/service:Service",
        "service",
        {"launchType": "FARGATE", "desiredCount": 2, "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/dashboard:1"},
        deps={"taskDefinition": [task]},
    )
    s.add("aws:lb/loadBalancer:LoadBalancer", "alb", {"loadBalancerType": "application", "subnets": ["subnet-a", "subnet-b"]})
    for i in range(2):
        s.add("aws:ec2/natGateway:NatGateway", f"nat-{i}", {"subnetId": "subnet-a"})
        s.add("aws:ec2/eip:Eip", f"eip-{i}", {"domain": "vpc"})
    s.add("aws:kms/key:Key", "key", {"enableKeyRotation": True})
    s.add("aws:cloudwatch/dashboard:Dashboard", "dashboard", {"dashboardName": "d", "dashboardBody": "{}"})
    s.add("aws:cloudwatch/metricAlarm:MetricAlarm", "errors", {"name": "errors", "period": 60})
    s.add("aws:cloudwatch/metricAlarm:MetricAlarm", "fast", {"name": "fast", "period": 10})
    queries = [{"id": f"m{i}", "metric": {"metricName": f"f{i}", "namespace": "n", "period": 3600, "stat": "Maximum"}} for i in range(3)]
    s.add(
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "drift",
        {"name": "drift", "metricQueries": [*queries, {"id": "total", "expression": "m0+m1+m2", "returnData": True}]},
    )
    return s


def estimate_of(result) -> dict:
    """The estimate cost-budget states: in its violation, or within budget in its not-applicable reason."""
    texts = [v.message for v in findings(result, "cost-budget")] + not_applicable(result, "cost-budget")
    [text] = texts
    estimate = parse_cost_estimate(text)
    assert estimate is not None, text
    return estimate


def test_the_estimate_prices_every_kind_of_resource_and_is_stated_within_budget(pack):
    result = analyze(pack, costly_stack())
    assert_passes(result, "cost-budget")  # prod budget: $650
    [reason] = not_applicable(result, "cost-budget")
    assert reason.startswith("within budget.\nEstimated monthly cost: $")
    estimate = estimate_of(result)
    assert estimate["budgetUsd"] == 650
    items = {item["item"]: item["monthlyUsd"] for item in estimate["items"]}
    hours = prices.HOURS_PER_MONTH
    expected = {
        "SageMaker endpoint 'endpoint' variant AllTraffic: 2 × ml.m5.large × 730 h × $0.134/h": 2 * hours * 0.134,
        "Model Monitor 'monitor': 730 runs/month (cron(0 * ? * * *)) × 1 × ml.m5.large × at most 0.5 h": 730 * 0.5 * 0.115,
        "SageMaker pipeline 'pipeline': 1 scheduled run(s)/month (cron(0 3 1 * ? *)) × $0.58/run (2 jobs, each at most its max run time)": 1
        * 0.115
        + 2 * 0.23,
        "Fargate service 'service': 2 task(s) × (1 vCPU + 2 GB, X86_64) × 730 h": 2 * hours * (0.04048 + 2 * 0.004445),
        "ALB 'alb': 730 h × $0.0225 + 1 LCU × 730 h × $0.008 + 2 public IPv4 × 730 h × $0.005": hours * (0.0225 + 0.008 + 2 * 0.005),
        "NAT gateways: 2 × 730 h × $0.045": 2 * hours * 0.045,
        "Elastic IPs (public IPv4): 2 × 730 h × $0.005": 2 * hours * 0.005,
        "KMS keys: 1 × $1.00": 1.0,
        "CloudWatch dashboards: 1 × $3.00": 3.0,
        "CloudWatch alarms: 3 alarm(s) reading 4 metric(s) × $0.10 + 1 high-resolution × $0.30": 4 * 0.10 + 0.30,
    }
    assert set(items) == set(expected), sorted(items)
    for item, cost in expected.items():
        assert items[item] == pytest.approx(cost, abs=0.006), item
    assert estimate["monthlyUsd"] == pytest.approx(sum(expected.values()), abs=0.05)
    assert estimate["basis"] == f"us-east-1 on-demand prices read {prices.PRICES_READ}"
    assert "endpoint 'endpoint' may scale out to 4 instances: up to $195.64/month more at full scale" in estimate["notes"]
    assert "API Gateway requests" in estimate["excluded"]


def test_over_budget_fails_in_prod_and_advises_in_dev(pack):
    result = analyze(pack, costly_stack(instance_type="ml.m5.4xlarge"))
    assert_fails(
        result,
        "cost-budget",
        "",
        "estimated monthly cost $",
        "exceeds its budget of $650.00",
        "ml.m5.4xlarge × 730 h",
        "raise monthlyBudgetUsd",
    )
    assert estimate_of(result)["monthlyUsd"] > 650
    dev = analyze(pack, costly_stack("dev"))  # dev budget: $150
    assert_fails(dev, "cost-budget", "", "exceeds its budget of $150.00", level="advisory")
    lowered = analyze(pack, costly_stack(), {"all": "mandatory", "cost-budget": {"monthlyBudgetUsd": 100}})
    assert_fails(lowered, "cost-budget", "", "exceeds its budget of $100.00")
    assert estimate_of(lowered)["budgetUsd"] == 100


def test_what_cannot_be_priced_fails_the_budget_instead_of_passing_silently(pack):
    result = analyze(pack, costly_stack(instance_type="ml.p4d.24xlarge"))
    assert_fails(
        result,
        "cost-budget",
        "",
        "cannot be checked against its budget",
        "not priced: SageMaker endpoint 'endpoint': no hosting price for ml.p4d.24xlarge",
    )


def test_a_serverless_endpoint_costs_nothing_idle(pack):
    s = Stack()
    config = s.add(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "config",
        {
            "productionVariants": [
                {"variantName": "AllTraffic", "modelName": "m", "serverlessConfig": {"memorySizeInMb": 2048, "maxConcurrency": 5}}
            ]
        },
        outputs={"name": "config-1"},
    )
    s.add("aws:sagemaker/endpoint:Endpoint", "endpoint", {"endpointConfigName": "config-1"}, deps={"endpointConfigName": [config]})
    estimate = estimate_of(analyze(pack, s))
    assert estimate["items"] == [{"monthlyUsd": 0.0, "item": "SageMaker serverless endpoint 'endpoint': $0 idle (billed per request)"}]
    assert estimate["monthlyUsd"] == 0.0


@pytest.mark.parametrize(
    ("expression", "runs"),
    [
        ("cron(0 3 1 * ? *)", 1),
        ("cron(0 * ? * * *)", 730),
        ("cron(0 0 ? * * *)", 365 / 12),
        ("cron(0 12 ? * MON-FRI *)", 261 / 12),
        ("cron(0/15 * * * ? *)", 4 * 24 * 365 / 12),
        ("cron(0 6 L * ? *)", 1),
        ("cron(30 8 1,15 JAN,JUL ? *)", 4 / 12),
        ("rate(5 minutes)", 12 * 730),
        ("rate(1 day)", 730 / 24),
        ("rate(2 hours)", 365),
        ("cron(0/2 8 * * ? *)", 30 * 365 / 12),  # a step from one start value runs to the end of the field
        ("cron(/15 * * * ? *)", 4 * 24 * 365 / 12),  # a step from nothing starts at the field's first value, as in Quartz
        ("cron(0 12 ? * TUE-THU *)", (52 + 52 + 53) / 12),  # 2026 has 53 Thursdays
    ],
)
def test_schedules_are_counted_per_month(expression, runs):
    assert runs_per_month(expression) == pytest.approx(runs)


@pytest.mark.parametrize("expression", ["cron(0 3 * *)", "every day", "cron(x y z * ? *)", None, "cron(? 3 * * ? *)", "cron(0 ? * * ? *)"])
def test_unreadable_schedules_are_reported_as_such(expression):
    assert runs_per_month(expression) is None


def test_the_estimate_is_reported_as_an_advisory_finding_for_the_cli_in_every_stack(pack):
    # `pulumi preview` prints violations, never not-applicable reasons: cost-estimate carries the
    # estimate there, at advisory level even under prod's `all: mandatory`.
    for stack in ("prod", "dev"):
        result = analyze(pack, costly_stack(stack))
        message = assert_fails(
            result,
            "cost-estimate",
            "",
            "Informational, never blocking",
            "Estimated monthly cost: $",
            "NAT gateways: 2 × 730 h",
            level="advisory",
        )
        reported = parse_cost_estimate(message)
        assert reported is not None and reported["budgetUsd"] is None
        assert reported["monthlyUsd"] == estimate_of(result)["monthlyUsd"]
        assert reported["items"] == estimate_of(result)["items"]
    assert_passes(analyze(pack, Stack()), "cost-estimate")  # nothing priced: nothing to state


def test_cost_estimate_is_advisory_in_every_policy_config():
    for stack in ("dev", "prod"):
        config = json.loads((PACK_DIR / "config" / f"{stack}.json").read_text())
        assert config["all"] == "mandatory" and config["cost-estimate"] == "advisory", stack


def scheduled_service_stack(schedules: tuple[str, str] = ("cron(0 7 ? * MON-FRI *)", "cron(0 20 ? * MON-FRI *)")) -> Stack:
    s = Stack("dev")
    task = s.add(
        "aws:ecs/taskDefinition:TaskDefinition",
        "task",
        {"family": "dashboard", "cpu": "512", "memory": "1024"},
        outputs={"arn": "arn:aws:ecs:us-east-1:123456789012:task-definition/dashboard:1"},
    )
    service = s.add(
        "aws:ecs/service:Service",
        "service",
        {
            "name": "dashboard",
            "launchType": "FARGATE",
            "desiredCount": 1,
            "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/dashboard:1",
        },
        deps={"taskDefinition": [task]},
    )
    target = s.add(
        "aws:appautoscaling/target:Target",
        "scaling",
        {
            "serviceNamespace": "ecs",
            "scalableDimension": "ecs:service:DesiredCount",
            "resourceId": "service/c/dashboard",
            "minCapacity": 0,
            "maxCapacity": 1,
        },
        deps={"resourceId": [service]},
    )
    for name, schedule, count in (("start", schedules[0], 1), ("stop", schedules[1], 0)):
        s.add(
            "aws:appautoscaling/scheduledAction:ScheduledAction",
            name,
            {
                "serviceNamespace": "ecs",
                "scalableDimension": "ecs:service:DesiredCount",
                "resourceId": "service/c/dashboard",
                "schedule": schedule,
                "timezone": "Europe/Paris",
                "scalableTargetAction": {"minCapacity": count, "maxCapacity": count},
            },
            deps={"resourceId": [target]},
        )
    return s


def test_a_service_scaled_to_zero_outside_working_hours_is_priced_for_its_hours(pack):
    result = analyze(pack, scheduled_service_stack())
    assert_passes(result, "cost-budget")
    [item] = [i for i in estimate_of(result)["items"] if i["item"].startswith("Fargate service 'service'")]
    # 13 h on 5 days: 65 of 168 hours; 0.5 vCPU + 1 GB on demand.
    hourly = 0.5 * 0.04048 + 1 * 0.004445
    assert item["monthlyUsd"] == pytest.approx(65 * hourly * prices.HOURS_PER_MONTH / 168, abs=0.006)
    assert "scheduled: 65 of 168 task-hours a week at 1 task(s)" in item["item"]
    weekends_too = analyze(pack, scheduled_service_stack(("cron(30 6 ? * * *)", "cron(30 18 ? * * *)")))
    [item] = [i for i in estimate_of(weekends_too)["items"] if i["item"].startswith("Fargate service")]
    assert "scheduled: 84 of 168 task-hours a week" in item["item"]


def test_a_schedule_the_estimate_cannot_read_fails_the_budget(pack):
    result = analyze(pack, scheduled_service_stack(("rate(1 day)", "cron(0 20 ? * MON-FRI *)")))
    assert_fails(
        result,
        "cost-budget",
        "",
        "cannot be checked against its budget",
        "cannot read the scheduled action 'start' schedule 'rate(1 day)'",
        level="advisory",
    )


def test_instance_counts_and_tuning_limits_given_as_pipeline_parameters_are_priced_at_their_defaults(pack):
    """The sagemaker SDK writes ParameterInteger values as {"Get": "Parameters.X"}: a training job on
    three instances, or a tuning job of four training jobs, costs three or four times one."""
    definition = {
        "Parameters": [
            {"Name": "TrainingInstanceCount", "Type": "Integer", "DefaultValue": 3},
            {"Name": "MaxTuningJobs", "Type": "Integer", "DefaultValue": 4},
        ],
        "Steps": [
            {
                "Name": "Train",
                "Type": "Training",
                "Arguments": {
                    "ResourceConfig": {"InstanceCount": {"Get": "Parameters.TrainingInstanceCount"}, "InstanceType": "ml.m5.xlarge"},
                    "StoppingCondition": {"MaxRuntimeInSeconds": 7200},
                },
            },
            {
                "Name": "Tune",
                "Type": "Tuning",
                "Arguments": {
                    "HyperParameterTuningJobConfig": {"ResourceLimits": {"MaxNumberOfTrainingJobs": {"Get": "Parameters.MaxTuningJobs"}}},
                    "TrainingJobDefinition": {
                        "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge"},
                        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
                    },
                },
            },
        ],
    }
    s = Stack()
    monthly_pipeline(s, definition)
    [item] = estimate_of(analyze(pack, s))["items"]
    xlarge = prices.SAGEMAKER_JOB_HOUR["ml.m5.xlarge"]
    assert item["monthlyUsd"] == pytest.approx(3 * 2 * xlarge + 4 * 1 * xlarge, abs=0.006), item["item"]


def test_an_instance_count_the_estimate_cannot_read_fails_the_budget_instead_of_counting_one(pack):
    definition = {
        "Steps": [
            {
                "Name": "Train",
                "Type": "Training",
                "Arguments": {
                    "ResourceConfig": {"InstanceCount": {"Get": "Execution.PipelineExecutionId"}, "InstanceType": "ml.m5.xlarge"},
                    "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
                },
            }
        ]
    }
    s = Stack()
    monthly_pipeline(s, definition)
    assert_fails(
        analyze(pack, s),
        "cost-budget",
        "",
        "cannot be checked against its budget",
        "not priced: pipeline 'pipeline': no instance count it can read ({'Get': 'Execution.PipelineExecutionId'}) "
        "(step 'Train' (Training) of pipeline pipeline)",
    )


@pytest.mark.parametrize(("day", "index"), [("SUN", 0), ("MON", 1), ("TUE", 2), ("WED", 3), ("THU", 4), ("FRI", 5), ("SAT", 6)])
def test_each_day_name_is_its_day_of_the_week(day, index):
    """EventBridge numbers the days from Sunday (1 = SUN): a weekly schedule fires on the day it names."""
    assert week_minutes(f"cron(30 6 ? * {day} *)") == [index * 24 * 60 + 6 * 60 + 30]


# The price table: SageMaker prices an instance size in proportion to it within a family
# (large, xlarge, 2xlarge, ...: each twice the one before), which catches a typo in a copied price.
_SIZES = {"medium": 0.5, "large": 1, "xlarge": 2, "2xlarge": 4, "4xlarge": 8}


@pytest.mark.parametrize("table", ["SAGEMAKER_HOSTING_HOUR", "SAGEMAKER_JOB_HOUR"])
def test_sagemaker_prices_grow_with_the_instance_size_within_a_family(table):
    families: dict[str, dict[float, float]] = {}
    for instance_type, price in getattr(prices, table).items():
        match = re.fullmatch(r"ml\.([a-z0-9]+)\.(medium|large|xlarge|2xlarge|4xlarge)", instance_type)
        assert match, instance_type
        families.setdefault(match[1], {})[_SIZES[match[2]]] = price
    for family, by_size in families.items():
        sizes = sorted(by_size)
        for small, big in zip(sizes, sizes[1:]):
            assert by_size[big] == pytest.approx(by_size[small] * big / small, rel=0.03), (table, family, small, big)


def test_hosting_costs_at_least_what_a_job_on_the_same_instance_type_costs():
    for instance_type in set(prices.SAGEMAKER_HOSTING_HOUR) & set(prices.SAGEMAKER_JOB_HOUR):
        assert prices.SAGEMAKER_HOSTING_HOUR[instance_type] >= prices.SAGEMAKER_JOB_HOUR[instance_type], instance_type


def test_a_stack_without_a_policy_config_is_held_to_the_pack_default_budget(pack):
    estimate = estimate_of(analyze(pack, costly_stack(), config=None))
    assert estimate["budgetUsd"] == 1000


def test_a_budget_that_is_not_a_number_is_refused(pack):
    with pytest.raises(
        PolicyPackError, match=re.escape("policy config for 'cost-budget': monthlyBudgetUsd: '650' is not of type 'number'")
    ):
        analyze(pack, Stack(), {"cost-budget": {"monthlyBudgetUsd": "650"}})


def test_the_items_are_listed_dearest_first(pack):
    costs = [item["monthlyUsd"] for item in estimate_of(analyze(pack, costly_stack()))["items"]]
    assert costs == sorted(costs, reverse=True) and costs[0] > costs[-1]


def test_an_endpoint_scaling_target_is_found_among_other_scaling_targets(pack):
    """An ECS service's scaling target declared first does not hide the endpoint's."""
    s = costly_stack()
    s.add(
        "aws:appautoscaling/target:Target",
        "ecs-scaling",
        {
            "serviceNamespace": "ecs",
            "scalableDimension": "ecs:service:DesiredCount",
            "resourceId": "service/c/s",
            "minCapacity": 1,
            "maxCapacity": 2,
        },
    )
    s.resources.insert(1, s.resources.pop())  # first after the provider
    notes = estimate_of(analyze(pack, s))["notes"]
    assert any(n.startswith("endpoint 'endpoint' may scale out to 4 instances") for n in notes), notes


def test_a_job_without_a_price_is_named_with_its_schedule_and_job(pack):
    s = costly_stack()
    [job] = [r for r in s.resources if r.name == "data-quality"]
    job.inputs["jobResources"] = job.state["jobResources"] = {"clusterConfig": {"instanceCount": 1, "instanceType": "ml.p3.2xlarge"}}
    estimate = estimate_of(analyze(pack, s))
    assert estimate["notPriced"] == [
        "monitoring schedule 'monitor': no job price for ml.p3.2xlarge "
        "(aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition 'data-quality')"
    ]


def test_interface_endpoints_are_priced_per_az_and_gateway_endpoints_are_free(pack):
    s = Stack()
    s.add("aws:ec2/vpcEndpoint:VpcEndpoint", "sagemaker-api", {"vpcEndpointType": "Interface", "subnetIds": ["subnet-a", "subnet-b"]})
    s.add("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", {"vpcEndpointType": "Gateway", "routeTableIds": ["rtb-1"]})
    items = estimate_of(analyze(pack, s))["items"]
    assert items == [{"monthlyUsd": round(2 * 730 * 0.01, 2), "item": "VPC interface endpoint 'sagemaker-api': 2 AZ × 730 h × $0.01"}]


def test_an_alarm_on_one_minute_metrics_is_standard_resolution(pack):
    s = Stack()
    query = {"id": "m0", "metric": {"metricName": "Invocations", "namespace": "AWS/SageMaker", "period": 60, "stat": "Sum"}}
    s.add("aws:cloudwatch/metricAlarm:MetricAlarm", "invocations", {"name": "invocations", "metricQueries": [query]})
    [item] = estimate_of(analyze(pack, s))["items"]
    assert item["item"] == "CloudWatch alarms: 1 alarm(s) reading 1 metric(s) × $0.10"


def test_resources_in_another_region_are_noted_as_priced_at_us_east_1_rates(pack):
    s = Stack(region="eu-west-1")
    s.add("aws:kms/key:Key", "key", {"enableKeyRotation": True})
    assert estimate_of(analyze(pack, s))["notes"] == [
        "resources in eu-west-1 are priced at us-east-1 rates (other regions are typically 5-30% dearer)"
    ]


def test_an_item_the_estimate_skips_hides_none_declared_after_it(pack):
    """Each kind of resource is priced one by one: one that cannot be priced, or is priced otherwise,
    declared first, leaves the estimate of every resource after it as it was."""
    s = Stack()
    # endpoints: one whose configuration is elsewhere, a serverless one, and a variant with no price before a priced one
    s.add("aws:sagemaker/endpoint:Endpoint", "skip-orphan", {"name": "orphan", "endpointConfigName": "made-elsewhere"})
    serverless = s.add(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "skip-serverless-config",
        {"productionVariants": [{"variantName": "v", "modelName": "m", "serverlessConfig": {"memorySizeInMb": 2048, "maxConcurrency": 1}}]},
        outputs={"name": "serverless-1"},
    )
    s.add(
        "aws:sagemaker/endpoint:Endpoint",
        "skip-serverless",
        {"endpointConfigName": "serverless-1"},
        deps={"endpointConfigName": [serverless]},
    )
    variants = [{"variantName": "gpu", "modelName": "m", "instanceType": "ml.p4d.24xlarge", "initialInstanceCount": 1}]
    variants.append({"variantName": "cpu", "modelName": "m", "instanceType": "ml.m5.large", "initialInstanceCount": 1})
    mixed = s.add(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "skip-mixed-config",
        {"productionVariants": variants},
        outputs={"name": "mixed-1"},
    )
    s.add("aws:sagemaker/endpoint:Endpoint", "skip-mixed", {"endpointConfigName": "mixed-1"}, deps={"endpointConfigName": [mixed]})
    # pipelines: a definition not known yet, one that is no JSON object, one without a schedule
    s.add("aws:sagemaker/pipeline:Pipeline", "skip-unknown-definition", {"pipelineDefinition": UNKNOWN})
    s.add("aws:sagemaker/pipeline:Pipeline", "skip-unreadable-definition", {"pipelineDefinition": "[]"})
    s.add("aws:sagemaker/pipeline:Pipeline", "skip-unscheduled", {"pipelineDefinition": json.dumps({"Steps": []})})
    # schedule targets: one that starts something else, a rule the estimate cannot read
    s.add(
        "aws:cloudwatch/eventTarget:EventTarget",
        "skip-other-target",
        {"rule": "schedule-1", "arn": "arn:aws:lambda:us-east-1:123456789012:function:f"},
    )
    odd = s.add("aws:cloudwatch/eventRule:EventRule", "skip-odd-rule", {"scheduleExpression": "rate(1 fortnight)"}, outputs={"name": "odd"})
    s.add("aws:cloudwatch/eventTarget:EventTarget", "skip-odd-target", {"rule": "odd", "arn": PIPELINE_ARN}, deps={"rule": [odd]})
    # monitoring schedules: an unreadable schedule, a job with no price
    s.add(
        "aws:sagemaker/monitoringSchedule:MonitoringSchedule",
        "skip-odd-monitor",
        {"monitoringScheduleConfig": {"monitoringJobDefinitionName": "dq-1", "scheduleConfig": {"scheduleExpression": "now and then"}}},
    )
    gpu_job = s.add(
        "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
        "skip-gpu-job",
        {"jobResources": {"clusterConfig": {"instanceCount": 1, "instanceType": "ml.p3.2xlarge"}}},
        outputs={"name": "gpu-1"},
    )
    s.add(
        "aws:sagemaker/monitoringSchedule:MonitoringSchedule",
        "skip-gpu-monitor",
        {
            "monitoringScheduleConfig": {
                "monitoringJobDefinitionName": "gpu-1",
                "scheduleConfig": {"scheduleExpression": "cron(0 * ? * * *)"},
            }
        },
        deps={"monitoringScheduleConfig": [gpu_job]},
    )
    # ECS services: one on EC2, one whose task definition is elsewhere, one priced before the rest
    s.add("aws:ecs/service:Service", "skip-ec2", {"launchType": "EC2", "desiredCount": 1, "taskDefinition": "t"})
    s.add("aws:ecs/service:Service", "skip-no-task", {"launchType": "FARGATE", "desiredCount": 1, "taskDefinition": "elsewhere"})
    fargate_service(s, "first-service", "256", "512")
    # load balancers: a gateway load balancer, which the estimate does not price
    s.add("aws:lb/loadBalancer:LoadBalancer", "skip-gateway", {"loadBalancerType": "gateway"})
    alone = {item["item"] for item in estimate_of(analyze(pack, costly_stack()))["items"]}
    s.resources.extend(costly_stack().resources[1:])  # what the first test prices, after the skipped ones
    items = {item["item"] for item in estimate_of(analyze(pack, s))["items"]}
    assert alone <= items, sorted(alone - items)
    assert "SageMaker endpoint 'skip-mixed' variant cpu: 1 × ml.m5.large × 730 h × $0.134/h" in items
    assert "Fargate service 'first-service': 1 task(s) × (0.25 vCPU + 0.5 GB, X86_64) × 730 h" in items


def test_a_service_whose_schedule_cannot_be_read_hides_no_service_after_it(pack):
    s = scheduled_service_stack(("rate(1 day)", "cron(0 20 ? * MON-FRI *)"))
    fargate_service(s, "service-2", "256", "512")
    items = [item["item"] for item in estimate_of(analyze(pack, s))["items"]]
    assert items == ["Fargate service 'service-2': 1 task(s) × (0.25 vCPU + 0.5 GB, X86_64) × 730 h"]


def test_a_job_without_a_stopping_condition_is_priced_for_sagemakers_default_of_a_day(pack):
    definition = {
        "Steps": [
            {
                "Name": "Prep",
                "Type": "Processing",
                "Arguments": {"ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large"}}},
            }
        ]
    }
    s = Stack()
    monthly_pipeline(s, definition)
    [item] = estimate_of(analyze(pack, s))["items"]
    assert item["monthlyUsd"] == pytest.approx(24 * prices.SAGEMAKER_JOB_HOUR["ml.m5.large"], abs=0.006), item["item"]


def test_a_weekend_schedule_counts_the_hours_across_the_end_of_the_week(pack):
    """Started Friday 20:00, stopped Monday 07:00: 28 h to the week's end and 31 h from its start."""
    result = analyze(pack, scheduled_service_stack(("cron(0 20 ? * FRI *)", "cron(0 7 ? * MON *)")))
    [item] = [i for i in estimate_of(result)["items"] if i["item"].startswith("Fargate service")]
    hourly = 0.5 * 0.04048 + 1 * 0.004445
    assert item["item"] == (
        "Fargate service 'service': 256.4 task-hours × (0.5 vCPU + 1 GB, X86_64) (scheduled: 59 of 168 task-hours a week at 1 task(s); "
        "cron(0 20 ? * FRI *), cron(0 7 ? * MON *))"
    )
    assert item["monthlyUsd"] == pytest.approx(59 * 730 / 168 * hourly, abs=0.006)


def test_arm_tasks_are_priced_at_arm_rates_and_ec2_services_elsewhere(pack):
    s = Stack()
    fargate_service(s, "arm", "1024", "2048", runtimePlatform={"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"})
    s.add("aws:ecs/service:Service", "on-ec2", {"launchType": "EC2", "desiredCount": 1, "taskDefinition": "arm"})
    estimate = estimate_of(analyze(pack, s))
    assert estimate["items"] == [
        {"monthlyUsd": round(730 * (0.03238 + 2 * 0.00356), 2), "item": "Fargate service 'arm': 1 task(s) × (1 vCPU + 2 GB, ARM64) × 730 h"}
    ]
    assert "ECS service 'on-ec2' does not run on Fargate: its EC2 capacity is priced elsewhere" in estimate["notes"]


def test_only_the_variant_instance_count_target_scales_an_endpoint(pack):
    """A SageMaker scaling target of the variant on another dimension (a serverless variant's provisioned
    concurrency) does not scale its instances."""
    s = costly_stack()
    [endpoint] = [r for r in s.resources if r.name == "endpoint"]
    s.add(
        "aws:appautoscaling/target:Target",
        "concurrency",
        {
            "serviceNamespace": "sagemaker",
            "scalableDimension": "sagemaker:variant:DesiredProvisionedConcurrency",
            "resourceId": "endpoint/churn/variant/AllTraffic",
            "minCapacity": 5,
            "maxCapacity": 6,
        },
        deps={"resourceId": [endpoint.urn]},
    )
    s.resources.insert(1, s.resources.pop())
    items = [i["item"] for i in estimate_of(analyze(pack, s))["items"]]
    assert "SageMaker endpoint 'endpoint' variant AllTraffic: 2 × ml.m5.large × 730 h × $0.134/h" in items


def test_a_variant_that_states_no_instance_count_is_priced_for_one(pack):
    s = costly_stack()
    [config] = [r for r in s.resources if r.name == "config"]
    for props in (config.inputs, config.state):
        props["productionVariants"] = [{"variantName": "AllTraffic", "modelName": "model", "instanceType": "ml.m5.large"}]
    s.resources = [r for r in s.resources if r.name != "scaling"]
    items = [i["item"] for i in estimate_of(analyze(pack, s))["items"]]
    assert "SageMaker endpoint 'endpoint' variant AllTraffic: 1 × ml.m5.large × 730 h × $0.134/h" in items


def test_a_monitoring_schedule_finds_its_job_by_dependency_or_else_by_name(pack):
    s = costly_stack()
    [job] = [r for r in s.resources if r.name == "data-quality"]
    [monitor] = [r for r in s.resources if r.name == "monitor"]
    # The dependency joins them whatever the names say.
    job.state.pop("name")
    monitor.inputs["monitoringScheduleConfig"] = monitor.state["monitoringScheduleConfig"] = {
        **monitor.inputs["monitoringScheduleConfig"],
        "monitoringJobDefinitionName": "dq-renamed",
    }
    items = [i["item"] for i in estimate_of(analyze(pack, s))["items"]]
    assert any(i.startswith("Model Monitor 'monitor': 730 runs/month") for i in items), items
    # Without a dependency the name decides, among several definitions.
    s = costly_stack()
    s.add(
        "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
        "bigger",
        {
            "jobResources": {"clusterConfig": {"instanceCount": 1, "instanceType": "ml.m5.xlarge"}},
            "stoppingCondition": {"maxRuntimeInSeconds": 1800},
        },
        outputs={"name": "dq-2"},
    )
    s.resources.insert(1, s.resources.pop())
    s.add(
        "aws:sagemaker/monitoringSchedule:MonitoringSchedule",
        "by-name",
        {
            "monitoringScheduleConfig": {
                "monitoringJobDefinitionName": "dq-1",
                "scheduleConfig": {"scheduleExpression": "cron(0 0 ? * * *)"},
            }
        },
    )
    items = [i["item"] for i in estimate_of(analyze(pack, s))["items"]]
    assert "Model Monitor 'by-name': 30.42 runs/month (cron(0 0 ? * * *)) × 1 × ml.m5.large × at most 0.5 h" in items
