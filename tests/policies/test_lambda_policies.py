"""Lambda guardrails: permissions, runtimes, tracing, both ways."""

from __future__ import annotations

import pytest
from policy_testkit import UNKNOWN, Case, Stack, analyze, analyze_cases, assert_case, assert_fails, assert_passes, findings, not_applicable

API_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/*/*"


def function(stack: Stack, name: str, **inputs) -> str:
    base = {
        "runtime": "python3.12",
        "handler": "predict.handler",
        "role": "arn:aws:iam::123456789012:role/fn",
        "tracingConfig": {"mode": "Active"},
    }
    return stack.add("aws:lambda/function:Function", name, {**base, **inputs})


def test_scoped_permissions_supported_runtimes_and_tracing_pass(pack):
    stack = Stack()
    function(stack, "predict")
    function(
        stack, "image", runtime=None, packageType="Image", imageUri="123456789012.dkr.ecr.us-east-1.amazonaws.com/fn@sha256:" + "0" * 64
    )
    stack.add(
        "aws:lambda/permission:Permission",
        "api",
        {"action": "lambda:InvokeFunction", "function": "predict", "principal": "apigateway.amazonaws.com", "sourceArn": API_ARN},
    )
    stack.add(
        "aws:lambda/permission:Permission",
        "account",
        {"action": "lambda:InvokeFunction", "function": "predict", "principal": "210987654321"},
    )
    stack.add("aws:lambda/functionUrl:FunctionUrl", "signed", {"functionName": "predict", "authorizationType": "AWS_IAM"})
    result = analyze(pack, stack)
    for policy in ("lambda-permission-restricted", "lambda-supported-runtime", "lambda-tracing", "lambda-function-url-auth"):
        assert_passes(result, policy)
    assert not_applicable(result, "lambda-supported-runtime") == [
        "a container-image function: its runtime is the image's, not a Lambda-managed one"
    ]


def test_permissions_for_anyone_or_for_a_service_without_source_arn_fail(pack):
    stack = Stack()
    anyone = stack.add(
        "aws:lambda/permission:Permission", "public", {"action": "lambda:InvokeFunction", "function": "predict", "principal": "*"}
    )
    service = stack.add(
        "aws:lambda/permission:Permission",
        "s3",
        {"action": "lambda:InvokeFunction", "function": "predict", "principal": "s3.amazonaws.com"},
    )
    result = analyze(pack, stack)
    assert_fails(
        result,
        "lambda-permission-restricted",
        anyone,
        "aws:lambda/permission:Permission 'public' lets anyone (principal '*')",
        "source_arn",
    )
    assert_fails(
        result,
        "lambda-permission-restricted",
        service,
        "s3.amazonaws.com invoke the function on behalf of any AWS account",
        "Set source_arn",
    )


def test_deprecated_runtimes_fail(pack):
    stack = Stack()
    old = function(stack, "old", runtime="python3.9")
    node = function(stack, "node", runtime="nodejs20.x")
    result = analyze(pack, stack)
    assert_fails(result, "lambda-supported-runtime", old, "uses runtime 'python3.9'", "python3.12, python3.13, python3.14")
    assert_fails(result, "lambda-supported-runtime", node, "'nodejs20.x'")
    # The stack configs allow the project's Python runtimes; the pack's defaults (a stack without
    # a policy config) allow every language Lambda still supports.
    java = Stack()
    function(java, "java", runtime="java21")
    assert_fails(analyze(pack, java), "lambda-supported-runtime", None, "'java21'")
    assert_passes(analyze(pack, java, config=None), "lambda-supported-runtime")


def test_functions_without_active_tracing_fail_and_only_advise_in_dev(pack):
    stack = Stack()
    unset = function(stack, "untraced", tracingConfig=None)
    passthrough = function(stack, "passthrough", tracingConfig={"mode": "PassThrough"})
    result = analyze(pack, stack)
    assert_fails(result, "lambda-tracing", unset, "does not trace requests (tracing mode unset", "mode='Active'")
    assert_fails(result, "lambda-tracing", passthrough, "tracing mode PassThrough")
    dev = Stack("dev")
    urn = function(dev, "untraced", tracingConfig=None)
    assert_fails(analyze(pack, dev), "lambda-tracing", urn, level="advisory")


# ---- each policy at its edges: one engine session over a table of resources ---------------------

PERMISSION = "aws:lambda/permission:Permission"
URL = "aws:lambda/functionUrl:FunctionUrl"


def _permission(id_: str, denied, **inputs) -> Case:
    return Case("lambda-permission-restricted", id_, PERMISSION, {"action": "lambda:InvokeFunction", "function": "f", **inputs}, denied)


def _url(id_: str, denied, **inputs) -> Case:
    return Case("lambda-function-url-auth", id_, URL, {"functionName": "f", **inputs}, denied)


CASES = [
    _permission("star", "lets anyone (principal '*')", principal="*"),
    _permission("service-with-source", None, principal="events.amazonaws.com", sourceArn="arn:aws:events:us-east-1:123456789012:rule/r"),
    _permission("service-source-unknown", None, principal="s3.amazonaws.com", sourceArn=UNKNOWN),  # the caller being created
    _permission("service-source-empty", "on behalf of any AWS account's resource", principal="sns.amazonaws.com", sourceArn=""),
    _permission("service-source-account-only", "no source_arn", principal="s3.amazonaws.com", sourceAccount="123456789012"),
    _permission("account", None, principal="123456789012"),
    _permission("role", None, principal="arn:aws:iam::123456789012:role/caller"),
    _url("iam", None, authorizationType="AWS_IAM"),
    _url("none", "has authorization_type NONE, not AWS_IAM", authorizationType="NONE"),
    _url("unset", "has authorization_type unset, not AWS_IAM"),
    _url("lower-case", "has authorization_type aws_iam, not AWS_IAM", authorizationType="aws_iam"),
]


@pytest.fixture(scope="module")
def table_result(pack):
    return analyze_cases(pack, CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_caller_and_url_is_judged_by_who_may_invoke(table_result, case):
    assert_case(*table_result, case)


# The runtimes Lambda supports with no deprecation date before 2027 (the AWS Lambda "Runtimes" page,
# read 2026-11-23), and ones it deprecated in 2026: the pack's defaults allow exactly the first.
SUPPORTED = [
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
DEPRECATED = ["python3.10", "python3.11", "nodejs20.x", "ruby3.2", "java17", "provided.al2", "dotnet6"]


def test_the_default_runtimes_are_the_supported_ones(pack):
    """Judged with the pack's defaults (no policy config), as a stack without one would be."""
    stack = Stack()
    urns = {runtime: function(stack, runtime.replace(".", "-"), runtime=runtime) for runtime in SUPPORTED + DEPRECATED}
    result = analyze(pack, stack, config=None)
    assert sorted(v.urn for v in findings(result, "lambda-supported-runtime")) == sorted(urns[r] for r in DEPRECATED)


def test_each_finding_names_the_resource_the_problem_and_the_fix(pack):
    """Every message whole, as the preview prints it (the engine puts the policy's description first)."""
    stack = Stack()
    anyone = stack.add(PERMISSION, "public", {"action": "lambda:InvokeFunction", "function": "f", "principal": "*"})
    service = stack.add(PERMISSION, "s3", {"action": "lambda:InvokeFunction", "function": "f", "principal": "s3.amazonaws.com"})
    url = stack.add(URL, "open", {"functionName": "f", "authorizationType": "NONE"})
    old = function(stack, "old", runtime="python3.9", tracingConfig=None)
    result = analyze(pack, stack, {"lambda-supported-runtime": {"allowedRuntimes": ["python3.12", "python3.13"]}})
    permission = "Lambda permissions name their caller: no principal '*', and a service principal only with a source ARN.\n"
    assert assert_fails(result, "lambda-permission-restricted", anyone) == (
        f"{permission}{PERMISSION} 'public' lets anyone (principal '*') invoke the function. Name the calling service or account as "
        "principal (e.g. apigateway.amazonaws.com) and set source_arn to the caller's ARN."
    )
    assert assert_fails(result, "lambda-permission-restricted", service) == (
        f"{permission}{PERMISSION} 's3' lets s3.amazonaws.com invoke the function on behalf of any AWS account's resource (no "
        "source_arn): any API, bucket or rule of that service, in any account, could call it. Set source_arn to the ARN of the "
        "resource that calls it (e.g. the API's execution ARN + '/*/*')."
    )
    assert assert_fails(result, "lambda-function-url-auth", url) == (
        "Lambda function URLs require IAM authorization (no authorization_type NONE).\n"
        f"{URL} 'open' has authorization_type NONE, not AWS_IAM: anyone on the internet who finds the URL can call the function, "
        "with no throttling, authentication or access log in front of it. Set authorization_type='AWS_IAM', or serve it through "
        "the API Gateway stage (throttled, logged, authorized) instead."
    )
    assert assert_fails(result, "lambda-supported-runtime", old) == (
        "Lambda functions use a runtime Lambda still supports.\n"
        "aws:lambda/function:Function 'old' uses runtime 'python3.9', which is not a supported Lambda runtime (deprecated "
        "runtimes get no security patches and soon cannot be updated). Use one of: python3.12, python3.13."
    )
    assert assert_fails(result, "lambda-tracing", old) == (
        "Lambda functions trace requests with X-Ray (tracing mode Active).\n"
        "aws:lambda/function:Function 'old' does not trace requests (tracing mode unset, i.e. PassThrough). "
        "Set tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode='Active') and allow xray:PutTraceSegments and "
        "xray:PutTelemetryRecords in its role."
    )
