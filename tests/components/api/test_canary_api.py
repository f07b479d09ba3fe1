"""The CanaryApi component as the real program declares it, under the offline preview's mocks."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace

import botocore.session
import pytest
from pydantic import TypeAdapter

from components.api.canary_api import PREDICT_SUMMARY, CanaryApiArgs
from components.api.codedeploy_group import longest_release_seconds, release_timeout_seconds, traffic_shift_minutes
from components.api.function_package import (
    DESCRIPTION_MAX,
    archive_files,
    code_digest,
    described,
    described_digest,
    pinned_powertools_version,
    powertools_layer_parameter,
    source_digest,
)
from components.api.http_api import ACCESS_LOG_FIELDS
from components.api.lambda_release import ALIAS_IGNORE_CHANGES
from components.config.stack import LAMBDA_DEPLOYMENT_CONFIGS, ApiConfig
from components.training.model_schema import FEATURE_NAMES
from tools.offline.records import ROOT, parse_json_input, stack_records

COMPONENT = "sagemaker-mlops:api:CanaryApi"
FUNCTION = "aws:lambda/function:Function"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
GROUP = "aws:codedeploy/deploymentGroup:DeploymentGroup"
RELEASE = "pulumi-python:dynamic:LambdaCanaryRelease"
# One extra run covers every api.* override.
OVERRIDES = (
    "dev",
    "api.deploymentConfig=LambdaLinear10PercentEvery10Minutes",
    "api.throttle={rate: 7, burst: 11}",
    "api.reservedConcurrency=3",
)
STACKS = {"dev": ("dev",), "prod": ("prod",)}


@pytest.fixture(scope="module", params=sorted(STACKS))
def stack(request):
    return request.param


@pytest.fixture(scope="module")
def records(stack):
    return stack_records(*STACKS[stack])


def api_children(records) -> list[dict]:
    return records.children_of(records.one(COMPONENT)["urn"])


def child(records, type_: str, name: str) -> dict:
    found = [r for r in api_children(records) if r["type"] == type_ and r["name"] == name]
    assert len(found) == 1, f"expected one {type_} {name} under the CanaryApi"
    return found[0]


def policy(records, name: str) -> dict[str, dict]:
    return {s["Sid"]: s for s in parse_json_input(child(records, ROLE_POLICY, name)["inputs"]["policy"])["Statement"]}


def key_arn(records) -> str:
    return records.one("aws:kms/key:Key")["state"]["arn"]


def topic_arn(records) -> str:
    return records.one("aws:sns/topic:Topic", "foundation-alarms")["state"]["arn"]


def endpoint_arn(records) -> str:
    return records.one("aws:sagemaker/endpoint:Endpoint")["state"]["arn"]


# ---- pure helpers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config, minutes",
    [
        ("CodeDeployDefault.LambdaAllAtOnce", 0),
        ("CodeDeployDefault.LambdaCanary10Percent5Minutes", 5),
        ("CodeDeployDefault.LambdaCanary10Percent30Minutes", 30),
        ("CodeDeployDefault.LambdaLinear10PercentEvery1Minute", 10),
        ("CodeDeployDefault.LambdaLinear10PercentEvery10Minutes", 100),
    ],
)
def test_traffic_shift_minutes(config, minutes):
    assert traffic_shift_minutes(config) == minutes


def test_every_configurable_deployment_config_is_understood():
    for name in LAMBDA_DEPLOYMENT_CONFIGS:
        assert traffic_shift_minutes(f"CodeDeployDefault.{name}") >= 0


def test_release_outlasts_the_slowest_configuration_and_both_hooks():
    slowest = release_timeout_seconds("CodeDeployDefault.LambdaLinear10PercentEvery10Minutes", 300)
    assert slowest > (100 + 2 * 5) * 60  # the provider's default 3600 s would stop it midway


def test_the_longest_release_covers_every_deployment_config_and_hook_timeout_accepted():
    """Whatever `api.deploymentConfig` the schema accepts and whatever hook timeout CanaryApiArgs lets
    through, no release waits longer than `longest_release_seconds`; the CI job that applies a stack
    is sized by it (tests/gitops/test_deploy_order.py)."""
    configs = TypeAdapter(ApiConfig).json_schema(by_alias=True)["properties"]["deploymentConfig"]["enum"]
    base = valid_args()
    hooks = [h for h in range(1, 3601) if not any("hook_timeout_seconds" in p for p in replace(base, hook_timeout_seconds=h).problems())]
    assert hooks and configs
    waits = [release_timeout_seconds(f"CodeDeployDefault.{name}", hook) for name in configs for hook in hooks]
    assert longest_release_seconds() == max(waits)


@pytest.mark.parametrize("bad", ["LambdaAllAtOnce", "CodeDeployDefault.AllAtOnce", "CodeDeployDefault.LambdaCanary10PercentMinutes"])
def test_unknown_deployment_config_is_refused_with_the_expected_forms(bad):
    with pytest.raises(ValueError, match="not a predefined CodeDeploy Lambda configuration"):
        traffic_shift_minutes(bad)


def test_layer_parameter_follows_the_pinned_powertools_version():
    version = pinned_powertools_version(ROOT / "containers/api/requirements.txt")
    assert version == "3.37.0"
    assert powertools_layer_parameter(version) == "/aws/service/powertools/python/x86_64/python3.12/3.37.0"


def test_missing_powertools_pin_is_a_clear_error(tmp_path):
    (tmp_path / "requirements.txt").write_text("aws-lambda-powertools>=3\n")
    with pytest.raises(ValueError, match="does not pin aws-lambda-powertools==X.Y.Z"):
        pinned_powertools_version(tmp_path / "requirements.txt")
    with pytest.raises(ValueError, match="cannot read"):
        pinned_powertools_version(tmp_path / "absent.txt")


def test_archive_keeps_code_and_data_only(tmp_path):
    for name in [
        "predict.py",
        "hooks/golden.json",
        "hooks/pre_traffic.py",
        "requirements.txt",
        "__pycache__/predict.cpython-312.pyc",
        "hooks/__pycache__/x.py",
        "tests/test_x.py",
        ".venv/lib/y.py",
        "notes.md",
    ]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert archive_files(tmp_path) == ["hooks/golden.json", "hooks/pre_traffic.py", "predict.py"]


def test_the_code_digest_changes_exactly_when_an_archived_file_changes(tmp_path):
    source = tmp_path / "api"
    shutil.copytree(ROOT / "containers/api", source, ignore=shutil.ignore_patterns("__pycache__"))
    shipped = source_digest(source)
    assert shipped == source_digest(ROOT / "containers/api")
    # Files the archive leaves out change nothing.
    for name, text in [("README.md", "notes"), ("tests/test_x.py", "x"), ("hooks/__pycache__/x.py", "x"), ("requirements.txt", "# more\n")]:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        with (source / name).open("a") as handle:
            handle.write(text)
        assert source_digest(source) == shipped, name
    # Any member's bytes, a new member, a renamed member: another digest.
    predict = (source / "predict.py").read_bytes()
    (source / "predict.py").write_bytes(predict + b"\n")
    assert source_digest(source) != shipped
    (source / "predict.py").write_bytes(predict)
    assert source_digest(source) == shipped
    (source / "hooks" / "golden.json").rename(source / "hooks" / "golden2.json")
    assert source_digest(source) != shipped
    (source / "hooks" / "golden2.json").rename(source / "hooks" / "golden.json")
    (source / "extra.py").write_text("")
    assert source_digest(source) != shipped
    # The same files read from anywhere (Git, in tools/promote): the same digest; other files are ignored.
    files = {name: (ROOT / "containers/api" / name).read_bytes() for name in archive_files(ROOT / "containers/api")}
    assert code_digest({**files, "README.md": b"x", "tests/t.py": b"y"}) == shipped
    # Member boundaries count: moving bytes from one member's end to the next one's start changes it.
    assert code_digest({"a.py": b"xy", "b.py": b"z"}) != code_digest({"a.py": b"x", "b.py": b"yz"})


def test_the_description_fits_lambdas_limit_and_gives_the_digest_back():
    limit = botocore.session.get_session().get_service_model("lambda").operation_model("UpdateFunctionConfiguration")
    assert limit.input_shape.members["Description"].metadata["max"] == DESCRIPTION_MAX
    description = described(PREDICT_SUMMARY, "ab" * 32)
    assert len(description) <= DESCRIPTION_MAX and described_digest(description) == "ab" * 32
    assert described_digest(PREDICT_SUMMARY) is None and described_digest(None) is None
    with pytest.raises(ValueError, match="Lambda allows 256"):
        described("x" * 200, "ab" * 32)


def test_archive_of_a_wrong_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="has no predict.py"):
        archive_files(tmp_path)


def valid_args() -> CanaryApiArgs:
    return CanaryApiArgs(
        name_prefix="x",
        region="us-east-1",
        kms_key_arn="k",
        alarm_topic_arn="t",
        endpoint_name="e",
        endpoint_arn="a",
        feature_names=("f",),
        deployment_config_name="CodeDeployDefault.LambdaAllAtOnce",
        throttle_rate=1,
        throttle_burst=1,
        log_retention_days=14,
    )


def test_valid_arguments_have_no_problem():
    assert valid_args().problems() == []


def test_bad_arguments_are_all_reported():
    args = replace(
        valid_args(),
        feature_names=(),
        deployment_config_name="CodeDeployDefault.Nope",
        throttle_rate=0,
        throttle_burst=5,
        log_retention_days=10,
        timeout_seconds=30,
    )
    problems = " | ".join(args.problems())
    for expected in ["log_retention_days=10", "throttle rate 0", "timeout_seconds=30", "feature_names is empty", "CodeDeployDefault.Nope"]:
        assert expected in problems


# ---- the program -------------------------------------------------------------------------------


def test_every_resource_is_a_child_of_the_component(records):
    names = {r["name"] for r in api_children(records)}
    assert {"api-function", "api-alias", "api-release", "api-http", "api-route", "api-stage", "api-deployment-group"} <= names
    assert all(r["parent"] == records.one(COMPONENT)["urn"] for r in records.resources if r["name"].startswith("api-"))


def test_prediction_function(records, stack):
    function = child(records, FUNCTION, "api-function")["inputs"]
    assert function["name"] == f"mlops-{stack}-predict"
    assert (function["runtime"], function["handler"], function["architectures"]) == ("python3.12", "predict.handler", ["x86_64"])
    assert function["publish"] is True and function["tracingConfig"] == {"mode": "Active"}
    assert 24 < function["timeout"] < 30 and function["memorySize"] == 512
    assert function["environment"]["variables"] == {
        "ENDPOINT_NAME": f"mlops-{stack}-churn",
        "FEATURE_NAMES": ",".join(FEATURE_NAMES),
        "POWERTOOLS_SERVICE_NAME": "predict-api",
        "POWERTOOLS_METRICS_NAMESPACE": "SageMakerMLOps/PredictApi",
    }
    # The code it runs, named: the digest of the archive's members at this commit.
    assert function["description"] == described(PREDICT_SUMMARY, source_digest(ROOT / "containers/api"))
    # Resolved from AWS's public parameter (answered by the mocks) for the pinned version.
    assert function["layers"] == ["arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:7"]
    assert function["loggingConfig"]["logGroup"] == f"/aws/lambda/mlops-{stack}-predict"


def test_a_promotion_publishes_no_lambda_version():
    # The model's version reaches clients from the model itself (CustomAttributes), so a new pin
    # changes the endpoint's model but nothing of the function: no new version for CodeDeploy.
    before = child(stack_records("prod"), FUNCTION, "api-function")["inputs"]
    after = child(stack_records("prod", "endpoint.modelPackageVersion=7"), FUNCTION, "api-function")["inputs"]
    assert "MODEL_VERSION" not in before["environment"]["variables"]
    assert after == before


def test_api_doc_names_the_functions_environment_and_where_the_version_comes_from(records):
    doc = (ROOT / "docs" / "api.md").read_text()
    variables = child(records, FUNCTION, "api-function")["inputs"]["environment"]["variables"]
    row = next(line for line in doc.splitlines() if line.startswith("| Lambda function |"))
    assert sorted(re.findall(r"`([A-Z_]+)(?:=[^`]*)?`", row.split("env", 1)[1])) == sorted(variables)
    assert "`MODEL_VERSION`" not in doc
    assert "`X-Amzn-SageMaker-Custom-Attributes`" in doc and "`model-version=<N>`" in doc


def test_reserved_concurrency_only_when_configured(records, stack):
    function = child(records, FUNCTION, "api-function")["inputs"]
    assert function.get("reservedConcurrentExecutions") == (50 if stack == "prod" else None)
    assert child(stack_records(*OVERRIDES), FUNCTION, "api-function")["inputs"]["reservedConcurrentExecutions"] == 3


def test_archive_is_the_api_source_relative_to_the_project(records):
    expected = archive_files(ROOT / "containers/api")
    assert "predict.py" in expected and "hooks/golden.json" in expected
    for name in ("api-function", "api-pre-traffic-hook", "api-post-traffic-hook"):
        assets = child(records, FUNCTION, name)["inputs"]["code"]["assets"]
        assert sorted(assets) == expected
        assert {a["path"] for a in assets.values()} == {f"containers/api/{n}" for n in expected}


def test_hook_functions(records, stack):
    for phase, handler in [("pre-traffic", "hooks.pre_traffic.handler"), ("post-traffic", "hooks.post_traffic.handler")]:
        hook = child(records, FUNCTION, f"api-{phase}-hook")["inputs"]
        # AWSCodeDeployRoleForLambda lets CodeDeploy invoke CodeDeployHook_* functions only.
        assert hook["name"] == f"CodeDeployHook_mlops-{stack}-predict-{phase}"
        assert hook["handler"] == handler and hook["runtime"] == "python3.12"
        assert hook["environment"]["variables"]["ENDPOINT_NAME"] == f"mlops-{stack}-churn"
        assert hook["timeout"] == 300 and "publish" not in hook
        assert hook["tracingConfig"] == {"mode": "Active"}


def test_log_groups_are_encrypted_and_retained(records, stack):
    groups = {r["name"]: r["inputs"] for r in api_children(records) if r["type"] == LOG_GROUP}
    assert {g["name"] for g in groups.values()} == {
        f"/aws/lambda/mlops-{stack}-predict",
        f"/aws/lambda/CodeDeployHook_mlops-{stack}-predict-pre-traffic",
        f"/aws/lambda/CodeDeployHook_mlops-{stack}-predict-post-traffic",
        f"/aws/vendedlogs/apigateway/mlops-{stack}-predict-access",
    }
    for group in groups.values():
        assert group["retentionInDays"] == (90 if stack == "prod" else 14)
        assert group["kmsKeyId"] == key_arn(records)


def test_functions_wait_for_their_log_groups(records):
    # Otherwise Lambda creates /aws/lambda/<fn> itself, unencrypted and kept forever.
    for function, logs in [("api-function", "api-logs"), ("api-pre-traffic-hook", "api-pre-traffic-hook-logs")]:
        assert child(records, LOG_GROUP, logs)["urn"] in child(records, FUNCTION, function)["dependencies"]


def test_alias_is_left_to_codedeploy(records):
    alias = child(records, "aws:lambda/alias:Alias", "api-alias")
    assert alias["inputs"]["name"] == "live"
    assert alias["inputs"]["functionVersion"] == child(records, FUNCTION, "api-function")["state"]["version"]
    camel = {"function_version": "functionVersion", "routing_config": "routingConfig"}
    assert alias["options"]["ignoreChanges"] == [camel[p] for p in ALIAS_IGNORE_CHANGES]


def test_release_targets_the_published_version_through_the_hooks(records, stack):
    release = child(records, RELEASE, "api-release")
    inputs = release["inputs"]
    group = child(records, GROUP, "api-deployment-group")
    assert inputs["target_version"] == child(records, FUNCTION, "api-function")["state"]["version"]
    assert child(records, FUNCTION, "api-function")["urn"] in release["property_dependencies"]["target_version"]
    assert (inputs["function_name"], inputs["alias_name"], inputs["region"]) == (f"mlops-{stack}-predict", "live", "us-east-1")
    assert inputs["application_name"] == group["inputs"]["appName"] == f"mlops-{stack}-predict-api"
    assert inputs["deployment_group_name"] == group["inputs"]["deploymentGroupName"]
    assert inputs["before_allow_traffic_hook"] == f"CodeDeployHook_mlops-{stack}-predict-pre-traffic"
    assert inputs["after_allow_traffic_hook"] == f"CodeDeployHook_mlops-{stack}-predict-post-traffic"
    assert inputs["timeout_seconds"] == release_timeout_seconds(group["inputs"]["deploymentConfigName"], 300)
    # No traffic moves before the alarms watch the new version and the hooks may act.
    needed = [child(records, ALARM, n)["urn"] for n in ("api-errors-alarm", "api-duration-alarm", "api-5xx-alarm")]
    needed += [child(records, FUNCTION, f"api-{p}-hook")["urn"] for p in ("pre-traffic", "post-traffic")]
    needed += [child(records, ROLE_POLICY, f"api-{p}-hook-policy")["urn"] for p in ("pre-traffic", "post-traffic")]
    assert set(needed) <= set(release["options"]["dependsOn"])


def test_deployment_config_per_stack(records, stack):
    group = child(records, GROUP, "api-deployment-group")["inputs"]
    assert (
        group["deploymentConfigName"]
        == {"dev": "CodeDeployDefault.LambdaAllAtOnce", "prod": "CodeDeployDefault.LambdaCanary10Percent5Minutes"}[stack]
    )
    overridden = stack_records(*OVERRIDES)
    assert (
        child(overridden, GROUP, "api-deployment-group")["inputs"]["deploymentConfigName"]
        == "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes"
    )
    assert child(overridden, RELEASE, "api-release")["inputs"]["timeout_seconds"] > 110 * 60


def test_deployment_group_rolls_back_on_failure_and_on_its_alarms(records):
    group = child(records, GROUP, "api-deployment-group")["inputs"]
    assert group["deploymentStyle"] == {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"}
    assert group["autoRollbackConfiguration"] == {"enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]}
    alarms = {r["name"]: r["inputs"]["name"] for r in api_children(records) if r["type"] == ALARM}
    assert group["alarmConfiguration"]["enabled"] is True and group["alarmConfiguration"]["ignorePollAlarmFailure"] is False
    assert sorted(group["alarmConfiguration"]["alarms"]) == sorted(alarms.values())
    assert len(alarms) == 3
    [trigger] = group["triggerConfigurations"]
    assert trigger["triggerTargetArn"] == topic_arn(records)
    assert set(trigger["triggerEvents"]) == {"DeploymentSuccess", "DeploymentFailure", "DeploymentRollback"}
    app = child(records, "aws:codedeploy/application:Application", "api-codedeploy")["inputs"]
    assert app["computePlatform"] == "Lambda"


def test_alarms_watch_the_new_version_the_alias_and_the_api(records, stack):
    function = child(records, FUNCTION, "api-function")
    alias_resource = f"mlops-{stack}-predict:live"
    errors = child(records, ALARM, "api-errors-alarm")
    assert errors["inputs"]["dimensions"] == {
        "FunctionName": f"mlops-{stack}-predict",
        "Resource": alias_resource,
        "ExecutedVersion": function["state"]["version"],
    }
    assert function["urn"] in errors["property_dependencies"]["dimensions"]  # follows each published version
    assert (errors["inputs"]["namespace"], errors["inputs"]["metricName"], errors["inputs"]["statistic"]) == ("AWS/Lambda", "Errors", "Sum")
    assert errors["inputs"]["threshold"] == 0 and errors["inputs"]["comparisonOperator"] == "GreaterThanThreshold"

    duration = child(records, ALARM, "api-duration-alarm")["inputs"]
    assert duration["dimensions"] == {"FunctionName": f"mlops-{stack}-predict", "Resource": alias_resource}
    assert (duration["metricName"], duration["extendedStatistic"], duration["threshold"]) == ("Duration", "p99", 3000)
    assert "statistic" not in duration

    api_5xx = child(records, ALARM, "api-5xx-alarm")["inputs"]
    api = child(records, "aws:apigatewayv2/api:Api", "api-http")
    assert (api_5xx["namespace"], api_5xx["metricName"], api_5xx["statistic"], api_5xx["threshold"]) == ("AWS/ApiGateway", "5xx", "Sum", 0)
    api_id = api["state"]["apiEndpoint"].removeprefix("https://").split(".")[0]
    assert api_5xx["dimensions"] == {"ApiId": api_id, "Stage": "$default"}

    for name in ("api-errors-alarm", "api-duration-alarm", "api-5xx-alarm"):
        alarm = child(records, ALARM, name)["inputs"]
        assert alarm["alarmActions"] == alarm["okActions"] == [topic_arn(records)]
        assert alarm["treatMissingData"] == "notBreaching"
        assert alarm["name"].startswith(f"mlops-{stack}-")


def test_route_requires_iam_auth_in_every_stack(records, stack):
    route = child(records, "aws:apigatewayv2/route:Route", "api-route")["inputs"]
    assert route["routeKey"] == "POST /predict"
    assert route["authorizationType"] == "AWS_IAM"
    integration = child(records, "aws:apigatewayv2/integration:Integration", "api-integration")
    assert re.fullmatch(r"integrations/[0-9a-f]{7}", route["target"])
    assert integration["urn"] in child(records, "aws:apigatewayv2/route:Route", "api-route")["property_dependencies"]["target"]
    assert records.outputs["apiAuth"] == route["authorizationType"]


def test_integration_invokes_the_alias(records):
    integration = child(records, "aws:apigatewayv2/integration:Integration", "api-integration")["inputs"]
    alias = child(records, "aws:lambda/alias:Alias", "api-alias")["state"]
    assert integration["integrationUri"] == alias["invokeArn"] and alias["invokeArn"].endswith(":live/invocations")
    assert (integration["integrationType"], integration["payloadFormatVersion"]) == ("AWS_PROXY", "2.0")
    assert integration["timeoutMilliseconds"] == 30000


def test_permission_is_scoped_to_this_api_route_and_the_alias(records, stack):
    permission = child(records, "aws:lambda/permission:Permission", "api-invoke-permission")["inputs"]
    execution_arn = child(records, "aws:apigatewayv2/api:Api", "api-http")["state"]["executionArn"]
    assert permission["principal"] == "apigateway.amazonaws.com" and permission["action"] == "lambda:InvokeFunction"
    assert permission["function"] == f"mlops-{stack}-predict" and permission["qualifier"] == "live"
    assert permission["sourceArn"] == f"{execution_arn}/*/POST/predict" == records.outputs["apiExecuteArn"]


def test_stage_throttles_and_logs_json(records, stack):
    stage = child(records, "aws:apigatewayv2/stage:Stage", "api-stage")["inputs"]
    throttle = {"dev": (20, 40), "prod": (200, 400)}[stack]
    assert (stage["defaultRouteSettings"]["throttlingRateLimit"], stage["defaultRouteSettings"]["throttlingBurstLimit"]) == throttle
    assert stage["name"] == "$default" and stage["autoDeploy"] is True
    logs = child(records, LOG_GROUP, "api-access-logs")
    assert stage["accessLogSettings"]["destinationArn"] == logs["state"]["arn"]
    assert json.loads(stage["accessLogSettings"]["format"]) == ACCESS_LOG_FIELDS
    assert {
        "requestId",
        "ip",
        "requestTime",
        "httpMethod",
        "routeKey",
        "status",
        "protocol",
        "responseLength",
        "integrationError",
        "integrationLatency",
    } <= set(ACCESS_LOG_FIELDS)


def test_throttle_follows_config():
    stage = child(stack_records(*OVERRIDES), "aws:apigatewayv2/stage:Stage", "api-stage")["inputs"]
    assert (stage["defaultRouteSettings"]["throttlingRateLimit"], stage["defaultRouteSettings"]["throttlingBurstLimit"]) == (7, 11)


def test_prediction_role_invokes_only_this_endpoint(records):
    statements = policy(records, "api-role-policy")
    log_arn = child(records, LOG_GROUP, "api-logs")["state"]["arn"]
    assert statements == {
        "InvokeThisEndpoint": {
            "Effect": "Allow",
            "Action": ["sagemaker:InvokeEndpoint"],
            "Resource": [endpoint_arn(records)],
            "Sid": "InvokeThisEndpoint",
        },
        "WriteOwnLogs": {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [f"{log_arn}:*"],
            "Sid": "WriteOwnLogs",
        },
        "WriteTraces": {
            "Effect": "Allow",
            "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            "Resource": ["*"],
            "Sid": "WriteTraces",
        },
    }
    role = child(records, "aws:iam/role:Role", "api-role")["inputs"]
    assert parse_json_input(role["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}


@pytest.mark.parametrize("phase", ["pre-traffic", "post-traffic"])
def test_hook_roles_are_scoped(records, phase):
    statements = policy(records, f"api-{phase}-hook-policy")
    group_arn = child(records, GROUP, "api-deployment-group")["state"]["arn"]
    function_arn = child(records, FUNCTION, "api-function")["state"]["arn"]
    log_arn = child(records, LOG_GROUP, f"api-{phase}-hook-logs")["state"]["arn"]
    expected = {
        "ReadThisDeploymentGroup": (["codedeploy:GetDeployment"], [group_arn]),
        "ReportHookStatus": (["codedeploy:PutLifecycleEventHookExecutionStatus"], ["*"]),
        "InvokeApiVersions": (["lambda:InvokeFunction"], [f"{function_arn}:*"]),
        "CheckEndpoint": (["sagemaker:DescribeEndpoint"], [endpoint_arn(records)]),
        "WriteOwnLogs": (["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_arn}:*"]),
        "WriteTraces": (["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"]),
    }
    if phase == "post-traffic":
        expected["ReadNewVersionErrors"] = (["cloudwatch:GetMetricData"], ["*"])
    assert {sid: (s["Action"], s["Resource"]) for sid, s in statements.items()} == expected
    assert all(s["Effect"] == "Allow" for s in statements.values())


def test_codedeploy_role(records):
    role = child(records, "aws:iam/role:Role", "api-codedeploy-role")
    assert parse_json_input(role["inputs"]["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "codedeploy.amazonaws.com"}
    [attachment] = [r for r in api_children(records) if r["type"] == "aws:iam/rolePolicyAttachment:RolePolicyAttachment"]
    assert attachment["inputs"]["policyArn"] == "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda"
    assert child(records, GROUP, "api-deployment-group")["inputs"]["serviceRoleArn"] == role["state"]["arn"]
    notify = policy(records, "api-codedeploy-notify")["PublishToEncryptedTopic"]
    assert notify["Action"] == ["kms:GenerateDataKey*", "kms:Decrypt"] and notify["Resource"] == [key_arn(records)]
    assert notify["Condition"] == {"StringEquals": {"kms:ViaService": "sns.us-east-1.amazonaws.com"}}


def test_no_full_access_or_wildcard_admin_statements(records):
    for resource in api_children(records):
        if resource["type"] == "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
            assert "FullAccess" not in resource["inputs"]["policyArn"]
        if resource["type"] == ROLE_POLICY:
            for s in parse_json_input(resource["inputs"]["policy"])["Statement"]:
                assert not any(a == "*" or a.endswith(":*") for a in s["Action"]), s
                if s["Resource"] == ["*"]:
                    assert s["Action"] in (
                        ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                        ["cloudwatch:GetMetricData"],
                        ["codedeploy:PutLifecycleEventHookExecutionStatus"],
                    ), s


def test_outputs(records, stack):
    outputs = records.outputs
    api = child(records, "aws:apigatewayv2/api:Api", "api-http")["state"]
    assert outputs["apiUrl"] == f"{api['apiEndpoint']}/predict"
    assert outputs["apiFunctionName"] == f"mlops-{stack}-predict"
    assert outputs["apiAliasArn"] == child(records, "aws:lambda/alias:Alias", "api-alias")["state"]["arn"]
    assert outputs["apiDeploymentGroupName"] == f"mlops-{stack}-predict-live"
    group = child(records, GROUP, "api-deployment-group")["inputs"]
    assert (outputs["apiApplicationName"], outputs["apiDeploymentGroupName"]) == (group["appName"], group["deploymentGroupName"])


def test_no_api_without_an_endpoint():
    records = stack_records("dev", "endpoint.modelPackageVersion=null")
    assert records.of_type(COMPONENT) == [] and records.of_type(FUNCTION) == []
    assert "apiUrl" not in records.outputs
