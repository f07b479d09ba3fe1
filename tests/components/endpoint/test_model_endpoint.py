"""The ModelEndpoint component as the real program declares it, under the preview's mocks."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from components.config.endpoint import CANARY_MAX_WAIT_MINUTES, CanaryConfig
from components.endpoint import model_endpoint
from components.endpoint.model_endpoint import deployment_config, longest_release_seconds
from components.endpoint.release import RELEASE_TIMEOUT_MARGIN_SECONDS, release_timeout_seconds
from components.training.model_schema import FEATURE_NAMES
from tools.offline.records import parse_json_input, stack_records

ROOT = Path(__file__).resolve().parents[3]
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
MODEL = "aws:sagemaker/model:Model"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def key_arn(records) -> str:
    return records.one("aws:kms/key:Key")["state"]["arn"]


def dev_registry() -> dict:
    """prod serves dev's registry (registry.stack): its coordinates are dev's outputs."""
    return stack_records("dev").outputs


def own_bucket(records, attribute: str = "bucket") -> str:
    """prod's own bucket for data capture and Model Monitor reports."""
    return records.one("aws:s3/bucket:Bucket", "endpoint-data")["state"][attribute]


def alarm(records, name: str) -> dict:
    return records.one(ALARM, f"endpoint-{name}-alarm")


def test_model_serves_the_pinned_registry_version():
    for stack, mode in (("dev", "serverless"), ("prod", "provisioned")):
        records = stack_records(stack)
        model = records.one(MODEL)["inputs"]
        # one registry: both stacks serve a package of dev's group
        version = records.data["config"]["sagemaker-mlops:endpoint"]["modelPackageVersion"]  # the last promotion's pin
        assert model["primaryContainer"] == {
            "modelPackageName": f"arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-dev-churn/{version}",
            # the model server names this version in every answer (CustomAttributes), which the API reports
            "environment": {"MODEL_PACKAGE_VERSION": str(version)},
        }
        assert "image" not in model["primaryContainer"] and "modelDataUrl" not in model["primaryContainer"]
        assert model["executionRoleArn"] == records.one("aws:iam/role:Role", "endpoint-role")["state"]["arn"]
        # network isolation is not available to serverless endpoints
        assert model["enableNetworkIsolation"] is (mode == "provisioned")


def test_a_new_pinned_version_changes_the_model():
    model = stack_records("prod", "endpoint.modelPackageVersion=7").one(MODEL)["inputs"]
    assert model["primaryContainer"]["modelPackageName"].endswith("/mlops-dev-churn/7")
    assert model["primaryContainer"]["environment"] == {"MODEL_PACKAGE_VERSION": "7"}


def test_the_model_server_reads_the_version_variable_the_model_sets():
    import sys

    model_root = str(ROOT / "containers" / "model")
    if model_root not in sys.path:
        sys.path.insert(0, model_root)
    from churn.app import MODEL_VERSION_VARIABLE

    assert model_endpoint.MODEL_VERSION_VARIABLE == MODEL_VERSION_VARIABLE


def test_dev_is_serverless_without_capture_or_blue_green():
    records = stack_records("dev")
    config = records.one(CONFIG)["inputs"]
    [variant] = config["productionVariants"]
    assert variant["variantName"] == "AllTraffic"
    assert variant["serverlessConfig"] == {"memorySizeInMb": 2048, "maxConcurrency": 5}
    assert "instanceType" not in variant and "kmsKeyArn" not in config and "dataCaptureConfig" not in config
    assert "deploymentConfig" not in records.one(ENDPOINT)["inputs"]
    # dev's only scaling target is the dashboard's working-hours schedule, never the endpoint's
    assert [t for t in records.of_type("aws:appautoscaling/target:Target") if t["inputs"]["serviceNamespace"] == "sagemaker"] == []
    assert records.of_type("aws:sagemaker/monitoringSchedule:MonitoringSchedule") == []


def test_prod_is_provisioned_with_kms_and_data_capture():
    records = stack_records("prod")
    config = records.one(CONFIG)
    [variant] = config["inputs"]["productionVariants"]
    assert (variant["instanceType"], variant["initialInstanceCount"]) == ("ml.m5.large", 2)
    assert config["inputs"]["kmsKeyArn"] == key_arn(records)
    capture = config["inputs"]["dataCaptureConfig"]
    assert capture["enableCapture"] is True and capture["initialSamplingPercentage"] == 20
    assert capture["destinationS3Uri"] == f"s3://{own_bucket(records)}/data-capture/mlops-prod-churn"
    assert capture["kmsKeyId"] == key_arn(records)
    assert sorted(o["captureMode"] for o in capture["captureOptions"]) == ["Input", "Output"]
    assert capture["captureContentTypeHeader"] == {"csvContentTypes": ["text/csv"], "jsonContentTypes": ["application/json"]}
    # a change makes a new configuration, created before the old one goes, and the old one is kept
    assert "name" not in config["inputs"]
    assert config["options"].get("deleteBeforeReplace") is False and config["options"].get("retainOnDelete") is True


def test_sampling_follows_config():
    capture = stack_records("prod", "endpoint.dataCapturePercent=55").one(CONFIG)["inputs"]["dataCaptureConfig"]
    assert capture["initialSamplingPercentage"] == 55


def test_prod_endpoint_is_a_blue_green_canary_rolling_back_on_the_real_alarms():
    records = stack_records("prod")
    endpoint = records.one(ENDPOINT)["inputs"]
    assert endpoint["name"] == "mlops-prod-churn"
    policy = endpoint["deploymentConfig"]["blueGreenUpdatePolicy"]
    routing = policy["trafficRoutingConfiguration"]
    assert routing == {"type": "CANARY", "waitIntervalInSeconds": 300, "canarySize": {"type": "CAPACITY_PERCENT", "value": 10}}
    assert policy["terminationWaitInSeconds"] == 300 and policy["maximumExecutionTimeoutInSeconds"] >= 1800
    rollback = [a["alarmName"] for a in endpoint["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]]
    assert rollback == [alarm(records, "5xx")["inputs"]["name"], alarm(records, "latency")["inputs"]["name"]]


def test_canary_settings_follow_config():
    """The slowest canary the schema accepts: its size and bake, and the longest release any endpoint declares."""
    records = stack_records("prod", f"endpoint.canary={{percent: 25, waitMinutes: {CANARY_MAX_WAIT_MINUTES}}}")
    policy = records.one(ENDPOINT)["inputs"]["deploymentConfig"]["blueGreenUpdatePolicy"]
    routing, bake = policy["trafficRoutingConfiguration"], CANARY_MAX_WAIT_MINUTES * 60
    assert routing["canarySize"]["value"] == 25 and routing["waitIntervalInSeconds"] == bake
    # SageMaker gives up after twice the bake and half an hour; the release waits its margin longer.
    assert policy["maximumExecutionTimeoutInSeconds"] == 2 * bake + 1800
    assert (
        records.one(RELEASE)["inputs"]["timeout_seconds"] == longest_release_seconds() == 2 * bake + 1800 + RELEASE_TIMEOUT_MARGIN_SECONDS
    )


def test_the_longest_release_covers_every_endpoint_the_schema_accepts():
    """However `endpoint.canary.waitMinutes`' bound is written, the longest release is the slowest of a
    serverless update, all at once, and every canary bake the schema lets through; the CI job that
    applies a stack is sized by it (tests/gitops/test_deploy_order.py)."""
    schema, accepted = TypeAdapter(CanaryConfig), []
    for wait in range(24 * 60 + 1):  # from 105 minutes on, SageMaker's own 4-hour limit caps the wait
        try:
            accepted.append(schema.validate_python({"percent": 1, "waitMinutes": wait}))
        except ValidationError:
            continue
    assert accepted, "the schema accepts no canary"
    waits = [release_timeout_seconds(None), *(release_timeout_seconds(deployment_config(c)) for c in (None, *accepted))]
    assert longest_release_seconds() == max(waits)


def test_with_short_canaries_the_serverless_update_would_be_the_longest(monkeypatch):
    # A serverless update waits an hour; were every canary shorter, that hour would be the bound.
    monkeypatch.setattr(model_endpoint, "CANARY_MAX_WAIT_MINUTES", 0)
    assert model_endpoint.longest_release_seconds() == model_endpoint.SERVERLESS_RELEASE_TIMEOUT_SECONDS == 3600


def test_provisioned_without_canary_still_rolls_back_on_alarms():
    deployment = stack_records("prod", "endpoint.canary=null").one(ENDPOINT)["inputs"]["deploymentConfig"]
    assert deployment["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]["type"] == "ALL_AT_ONCE"
    assert deployment["blueGreenUpdatePolicy"]["maximumExecutionTimeoutInSeconds"] == 1800
    assert len(deployment["autoRollbackConfiguration"]["alarms"]) == 2


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_alarms_sum_errors_and_watch_p99_latency(stack):
    records = stack_records(stack)
    topic = records.one("aws:sns/topic:Topic")["state"]["arn"]
    dims = {"EndpointName": f"mlops-{stack}-churn", "VariantName": "AllTraffic"}
    errors = alarm(records, "5xx")["inputs"]
    assert (errors["namespace"], errors["metricName"], errors["statistic"]) == ("AWS/SageMaker", "Invocation5XXErrors", "Sum")
    assert errors["dimensions"] == dims and errors["threshold"] == 0 and errors["comparisonOperator"] == "GreaterThanThreshold"
    assert errors["treatMissingData"] == "notBreaching" and errors["alarmActions"] == [topic]
    latency = alarm(records, "latency")["inputs"]
    assert (latency["metricName"], latency["extendedStatistic"]) == ("ModelLatency", "p99")
    assert latency["threshold"] == 300_000  # microseconds
    assert latency["dimensions"] == dims and latency["alarmActions"] == [topic]
    cpu = [r for r in records.of_type(ALARM) if r["name"] == "endpoint-cpu-alarm"]
    assert len(cpu) == (1 if stack == "prod" else 0)
    if cpu:
        assert cpu[0]["inputs"]["namespace"] == "/aws/sagemaker/Endpoints" and cpu[0]["inputs"]["treatMissingData"] == "missing"


def test_prod_autoscaling_tracks_invocations_per_instance():
    records = stack_records("prod")
    target = records.one("aws:appautoscaling/target:Target")["inputs"]
    assert target["resourceId"] == "endpoint/mlops-prod-churn/variant/AllTraffic"
    assert target["scalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert (target["minCapacity"], target["maxCapacity"]) == (2, 4)
    assert "roleArn" not in target  # the service-linked role
    policy = records.one("aws:appautoscaling/policy:Policy")["inputs"]
    tracking = policy["targetTrackingScalingPolicyConfiguration"]
    assert policy["policyType"] == "TargetTrackingScaling"
    assert tracking["targetValue"] == 700
    assert tracking["predefinedMetricSpecification"] == {"predefinedMetricType": "SageMakerVariantInvocationsPerInstance"}
    assert (tracking["scaleInCooldown"], tracking["scaleOutCooldown"]) == (300, 60)


def test_autoscaling_bounds_follow_config():
    target = stack_records(
        "prod", "endpoint.autoscaling={min: 3, max: 9, targetInvocationsPerInstance: 100}", "endpoint.instanceCount=3"
    ).one("aws:appautoscaling/target:Target")["inputs"]
    assert (target["minCapacity"], target["maxCapacity"]) == (3, 9)


@pytest.mark.parametrize("schedule, cron", [("hourly", "cron(0 * ? * * *)"), ("daily", "cron(0 0 ? * * *)")])
def test_model_monitor_schedule(schedule, cron):
    records = stack_records("prod", f"monitoring.schedule={schedule}")
    schedule_config = records.one("aws:sagemaker/monitoringSchedule:MonitoringSchedule")["inputs"]["monitoringScheduleConfig"]
    assert schedule_config["scheduleConfig"] == {"scheduleExpression": cron}
    assert schedule_config["monitoringType"] == "DataQuality"
    job = records.one("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition")
    assert schedule_config["monitoringJobDefinitionName"] == job["state"]["name"]


def test_monitoring_off_creates_nothing():
    records = stack_records("prod", "monitoring.schedule=off")
    assert records.of_type("aws:sagemaker/monitoringSchedule:MonitoringSchedule") == []
    assert records.of_type("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition") == []
    assert [r for r in records.of_type(ALARM) if r["name"] == "endpoint-drift-alarm"] == []
    assert [r for r in records.of_type("aws:cloudwatch/eventRule:EventRule") if r["name"] in ("training-drift", "retraining-rule")] == []


def test_data_quality_job_uses_this_versions_baseline_with_kms_and_isolation():
    records = stack_records("prod")
    job = records.one("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition")["inputs"]
    artifacts = dev_registry()["artifactBucket"]  # the baseline the shared pipeline produced for that version
    baseline = job["dataQualityBaselineConfig"]
    version = records.data["config"]["sagemaker-mlops:endpoint"]["modelPackageVersion"]  # the last promotion's pin
    assert baseline["statisticsResource"]["s3Uri"] == f"s3://{artifacts}/baselines/mlops-dev-churn/{version}/statistics.json"
    assert baseline["constraintsResource"]["s3Uri"] == f"s3://{artifacts}/baselines/mlops-dev-churn/{version}/constraints.json"
    assert job["dataQualityAppSpecification"]["imageUri"] == "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
    assert job["dataQualityJobInput"]["endpointInput"]["endpointName"] == "mlops-prod-churn"
    assert job["dataQualityJobOutputConfig"]["kmsKeyId"] == key_arn(records)
    assert job["jobResources"]["clusterConfig"]["volumeKmsKeyId"] == key_arn(records)
    assert job["networkConfig"] == {"enableNetworkIsolation": True}
    assert job["stoppingCondition"]["maxRuntimeInSeconds"] <= 3600


def test_drift_alarm_totals_every_feature_of_this_endpoint_and_schedule():
    records = stack_records("prod")
    drift = alarm(records, "drift")["inputs"]
    schedule = records.one("aws:sagemaker/monitoringSchedule:MonitoringSchedule")["inputs"]["name"]
    metrics = [q for q in drift["metricQueries"] if "metric" in q]
    assert sorted(q["metric"]["metricName"] for q in metrics) == sorted(f"feature_baseline_drift_{f}" for f in FEATURE_NAMES)
    for q in metrics:
        assert q["metric"]["namespace"] == "aws/sagemaker/Endpoints/data-metrics"
        assert q["metric"]["dimensions"] == {"Endpoint": "mlops-prod-churn", "MonitoringSchedule": schedule}
        assert q["metric"]["period"] == 3600 and q["returnData"] is False
    [total] = [q for q in drift["metricQueries"] if "expression" in q]
    assert total["returnData"] is True and total["expression"].count("FILL(") == len(FEATURE_NAMES)
    assert drift["threshold"] == 0.2 and drift["comparisonOperator"] == "GreaterThanThreshold"
    assert drift["alarmActions"] == [records.one("aws:sns/topic:Topic")["state"]["arn"]]


def test_drift_threshold_follows_config():
    assert alarm(stack_records("prod", "monitoring.driftThreshold=0.5"), "drift")["inputs"]["threshold"] == 0.5


def test_hosting_role_is_scoped_to_this_project():
    records = stack_records("prod")
    policy = {
        s["Sid"]: s
        for s in parse_json_input(records.one("aws:iam/rolePolicy:RolePolicy", "endpoint-role-policy")["inputs"]["policy"])["Statement"]
    }
    own = own_bucket(records, "arn")
    assert policy["WriteCaptureAndReports"]["Resource"] == [
        f"{own}/data-capture/mlops-prod-churn/*",
        f"{own}/monitoring/mlops-prod-churn/*",
    ]
    assert policy["PullModelImage"]["Resource"] == [dev_registry()["modelRepositoryArn"]]
    assert policy["UseProjectKey"]["Resource"] == [key_arn(records)]
    for statement in policy.values():
        assert "*" not in statement["Action"]


def test_no_pinned_version_means_no_endpoint():
    records = stack_records("dev", "endpoint.modelPackageVersion=null")
    for type_ in (MODEL, CONFIG, ENDPOINT, "sagemaker-mlops:endpoint:ModelEndpoint"):
        assert records.of_type(type_) == []
    assert "endpointName" not in records.outputs
    assert records.of_type("aws:sagemaker/pipeline:Pipeline")  # the pipeline that will produce a version still exists


def test_outputs_are_exported():
    outputs = stack_records("prod").outputs
    assert outputs["endpointName"] == "mlops-prod-churn" and outputs["endpointVariantName"] == "AllTraffic"
    assert set(outputs["endpointAlarmArns"]) == {"errors", "latency", "cpu", "drift"}
    assert outputs["monitoringScheduleName"] == "mlops-prod-data-quality"


# ---- real-account behaviour (what AWS does that the mocks do not) ------------------------------

RELEASE = "pulumi-python:dynamic:EndpointRelease"


def _camel(value):
    """SageMaker's API shape (PascalCase) as the engine records pulumi-aws inputs (camelCase)."""
    if isinstance(value, dict):
        return {key[0].lower() + key[1:]: _camel(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_camel(item) for item in value]
    return value


def test_model_monitor_job_publishes_cloudwatch_metrics():
    # Without publish_cloudwatch_metrics=Enabled the analyzer writes no metrics and the drift alarm never fires.
    job = stack_records("prod").one("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition")["inputs"]
    assert job["dataQualityAppSpecification"]["environment"] == {"publish_cloudwatch_metrics": "Enabled"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_execution_role_can_read_exactly_the_rollback_alarms(stack):
    records = stack_records(stack)
    policy = {
        s["Sid"]: s
        for s in parse_json_input(records.one("aws:iam/rolePolicy:RolePolicy", "endpoint-role-policy")["inputs"]["policy"])["Statement"]
    }
    rollback = [alarm(records, "5xx")["state"]["arn"], alarm(records, "latency")["state"]["arn"]]
    assert policy["ReadRollbackAlarms"]["Action"] == ["cloudwatch:DescribeAlarms"]
    assert policy["ReadRollbackAlarms"]["Resource"] == rollback
    # the role the deployment guardrails use is the model's execution role
    assert records.one(MODEL)["inputs"]["executionRoleArn"] == records.one("aws:iam/role:Role", "endpoint-role")["state"]["arn"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_pulumi_never_deletes_a_model_or_configuration_the_endpoint_may_roll_back_to(stack):
    records = stack_records(stack)
    for type_ in (MODEL, CONFIG):
        assert records.one(type_)["options"].get("retainOnDelete") is True, type_
    endpoint = records.one(ENDPOINT)
    assert endpoint["options"]["ignoreChanges"] == ["endpointConfigName", "deploymentConfig"]


def test_prod_release_carries_the_endpoints_blue_green_config_and_keeps_autoscaled_capacity():
    records = stack_records("prod")
    endpoint, release, config = records.one(ENDPOINT), records.one(RELEASE), records.one(CONFIG)
    inputs = release["inputs"]
    assert inputs["endpoint_name"] == "mlops-prod-churn" and inputs["region"] == "us-east-1"
    assert inputs["endpoint_config_name"] == config["state"]["name"]
    # one deployment config: the one the guardrails judge on the Endpoint is the one UpdateEndpoint gets
    assert _camel(inputs["deployment_config"]) == endpoint["inputs"]["deploymentConfig"]
    assert inputs["retain_variant_properties"] is True and inputs["delete_superseded"] is True
    assert inputs["timeout_seconds"] > inputs["deployment_config"]["BlueGreenUpdatePolicy"]["MaximumExecutionTimeoutInSeconds"]
    assert endpoint["urn"] in release["dependencies"]
    # scaling is (re)registered only after a release, and the API waits for the released endpoint
    assert release["urn"] in records.one("aws:appautoscaling/target:Target")["dependencies"]
    api = records.one("aws:lambda/function:Function", "api-function")
    assert api["property_dependencies"]["environment"] == [release["urn"]]


def test_dev_release_is_a_plain_serverless_update():
    inputs = stack_records("dev").one(RELEASE)["inputs"]
    assert "deployment_config" not in inputs or inputs["deployment_config"] is None
    assert inputs["retain_variant_properties"] is False
    assert inputs["timeout_seconds"] == 3600


def test_provisioned_without_autoscaling_takes_the_configured_instance_count():
    inputs = stack_records("prod", "endpoint.autoscaling=null").one(RELEASE)["inputs"]
    assert inputs["retain_variant_properties"] is False


def test_endpoint_doc_matches_the_code():
    from components.endpoint import release as endpoint_release

    doc = (Path(__file__).resolve().parents[3] / "docs" / "endpoint.md").read_text()
    assert f"`ignore_changes={endpoint_release.ENDPOINT_IGNORE_CHANGES}`".replace("'", '"') in doc
    for status in endpoint_release.BUSY_STATUSES:
        assert f"`{status}`" in doc, status
    [(key, value)] = model_endpoint.MONITOR_ENVIRONMENT.items()
    assert f"`{key}={value}`" in doc
    assert f"namespace `{model_endpoint.DRIFT_NAMESPACE}`" in doc
    assert f"`MaximumExecutionTimeoutInSeconds` + {model_endpoint.RELEASE_TIMEOUT_MARGIN_SECONDS} s" in doc
    assert f"dev: {model_endpoint.SERVERLESS_RELEASE_TIMEOUT_SECONDS} s" in doc
    assert "statement `ReadRollbackAlarms`" in doc and "`test_monitoring_off_creates_nothing`" in doc
    assert f"`{model_endpoint.MODEL_VERSION_VARIABLE}=<that version>`" in doc
    assert "def test_monitoring_off_creates_nothing" in Path(__file__).read_text()


def test_endpoint_doc_lists_every_module_of_the_endpoint():
    """The module table at the top of docs/endpoint.md is where a reader finds each declaration."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    doc = (root / "docs" / "endpoint.md").read_text()
    listed = set(re.findall(r"^\| `(components/endpoint/\w+\.py)` \|", doc, re.M))
    modules = {f"components/endpoint/{p.name}" for p in (root / "components" / "endpoint").glob("*.py") if p.name != "__init__.py"}
    assert listed == modules


def test_the_boundary_and_the_deploy_role_admit_what_the_release_and_the_guardrails_call():
    """The execution role's DescribeAlarms is useless if the permissions boundary cuts it, and the
    release's boto3 calls run with the CI deploy role (tests/bootstrap/ checks every call)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]

    def table(path: str, name: str):
        source = ast.parse((root / "bootstrap" / path).read_text())
        return next(
            ast.literal_eval(n.value)
            for n in source.body
            if isinstance(n, (ast.Assign, ast.AnnAssign)) and getattr(getattr(n, "target", None) or n.targets[0], "id", "") == name
        )

    assert "cloudwatch" in table("policies.py", "PROGRAM_ROLE_SERVICES")
    reads, writes = table("deploy_actions.py", "TYPE_ACTIONS")["pulumi-python:dynamic:EndpointRelease"]
    assert {"sagemaker:UpdateEndpoint", "cloudwatch:DescribeAlarms", "application-autoscaling:RegisterScalableTarget"} <= {*reads, *writes}
    doc = (root / "docs" / "endpoint.md").read_text()
    assert "`PROGRAM_ROLE_SERVICES` in `bootstrap/policies.py`" in doc and "`TYPE_ACTIONS` row" in doc
