"""EndpointRelease's provider fed the inputs the offline preview recorded for each stack (the real
program under mocks: the engine's Struct, every number a float), through the SDK's dynamic-provider
server, against SageMaker on a Stubber that validates every request: what the first promotion on a
real account sends. Also the options the program gives the model and endpoint (the role policy
first: IAM propagation)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ParamValidationError
from provider_wire import FakeTime, ValidatingAws, Wire, recorded_inputs

from components.endpoint.release import EndpointReleaseProvider
from components.shared import release_provider
from tools.offline.records import stack_records
from tools.rehearsal.release_step import PREVIOUS_CONFIG, PREVIOUS_MODEL, rehearse_release, script_promotion

RELEASE = "pulumi-python:dynamic:EndpointRelease"


@pytest.fixture(scope="module", params=["prod", "dev"])
def recorded(request) -> dict:
    return recorded_inputs(request.param, RELEASE)


def test_the_recorded_inputs_arrive_as_floats(recorded):
    # the seam the offline tests used to skip: the provider never sees the program's ints
    assert isinstance(recorded["timeout_seconds"], float)


def test_check_diff_update_and_delete_with_the_recorded_inputs_send_only_valid_requests(recorded):
    aws = ValidatingAws("sagemaker", "cloudwatch")
    clock = FakeTime()
    wire = Wire(EndpointReleaseProvider(client_factory=aws.factory, sleep=clock.sleep, clock=clock.clock))
    olds = {**recorded, "endpoint_config_name": PREVIOUS_CONFIG, "released_config_name": PREVIOUS_CONFIG}
    assert wire.check(olds, recorded).failures == []
    assert wire.diff(recorded["endpoint_name"], recorded, recorded).changes is False
    assert wire.diff(recorded["endpoint_name"], olds, recorded).changes is True
    request = script_promotion(aws.stubs["sagemaker"], recorded)
    with aws.active():
        outs = wire.update(recorded["endpoint_name"], olds, recorded).outs
        wire.delete(recorded["endpoint_name"], outs)  # touches nothing
    assert (outs["release_method"], outs["released_config_name"]) == ("updated", recorded["endpoint_config_name"])
    assert outs["deleted"] == [f"endpoint-config/{PREVIOUS_CONFIG}", f"model/{PREVIOUS_MODEL}"]
    assert ("DeploymentConfig" in request) == bool(recorded.get("deployment_config"))


def test_the_rehearsal_step_fails_when_the_provider_sends_what_botocore_refuses(monkeypatch):
    prod = recorded_inputs("prod", RELEASE)
    assert rehearse_release(prod).problems == []
    monkeypatch.setattr(release_provider, "conform", lambda _shape, value: value)
    # check (botocore's validation of the request to be) refuses first: no endpoint is touched
    (problem,) = rehearse_release(prod).problems
    assert problem.startswith("release: check refuses the recorded inputs: deployment_config: ")
    assert "CanarySize.Value, value: 10.0" in problem


def test_without_conforming_an_update_sends_what_botocore_refuses(monkeypatch):
    prod = recorded_inputs("prod", RELEASE)
    monkeypatch.setattr(release_provider, "conform", lambda _shape, value: value)
    aws = ValidatingAws("sagemaker", "cloudwatch")
    wire = Wire(EndpointReleaseProvider(client_factory=aws.factory, sleep=lambda _s: None))
    script_promotion(aws.stubs["sagemaker"], prod)
    with aws.stubs["sagemaker"], pytest.raises(ParamValidationError, match="CanarySize.Value, value: 10.0"):
        wire.update(prod["endpoint_name"], {**prod, "endpoint_config_name": PREVIOUS_CONFIG}, prod)


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_the_model_and_the_endpoint_wait_for_their_role_s_policy(stack):
    records = stack_records(stack)
    (policy,) = [r for r in records.of_type("aws:iam/rolePolicy:RolePolicy") if r["name"] == "endpoint-role-policy"]
    for type_ in ("aws:sagemaker/model:Model", "aws:sagemaker/endpoint:Endpoint"):
        resource = records.one(type_)
        assert policy["urn"] in resource["options"].get("dependsOn", []), type_
