"""The prediction API's front door: an API Gateway HTTP API with `POST /predict` integrated with the
Lambda alias, a throttled `$default` stage with JSON access logs, and the permission for API Gateway
to invoke the alias (used by CanaryApi)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, NamedTuple

import pulumi
import pulumi_aws as aws

from components.api.args import INTEGRATION_TIMEOUT_MS

if TYPE_CHECKING:
    from components.api.args import CanaryApiArgs

ROUTE_KEY = "POST /predict"
# Every stack: an open route lets anyone on the internet spend the endpoint's money. Callers sign
# with SigV4 and need execute-api:Invoke on the route (the dashboard's task role has it).
ROUTE_AUTHORIZATION = "AWS_IAM"
STAGE_NAME = "$default"
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "caller": "$context.identity.userArn",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationStatus": "$context.integrationStatus",
    "integrationError": "$context.integrationErrorMessage",
    "integrationLatency": "$context.integrationLatency",
    "error": "$context.error.message",
}


def access_log_format() -> str:
    return json.dumps(ACCESS_LOG_FIELDS, separators=(",", ":"))


class HttpApi(NamedTuple):
    api: aws.apigatewayv2.Api
    stage: aws.apigatewayv2.Stage
    execute_api_arn: pulumi.Output[str]
    """`arn:aws:execute-api:<region>:<account>:<api>/*/POST/predict`: grant execute-api:Invoke on it."""


def http_api(
    name: str,
    args: CanaryApiArgs,
    function: aws.lambda_.Function,
    alias: aws.lambda_.Alias,
    access_logs: aws.cloudwatch.LogGroup,
    parent: pulumi.Resource,
) -> HttpApi:
    """`POST /predict` on an HTTP API, integrated with (and allowed to invoke) the alias only."""
    child = pulumi.ResourceOptions(parent=parent)
    api = aws.apigatewayv2.Api(
        f"{name}-http",
        name=f"{args.name_prefix}-predict",
        description="Churn predictions: POST /predict",
        protocol_type="HTTP",
        opts=child,
    )
    integration = aws.apigatewayv2.Integration(
        f"{name}-integration",
        api_id=api.id,
        integration_type="AWS_PROXY",
        integration_method="POST",
        integration_uri=alias.invoke_arn,
        payload_format_version="2.0",
        timeout_milliseconds=INTEGRATION_TIMEOUT_MS,
        opts=child,
    )
    aws.apigatewayv2.Route(
        f"{name}-route",
        api_id=api.id,
        route_key=ROUTE_KEY,
        target=pulumi.Output.concat("integrations/", integration.id),
        authorization_type=ROUTE_AUTHORIZATION,
        opts=child,
    )
    stage = aws.apigatewayv2.Stage(
        f"{name}-stage",
        api_id=api.id,
        name=STAGE_NAME,
        auto_deploy=True,
        default_route_settings=aws.apigatewayv2.StageDefaultRouteSettingsArgs(
            throttling_rate_limit=float(args.throttle_rate),
            throttling_burst_limit=args.throttle_burst,
        ),
        access_log_settings=aws.apigatewayv2.StageAccessLogSettingsArgs(destination_arn=access_logs.arn, format=access_log_format()),
        opts=child,
    )
    execute_api_arn = pulumi.Output.concat(api.execution_arn, "/*/POST/predict")
    aws.lambda_.Permission(
        f"{name}-invoke-permission",
        statement_id="AllowThisHttpApiPostPredict",
        action="lambda:InvokeFunction",
        function=function.name,
        qualifier=alias.name,
        principal="apigateway.amazonaws.com",
        source_arn=execute_api_arn,
        opts=child,
    )
    return HttpApi(api, stage, execute_api_arn)
