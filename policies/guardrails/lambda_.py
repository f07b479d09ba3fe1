"""Lambda: invocation permissions scoped to their caller, no anonymous function URLs, supported runtimes,
X-Ray tracing."""

from __future__ import annotations

from typing import Callable

from pulumi_policy import ResourceValidationArgs

from guardrails.common import get_path, peek, resource_policy, string_list_config

FUNCTION = "aws:lambda/function:Function"
PERMISSION = "aws:lambda/permission:Permission"
FUNCTION_URL = "aws:lambda/functionUrl:FunctionUrl"
# Runtimes Lambda supports without a deprecation date before 2027 (AWS Lambda "Runtimes" page,
# read 2026-11-23): python3.10/3.11 and every Amazon Linux 2 runtime were deprecated on
# 2026-06-30, nodejs20.x on 2026-04-30, ruby3.2 on 2026-03-31.
DEFAULT_RUNTIMES = [
    "python3.12",
    "python3.13",
    "python3.14",
    "nodejs22.x",
    "nodejs24.x",
    "java21",
    "java25",
    "dotnet8",
    "dotnet10",
    "ruby3.3",
    "ruby3.4",
    "provided.al2023",
]


def _permission(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    principal = str(args.props.get("principal") or "")
    label = f"{args.resource_type} '{args.name}'"
    if principal == "*":
        report(
            f"{label} lets anyone (principal '*') invoke the function. Name the calling service or account as principal "
            "(e.g. apigateway.amazonaws.com) and set source_arn to the caller's ARN."
        )
    elif principal.endswith(".amazonaws.com") and not peek(args.props, "sourceArn"):
        report(
            f"{label} lets {principal} invoke the function on behalf of any AWS account's resource (no source_arn): "
            "any API, bucket or rule of that service, in any account, could call it. Set source_arn to the ARN of the "
            "resource that calls it (e.g. the API's execution ARN + '/*/*')."
        )


def _runtime(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    if args.props.get("packageType") == "Image":
        args.not_applicable("a container-image function: its runtime is the image's, not a Lambda-managed one")
    allowed = list(args.get_config().get("allowedRuntimes", DEFAULT_RUNTIMES))
    runtime = args.props.get("runtime")
    if runtime not in allowed:
        report(
            f"{args.resource_type} '{args.name}' uses runtime {runtime!r}, which is not a supported Lambda runtime "
            f"(deprecated runtimes get no security patches and soon cannot be updated). Use one of: {', '.join(allowed)}."
        )


def _tracing(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    mode = get_path(args.props, "tracingConfig", "mode")
    if mode != "Active":
        report(
            f"{args.resource_type} '{args.name}' does not trace requests (tracing mode {mode or 'unset, i.e. PassThrough'}). "
            "Set tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode='Active') and allow xray:PutTraceSegments and "
            "xray:PutTelemetryRecords in its role."
        )


def _function_url(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    kind = args.props.get("authorizationType")
    if kind != "AWS_IAM":
        report(
            f"{args.resource_type} '{args.name}' has authorization_type {kind or 'unset'}, not AWS_IAM: anyone on the internet who "
            "finds the URL can call the function, with no throttling, authentication or access log in front of it. Set "
            "authorization_type='AWS_IAM', or serve it through the API Gateway stage (throttled, logged, authorized) instead."
        )


lambda_permission_restricted = resource_policy(
    "lambda-permission-restricted",
    "Lambda permissions name their caller: no principal '*', and a service principal only with a source ARN.",
    [PERMISSION],
    _permission,
)
lambda_function_url_auth = resource_policy(
    "lambda-function-url-auth",
    "Lambda function URLs require IAM authorization (no authorization_type NONE).",
    [FUNCTION_URL],
    _function_url,
)
lambda_supported_runtime = resource_policy(
    "lambda-supported-runtime",
    "Lambda functions use a runtime Lambda still supports.",
    [FUNCTION],
    _runtime,
    config_schema=string_list_config("allowedRuntimes", DEFAULT_RUNTIMES, "Runtime identifiers functions may use."),
)
lambda_tracing = resource_policy(
    "lambda-tracing",
    "Lambda functions trace requests with X-Ray (tracing mode Active).",
    [FUNCTION],
    _tracing,
)

POLICIES = [lambda_permission_restricted, lambda_function_url_auth, lambda_supported_runtime, lambda_tracing]
