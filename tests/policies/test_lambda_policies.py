"""Lambda guardrails: permissions, runtimes, tracing, both ways."""

from __future__ import annotations

from policy_testkit import Stack, analyze, assert_fails, assert_passes, not_applicable

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
    result = analyze(pack, stack)
    for policy in ("lambda-permission-restricted", "lambda-supported-runtime", "lambda-tracing"):
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
