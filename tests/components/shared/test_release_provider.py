"""components/shared/release_provider.py on its own: what both release providers (EndpointRelease,
LambdaCanaryRelease) rely on to turn the wire's floats back into the integers botocore wants, to
validate a request before anything is deployed, and to read their inputs (the providers' own tests
drive them end to end through the SDK's dynamic-provider server)."""

from __future__ import annotations

import time

import pulumi
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.model import ShapeResolver
from botocore.stub import Stubber
from provider_wire import SESSION, FakeTime

from components.shared.release_provider import (
    ConformingClient,
    PollingReleaseProvider,
    conform,
    default_client_factory,
    error_code,
    input_failures,
    is_unknown,
    number,
    plain_numbers,
    request_failures,
)

# A service model's shapes in miniature: one of each kind conform walks.
SHAPES = ShapeResolver(
    {
        "Request": {
            "type": "structure",
            "members": {
                "Count": {"shape": "Integer"},
                "Bytes": {"shape": "Long"},
                "Weight": {"shape": "Double"},
                "Name": {"shape": "String"},
                "Sizes": {"shape": "Integers"},
                "Limits": {"shape": "IntegerMap"},
                "Variants": {"shape": "Variants"},
            },
        },
        "Variants": {"type": "list", "member": {"shape": "Variant"}},
        "Variant": {"type": "structure", "members": {"InstanceCount": {"shape": "Integer"}}},
        "Integers": {"type": "list", "member": {"shape": "Integer"}},
        "IntegerMap": {"type": "map", "key": {"shape": "String"}, "value": {"shape": "Integer"}},
        "Integer": {"type": "integer"},
        "Long": {"type": "long"},
        "Double": {"type": "double"},
        "String": {"type": "string"},
    }
)
REQUEST = SHAPES.get_shape_by_name("Request")


def test_integral_floats_become_ints_wherever_the_model_wants_an_integer():
    sent = {
        "Count": 10.0,
        "Bytes": 4096.0,
        "Weight": 0.5,
        "Name": "10.0",
        "Sizes": [1.0, 2.0],
        "Limits": {"a": 3.0},
        "Variants": [{"InstanceCount": 2.0}],
    }
    conformed = conform(REQUEST, sent)
    assert conformed == {
        "Count": 10,
        "Bytes": 4096,
        "Weight": 0.5,  # a double stays a float
        "Name": "10.0",
        "Sizes": [1, 2],
        "Limits": {"a": 3},
        "Variants": [{"InstanceCount": 2}],
    }
    # 10 == 10.0 in Python: the types are what botocore judges.
    converted = (
        conformed["Count"],
        conformed["Bytes"],
        conformed["Sizes"][0],
        conformed["Limits"]["a"],
        conformed["Variants"][0]["InstanceCount"],
    )
    assert [type(v) for v in converted] == [int] * 5


def test_what_the_model_does_not_describe_is_left_for_botocore_to_name():
    # A fraction where an integer is wanted, members the model lacks, a value of the wrong kind:
    # unchanged, so botocore's validation reports the value as the caller gave it.
    sent = {"Count": 2.5, "Unknown": 3.0, "Sizes": "1,2", "Limits": [1.0], "Variants": {"InstanceCount": 2.0}}
    assert conform(REQUEST, sent) == sent
    assert conform(None, 3.0) == 3.0 and conform(REQUEST, None) is None


def test_a_conforming_client_conforms_each_operation_s_parameters_and_passes_the_rest():
    client = SESSION.create_client("application-autoscaling", region_name="us-east-1")
    stub = Stubber(client)
    target = {
        "ServiceNamespace": "sagemaker",
        "ResourceId": "endpoint/e/variant/AllTraffic",
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
    }
    stub.add_response("register_scalable_target", {}, {**target, "MinCapacity": 1, "MaxCapacity": 4})
    conforming = ConformingClient(client)
    with stub:
        conforming.register_scalable_target(**target, MinCapacity=1.0, MaxCapacity=4.0)  # as off the wire
        stub.assert_no_pending_responses()
    # Not an operation: the client's own attribute, as it is.
    assert conforming.meta is client.meta and conforming.can_paginate("describe_scalable_targets") is True


def test_check_validates_each_known_request_member_naming_the_input_that_supplies_it():
    fields = {"FunctionName": "function_name", "FunctionVersion": "target_version"}
    params = {"FunctionName": 7.5, "Name": 3.0, "FunctionVersion": pulumi.runtime.rpc.UNKNOWN, "Description": None}
    failures = request_failures("lambda", "UpdateAlias", params, fields)
    # The unknown version (a preview) and the absent description are not judged; Name has no input
    # of its own and is named as AWS names it.
    assert [(f.property, f.reason.split(": ")[0]) for f in failures] == [
        ("function_name", "function_name would be refused by lambda UpdateAlias"),
        ("Name", "Name would be refused by lambda UpdateAlias"),
    ]
    assert "Invalid type for parameter FunctionName, value: 7.5" in failures[0].reason
    # A wire float where the model wants an integer is no failure: conform turns it back.
    scaling = {"ServiceNamespace": "sagemaker", "MinCapacity": 1.0}
    assert request_failures("application-autoscaling", "RegisterScalableTarget", scaling, {}) == []


@pytest.mark.parametrize(
    "news, failed",
    [
        ({"a": "x", "b": "y"}, []),
        ({"a": "x"}, [("b", "b is required")]),
        ({"a": "  ", "b": None}, [("a", "a is required"), ("b", "b is required")]),
        ({"a": "x", "b": 0}, []),  # a number is there, whatever its value
        ({"a": "x", "b": "y", "timeout_seconds": 59.0}, [("timeout_seconds", "timeout_seconds must be a number >= 60, got 59.0")]),
        ({"a": "x", "b": "y", "timeout_seconds": 60.0, "poll_interval_seconds": 1.0}, []),
        (
            {"a": "x", "b": "y", "poll_interval_seconds": 0.5},
            [("poll_interval_seconds", "poll_interval_seconds must be a number >= 1, got 0.5")],
        ),
        (
            {"a": "x", "b": "y", "poll_interval_seconds": "often"},
            [("poll_interval_seconds", "poll_interval_seconds must be a number >= 1, got 'often'")],
        ),
        ({"a": "x", "b": "y", "timeout_seconds": pulumi.runtime.rpc.UNKNOWN}, []),  # known only after the preview
    ],
)
def test_check_requires_the_required_inputs_and_bounds_the_waits(news, failed):
    assert [(f.property, f.reason) for f in input_failures(news, ("a", "b"))] == failed


def test_numbers_come_back_as_the_ints_they_were_before_the_wire():
    assert (number(10.0), number(2.5), number("10.0"), number(True)) == (10, 2.5, "10.0", True)
    assert type(number(10.0)) is int
    assert plain_numbers({"a": [1.0, {"b": 2.0}], "c": 0.25}) == {"a": [1, {"b": 2}], "c": 0.25}


def test_an_unknown_is_the_engine_s_sentinel_in_either_form():
    assert is_unknown(pulumi.output.Unknown()) and is_unknown(pulumi.runtime.rpc.UNKNOWN)
    assert not is_unknown("") and not is_unknown(None) and not is_unknown("04da6b54-80e4")


def test_the_error_code_is_aws_s_and_empty_for_any_other_failure():
    refused = ClientError({"Error": {"Code": "ValidationException", "Message": "endpoint is updating"}}, "UpdateEndpoint")
    assert error_code(refused) == "ValidationException"
    # Empty, so that messages fall back to the exception's type (components/endpoint/release.py).
    assert error_code(EndpointConnectionError(endpoint_url="https://sagemaker")) == ""
    assert error_code(ValueError("x")) == ""


def test_a_provider_asks_the_injected_factory_and_clock_else_boto3_and_the_monotonic_clock():
    asked: list[tuple[str, str]] = []
    fake = FakeTime()
    fake.now = 42.0
    injected = PollingReleaseProvider(client_factory=lambda service, region: asked.append((service, region)) or object(), clock=fake.clock)
    assert isinstance(injected._client("sagemaker", "eu-west-1"), ConformingClient) and asked == [("sagemaker", "eu-west-1")]
    assert injected._now() == 42.0
    default = PollingReleaseProvider()
    client = default._client("sagemaker", "eu-west-1").client
    assert client.meta.region_name == "eu-west-1" and client.meta.service_model.service_name == "sagemaker"
    assert abs(default._now() - time.monotonic()) < 5  # time.monotonic without an injected clock
    assert default_client_factory("codedeploy", "us-west-2").meta.region_name == "us-west-2"
