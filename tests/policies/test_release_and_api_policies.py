"""CodeDeploy and API Gateway guardrails, both ways."""

from __future__ import annotations

from typing import Any

from policy_testkit import Stack, analyze, assert_fails, assert_passes, findings, not_applicable

ALARMS = ["mlops-prod-predict-errors", "mlops-prod-predict-duration-p99", "mlops-prod-api-5xx"]


def deployment_group(stack: Stack, name: str = "api", *, platform: str = "Lambda", declare_alarms: bool = True, **overrides: Any) -> str:
    app = stack.add("aws:codedeploy/application:Application", f"{name}-app", {"name": f"{name}-app", "computePlatform": platform})
    if declare_alarms:
        for alarm in ALARMS:
            stack.add("aws:cloudwatch/metricAlarm:MetricAlarm", f"{name}-{alarm}", {"name": alarm, "period": 60})
    inputs = {
        "appName": f"{name}-app",
        "deploymentGroupName": f"{name}-live",
        "serviceRoleArn": "arn:aws:iam::123456789012:role/codedeploy",
        "deploymentConfigName": "CodeDeployDefault.LambdaCanary10Percent5Minutes",
        "deploymentStyle": {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        "autoRollbackConfiguration": {"enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]},
        "alarmConfiguration": {"enabled": True, "alarms": list(ALARMS)},
        **overrides,
    }
    return stack.add(
        "aws:codedeploy/deploymentGroup:DeploymentGroup",
        f"{name}-group",
        {k: v for k, v in inputs.items() if v is not None},
        deps={"appName": [app]},
    )


def test_canary_lambda_deployments_with_rollback_pass(pack):
    stack = Stack()
    deployment_group(stack)
    deployment_group(stack, "linear", deploymentConfigName="CodeDeployDefault.LambdaLinear10PercentEvery1Minute")
    # An EC2/server application is not a Lambda release: these guardrails do not judge it.
    deployment_group(
        stack, "servers", platform="Server", deploymentConfigName="CodeDeployDefault.AllAtOnce", autoRollbackConfiguration=None
    )
    result = analyze(pack, stack)
    assert_passes(result, "codedeploy-lambda-gradual")
    assert_passes(result, "codedeploy-auto-rollback")


def test_all_at_once_lambda_deployments_fail_in_prod_and_advise_in_dev(pack):
    stack = Stack()
    at_once = deployment_group(stack, deploymentConfigName="CodeDeployDefault.LambdaAllAtOnce")
    unset = deployment_group(stack, "unset", deploymentConfigName=None)
    result = analyze(pack, stack)
    assert_fails(
        result,
        "codedeploy-lambda-gradual",
        at_once,
        "shifts all traffic to a new Lambda version at once (CodeDeployDefault.LambdaAllAtOnce)",
        "LambdaCanary10Percent5Minutes",
    )
    assert_fails(result, "codedeploy-lambda-gradual", unset, "(no deployment configuration)")
    dev = Stack("dev")
    urn = deployment_group(dev, deploymentConfigName="CodeDeployDefault.LambdaAllAtOnce")
    assert_fails(analyze(pack, dev), "codedeploy-lambda-gradual", urn, level="advisory")


def test_a_custom_all_at_once_config_is_caught_too(pack):
    stack = Stack()
    stack.add(
        "aws:codedeploy/deploymentConfig:DeploymentConfig",
        "custom",
        {"deploymentConfigName": "custom-at-once", "computePlatform": "Lambda", "trafficRoutingConfig": {"type": "AllAtOnce"}},
    )
    urn = deployment_group(stack, deploymentConfigName="custom-at-once")
    stack.add(
        "aws:codedeploy/deploymentConfig:DeploymentConfig",
        "canary",
        {
            "deploymentConfigName": "custom-canary",
            "computePlatform": "Lambda",
            "trafficRoutingConfig": {"type": "TimeBasedCanary", "timeBasedCanary": {"interval": 5, "percentage": 10}},
        },
    )
    ok = deployment_group(stack, "ok", declare_alarms=False, deploymentConfigName="custom-canary")
    result = analyze(pack, stack)
    assert_fails(result, "codedeploy-lambda-gradual", urn, "custom configuration with traffic routing AllAtOnce")
    assert not [v for v in result.violations if v.urn == ok and v.policy == "codedeploy-lambda-gradual"]


def test_deployments_without_rollback_or_alarms_fail(pack):
    stack = Stack()
    off = deployment_group(stack, "off", autoRollbackConfiguration={"enabled": False}, alarmConfiguration=None)
    partial = deployment_group(stack, "partial", autoRollbackConfiguration={"enabled": True, "events": ["DEPLOYMENT_FAILURE"]})
    ghost = deployment_group(stack, "ghost", declare_alarms=False, alarmConfiguration={"enabled": True, "alarms": ["does-not-exist"]})
    result = analyze(pack, stack)
    assert_fails(result, "codedeploy-auto-rollback", off, "automatic rollback is off", "no alarms are monitored")
    assert_fails(result, "codedeploy-auto-rollback", partial, "rollback does not react to DEPLOYMENT_STOP_ON_ALARM")
    assert_fails(result, "codedeploy-auto-rollback", ghost, "not declared in this stack", "does-not-exist")


def stage(stack: Stack, name: str = "api-stage", **overrides: Any) -> str:
    inputs = {
        "apiId": "a1b2c3",
        "name": "$default",
        "autoDeploy": True,
        "defaultRouteSettings": {"throttlingRateLimit": 200, "throttlingBurstLimit": 400},
        "accessLogSettings": {
            "destinationArn": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/api",
            "format": '{"requestId":"$context.requestId"}',
        },
        **overrides,
    }
    return stack.add("aws:apigatewayv2/stage:Stage", name, {k: v for k, v in inputs.items() if v is not None})


def test_throttled_logged_stages_and_authorized_routes_pass(pack):
    stack = Stack()
    stage(stack)
    stack.add("aws:apigatewayv2/route:Route", "predict", {"apiId": "a1b2c3", "routeKey": "POST /predict", "authorizationType": "AWS_IAM"})
    stack.add(
        "aws:apigatewayv2/route:Route",
        "jwt",
        {"apiId": "a1b2c3", "routeKey": "GET /models", "authorizationType": "JWT", "authorizerId": "x"},
    )
    stack.add(
        "aws:apigateway/method:Method", "options", {"restApi": "r", "resourceId": "x", "httpMethod": "OPTIONS", "authorization": "NONE"}
    )
    result = analyze(pack, stack)
    for policy in ("apigateway-stage-throttling", "apigateway-access-logs", "apigateway-route-authorization"):
        assert_passes(result, policy)


def test_unthrottled_unlogged_stages_fail(pack):
    stack = Stack()
    unthrottled = stage(stack, "open", defaultRouteSettings=None)
    zero = stage(stack, "zero", defaultRouteSettings={"throttlingRateLimit": 0, "throttlingBurstLimit": 0})
    rate_only = stage(stack, "rate-only", defaultRouteSettings={"throttlingRateLimit": 200})
    burst_only = stage(stack, "burst-only", defaultRouteSettings={"throttlingBurstLimit": 400})
    unlogged = stage(stack, "silent", accessLogSettings=None)
    rest = stack.add("aws:apigateway/stage:Stage", "rest", {"restApi": "r", "stageName": "prod", "deployment": "d"})
    result = analyze(pack, stack)
    assert_fails(result, "apigateway-stage-throttling", unthrottled, "is not throttled (rate None, burst None)", "throttling_rate_limit")
    assert_fails(result, "apigateway-stage-throttling", zero, "rate 0, burst 0")
    assert_fails(result, "apigateway-stage-throttling", rate_only, "rate 200, burst None")
    assert_fails(result, "apigateway-stage-throttling", burst_only, "rate None, burst 400")
    assert_fails(result, "apigateway-access-logs", unlogged, "writes no access logs", "destination_arn")
    assert_fails(result, "apigateway-access-logs", rest, "writes no access logs")


def test_unauthorized_routes_fail_in_prod_and_in_dev(pack):
    stack = Stack()
    route = stack.add(
        "aws:apigatewayv2/route:Route", "predict", {"apiId": "a1b2c3", "routeKey": "POST /predict", "authorizationType": "NONE"}
    )
    method = stack.add(
        "aws:apigateway/method:Method", "post", {"restApi": "r", "resourceId": "x", "httpMethod": "POST", "authorization": "NONE"}
    )
    result = analyze(pack, stack)
    assert_fails(result, "apigateway-route-authorization", route, "(route 'POST /predict') accepts unauthenticated requests", "AWS_IAM")
    assert_fails(result, "apigateway-route-authorization", method, "(method POST)")
    dev = Stack("dev")
    urn = dev.add("aws:apigatewayv2/route:Route", "predict", {"apiId": "a1b2c3", "routeKey": "POST /predict"})
    assert_fails(analyze(pack, dev), "apigateway-route-authorization", urn, "authorization NONE", level="mandatory")


def test_a_custom_config_without_traffic_routing_shifts_all_at_once(pack):
    """CodeDeploy's default traffic routing is AllAtOnce: a custom config that names none is not gradual."""
    stack = Stack()
    stack.add("aws:codedeploy/deploymentConfig:DeploymentConfig", "bare", {"deploymentConfigName": "bare", "computePlatform": "Lambda"})
    urn = deployment_group(stack, deploymentConfigName="bare")
    assert_fails(analyze(pack, stack), "codedeploy-lambda-gradual", urn, "(custom configuration with traffic routing AllAtOnce)")


def test_each_release_finding_names_the_group_every_problem_and_the_fix(pack):
    """The whole messages, as the preview prints them (the engine puts the policy's description first)."""
    stack = Stack()
    urn = deployment_group(
        stack,
        declare_alarms=False,
        deploymentConfigName="CodeDeployDefault.LambdaAllAtOnce",
        autoRollbackConfiguration={"enabled": True, "events": []},
        alarmConfiguration={"enabled": True, "alarms": ["ghost"]},
    )
    result = analyze(pack, stack)
    assert assert_fails(result, "codedeploy-lambda-gradual", urn) == (
        "CodeDeploy Lambda deployment groups shift traffic by canary or linear steps, never all at once.\n"
        "aws:codedeploy/deploymentGroup:DeploymentGroup 'api-group' shifts all traffic to a new Lambda version at once "
        "(CodeDeployDefault.LambdaAllAtOnce): a bad release reaches every caller before an alarm can stop it. Use a canary or "
        "linear configuration such as CodeDeployDefault.LambdaCanary10Percent5Minutes (api.deploymentConfig)."
    )
    assert assert_fails(result, "codedeploy-auto-rollback", urn) == (
        "CodeDeploy Lambda deployment groups roll back on failure and on alarms, and monitor alarms that exist.\n"
        "aws:codedeploy/deploymentGroup:DeploymentGroup 'api-group' cannot roll a bad Lambda release back by itself:\n"
        "  - rollback does not react to DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM\n"
        "  - alarms not declared in this stack (an alarm that does not exist never fires): ghost\n"
        "Set auto_rollback_configuration(enabled=True, events=['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM']) and "
        "alarm_configuration(enabled=True, alarms=[the function's error and duration alarms and the API's 5XX alarm])."
    )


def test_websocket_disconnect_routes_take_no_authorization_and_connect_routes_do(pack):
    stack = Stack()
    stack.add("aws:apigatewayv2/route:Route", "disconnect", {"apiId": "w", "routeKey": "$disconnect"})
    connect = stack.add("aws:apigatewayv2/route:Route", "connect", {"apiId": "w", "routeKey": "$connect"})
    result = analyze(pack, stack)
    assert [v.urn for v in findings(result, "apigateway-route-authorization")] == [connect]
    assert not_applicable(result, "apigateway-route-authorization") == ["WebSocket $disconnect routes take no authorization"]


def test_each_api_finding_names_the_resource_what_is_missing_and_the_fix(pack):
    stack = Stack()
    bare = stage(stack, "bare", defaultRouteSettings=None, accessLogSettings=None)
    route = stack.add("aws:apigatewayv2/route:Route", "open", {"apiId": "a1b2c3", "routeKey": "GET /models"})
    result = analyze(pack, stack)
    assert assert_fails(result, "apigateway-stage-throttling", bare) == (
        "API Gateway HTTP API stages set a default throttling rate and burst limit.\n"
        "aws:apigatewayv2/stage:Stage 'bare' is not throttled (rate None, burst None): one client can exhaust the account's API "
        "Gateway and Lambda concurrency and run up the bill. Set default_route_settings with throttling_rate_limit and "
        "throttling_burst_limit (api.throttle.rate/.burst)."
    )
    assert assert_fails(result, "apigateway-access-logs", bare) == (
        "API Gateway stages write access logs in a defined format.\n"
        "aws:apigatewayv2/stage:Stage 'bare' writes no access logs, so who called the API, when and with what result cannot be "
        "audited. Set access_log_settings with destination_arn (a log group with retention and the project KMS key) and a JSON format."
    )
    assert assert_fails(result, "apigateway-route-authorization", route) == (
        "API Gateway routes and methods require authorization (IAM, JWT or a custom authorizer).\n"
        "aws:apigatewayv2/route:Route 'open' (route 'GET /models') accepts unauthenticated requests (authorization NONE). "
        "Set authorization_type='AWS_IAM' (callers sign with SigV4) or 'JWT' with an authorizer."
    )


def test_a_group_whose_application_is_elsewhere_is_judged_by_its_configuration_name(pack):
    """Without the application in the stack, a CodeDeployDefault.Lambda... configuration says the group deploys Lambda."""
    stack = Stack()
    inputs = {"appName": "made-elsewhere", "deploymentGroupName": "g", "serviceRoleArn": "arn:aws:iam::123456789012:role/codedeploy"}
    lambda_group = stack.add(
        "aws:codedeploy/deploymentGroup:DeploymentGroup", "lambda", {**inputs, "deploymentConfigName": "CodeDeployDefault.LambdaAllAtOnce"}
    )
    stack.add(
        "aws:codedeploy/deploymentGroup:DeploymentGroup", "servers", {**inputs, "deploymentConfigName": "CodeDeployDefault.AllAtOnce"}
    )
    result = analyze(pack, stack)
    assert [v.urn for v in findings(result, "codedeploy-lambda-gradual")] == [lambda_group]
    assert [v.urn for v in findings(result, "codedeploy-auto-rollback")] == [lambda_group]


def test_alarms_listed_but_disabled_are_not_monitored(pack):
    stack = Stack()
    urn = deployment_group(stack, alarmConfiguration={"enabled": False, "alarms": list(ALARMS)})
    message = assert_fails(analyze(pack, stack), "codedeploy-auto-rollback", urn, "  - no alarms are monitored during the deployment")
    assert message.count("\n  - ") == 1


def test_rest_methods_need_an_authorization_type(pack):
    stack = Stack()
    stack.add(
        "aws:apigateway/method:Method", "signed", {"restApi": "r", "resourceId": "x", "httpMethod": "POST", "authorization": "AWS_IAM"}
    )
    unset = stack.add("aws:apigateway/method:Method", "unset", {"restApi": "r", "resourceId": "x", "httpMethod": "GET"})
    result = analyze(pack, stack)
    assert [v.urn for v in findings(result, "apigateway-route-authorization")] == [unset]
    assert_fails(result, "apigateway-route-authorization", unset, "(method GET) accepts unauthenticated requests (authorization NONE)")
