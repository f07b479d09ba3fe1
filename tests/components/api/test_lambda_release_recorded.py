"""LambdaCanaryRelease's provider fed the inputs the offline preview recorded for each stack (the
engine's Struct, every number a float), through the SDK's dynamic-provider server, against CodeDeploy
and Lambda on Stubbers that validate every request."""

from __future__ import annotations

import pytest
from botocore.stub import ANY
from provider_wire import FakeTime, ValidatingAws, Wire, recorded_inputs

from components.api.lambda_release import ACTIVE_STATUSES, LambdaCanaryReleaseProvider

RELEASE = "pulumi-python:dynamic:LambdaCanaryRelease"


@pytest.fixture(scope="module", params=["prod", "dev"])
def recorded(request) -> dict:
    return recorded_inputs(request.param, RELEASE)


def test_a_release_with_the_recorded_inputs_sends_only_valid_requests(recorded):
    aws = ValidatingAws("codedeploy", "lambda")
    clock = FakeTime()
    wire = Wire(LambdaCanaryReleaseProvider(client_factory=aws.factory, sleep=clock.sleep, clock=clock.clock))
    assert isinstance(recorded["timeout_seconds"], float)
    assert wire.check({}, recorded).failures == []
    assert wire.diff("id", recorded, recorded).changes is False
    group = {"applicationName": recorded["application_name"], "deploymentGroupName": recorded["deployment_group_name"]}
    codedeploy, lambda_ = aws.stubs["codedeploy"], aws.stubs["lambda"]
    codedeploy.add_response("list_deployments", {"deployments": []}, {**group, "includeOnlyStatuses": list(ACTIVE_STATUSES)})
    # the alias serves another published version: a CodeDeploy shift to the recorded target
    current = str(int(recorded["target_version"]) + 1)
    alias = {"FunctionName": recorded["function_name"], "Name": recorded["alias_name"]}
    lambda_.add_response("get_alias", {"Name": recorded["alias_name"], "FunctionVersion": current}, alias)
    codedeploy.add_response("list_deployments", {"deployments": []}, {**group, "includeOnlyStatuses": ["Failed", "Stopped"]})
    codedeploy.add_response("create_deployment", {"deploymentId": "d-RECORDED"}, {**group, "revision": ANY, "description": ANY})
    codedeploy.add_response(
        "get_deployment", {"deploymentInfo": {"deploymentId": "d-RECORDED", "status": "Succeeded"}}, {"deploymentId": "d-RECORDED"}
    )
    with aws.active():
        outs = wire.create(recorded).outs
        wire.delete("id", outs)
    assert (outs["release_method"], outs["previous_version"], outs["released_version"]) == (
        "codedeploy",
        current,
        recorded["target_version"],
    )


def test_check_names_an_input_codedeploy_would_refuse():
    failures = Wire(LambdaCanaryReleaseProvider()).check({}, {**recorded_inputs("prod", RELEASE), "deployment_group_name": 7}).failures
    assert [f.property for f in failures] == ["deployment_group_name"]
    assert (
        "would be refused by codedeploy CreateDeployment: Invalid type for parameter deploymentGroupName, value: 7.0" in failures[0].reason
    )
