"""API Gateway: stages are throttled and write access logs; routes require authorization."""

from __future__ import annotations

from typing import Callable

from pulumi_policy import ResourceValidationArgs

from guardrails.common import get_path, num, peek_path, resource_policy

HTTP_STAGE = "aws:apigatewayv2/stage:Stage"
HTTP_ROUTE = "aws:apigatewayv2/route:Route"
REST_STAGE = "aws:apigateway/stage:Stage"
REST_METHOD = "aws:apigateway/method:Method"
AUTHORIZED = ("AWS_IAM", "JWT", "CUSTOM", "COGNITO_USER_POOLS")


def _positive(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _throttling(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    settings = args.props.get("defaultRouteSettings")
    rate = get_path(settings, "throttlingRateLimit") if settings else None
    burst = get_path(settings, "throttlingBurstLimit") if settings else None
    if not (_positive(rate) and _positive(burst)):
        report(
            f"{args.resource_type} '{args.name}' is not throttled (rate {num(rate)}, burst {num(burst)}): one client can exhaust the "
            "account's API Gateway and Lambda concurrency and run up the bill. Set default_route_settings with "
            "throttling_rate_limit and throttling_burst_limit (api.throttle.rate/.burst)."
        )


def _access_logs(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    settings = args.props.get("accessLogSettings")
    if not settings or not peek_path(settings, "destinationArn") or not peek_path(settings, "format"):
        report(
            f"{args.resource_type} '{args.name}' writes no access logs, so who called the API, when and with what result "
            "cannot be audited. Set access_log_settings with destination_arn (a log group with retention and the project "
            "KMS key) and a JSON format."
        )


def _authorization(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    if args.resource_type == HTTP_ROUTE:
        if args.props.get("routeKey") == "$disconnect":
            args.not_applicable("WebSocket $disconnect routes take no authorization")
        kind = args.props.get("authorizationType") or "NONE"
        where = f"route {args.props.get('routeKey')!r}"
    else:
        if args.props.get("httpMethod") == "OPTIONS":
            args.not_applicable("CORS preflight (OPTIONS) methods are answered without credentials")
        kind = args.props.get("authorization") or "NONE"
        where = f"method {args.props.get('httpMethod')}"
    if kind not in AUTHORIZED:
        report(
            f"{args.resource_type} '{args.name}' ({where}) accepts unauthenticated requests (authorization {kind}). "
            "Set authorization_type='AWS_IAM' (callers sign with SigV4) or 'JWT' with an authorizer."
        )


apigateway_stage_throttling = resource_policy(
    "apigateway-stage-throttling",
    "API Gateway HTTP API stages set a default throttling rate and burst limit.",
    [HTTP_STAGE],
    _throttling,
)
apigateway_access_logs = resource_policy(
    "apigateway-access-logs",
    "API Gateway stages write access logs in a defined format.",
    [HTTP_STAGE, REST_STAGE],
    _access_logs,
)
apigateway_route_authorization = resource_policy(
    "apigateway-route-authorization",
    "API Gateway routes and methods require authorization (IAM, JWT or a custom authorizer).",
    [HTTP_ROUTE, REST_METHOD],
    _authorization,
)

POLICIES = [apigateway_stage_throttling, apigateway_access_logs, apigateway_route_authorization]
