"""EndpointRelease in the states a real account reaches: an update that finished after the run that
started it was interrupted, a retry of a release SageMaker rolled back, a superseded pair that shares
a model with the new configuration, a canary a 1-instance fleet cannot split, and the wire's floats
in every request. Driven through the SDK's dynamic-provider server with validating clients
(tests/support/provider_wire.py)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ParamValidationError
from endpoint_release_stubs import (
    DEPLOYMENT,
    ENDPOINT,
    NEW,
    OLD,
    OLD_MODEL,
    PROPS,
    Aws,
)
from provider_wire import Wire, round_trip

from components.endpoint.release import (
    ROLLBACK_REASON_TAG,
    ROLLED_BACK_TAG,
    EndpointReleaseProvider,
    ReleaseError,
    ReleaseSpec,
)
from components.shared import release_provider


def state_on(config: str) -> dict:
    """What Pulumi's state recorded after the last successful release, onto `config`."""
    return {**PROPS, "endpoint_config_name": config, "previous_config_name": config, "released_config_name": config}


# --- interrupted updates ------------------------------------------------------------------------


def test_an_update_that_finished_after_an_interrupted_run_is_adopted_and_its_superseded_pair_deleted(provider, aws):
    # The earlier `pulumi up` was cancelled mid-deploy; SageMaker finished the update on its own.
    aws.endpoint("InService", NEW, count=3)
    aws.expect_superseded_deleted()
    result = provider.update(ENDPOINT, state_on(OLD), dict(PROPS))  # no update_endpoint
    assert (result.outs["release_method"], result.outs["previous_config_name"], result.outs["released_config_name"]) == (
        "adopted",
        OLD,
        NEW,
    )
    assert result.outs["deleted"] == [f"endpoint-config/{OLD}", f"model/{OLD_MODEL}"]


def test_an_endpoint_already_on_the_recorded_configuration_is_left_alone(provider, aws):
    aws.endpoint("InService", NEW)
    result = provider.update(ENDPOINT, {**state_on(NEW), "poll_interval_seconds": 15}, dict(PROPS))
    assert (result.outs["release_method"], result.outs["deleted"]) == ("unchanged", [])


# --- superseded pairs -------------------------------------------------------------------------------


def test_a_model_the_new_configuration_still_uses_is_never_deleted(provider, aws):
    # An instance type change: a new configuration, the same model.
    aws.endpoint("InService", OLD)
    aws.configs()
    aws.expect_update()
    aws.endpoint("InService", NEW)
    aws.config(OLD, OLD_MODEL)
    aws.config(NEW, OLD_MODEL)
    aws.sagemaker.add_response("delete_endpoint_config", {}, {"EndpointConfigName": OLD})
    result = provider.update(ENDPOINT, state_on(OLD), dict(PROPS))  # no delete_model
    assert result.outs["deleted"] == [f"endpoint-config/{OLD}"]


# --- a rolled-back release is not retried as it is ---------------------------------------------------


def rolled_back_tags(props: dict) -> dict[str, str]:
    return {
        ROLLED_BACK_TAG: ReleaseSpec.from_props(round_trip(props)).fingerprint,
        ROLLBACK_REASON_TAG: "rolled back: alarm mlops-prod-endpoint-5xx",
    }


def test_a_retry_of_a_rolled_back_release_is_refused_naming_the_pin_and_the_alarm(provider, aws):
    pinned = {**PROPS, "model_package_arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-dev-churn/7"}
    aws.endpoint("InService", OLD)
    aws.configs(tags=rolled_back_tags(pinned))
    with pytest.raises(ReleaseError) as raised:  # no update_endpoint, nothing suspended
        provider.update(ENDPOINT, state_on(OLD), pinned)
    message = str(raised.value)
    assert "model package arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-dev-churn/7) was rolled back" in message
    assert "(rolled back: alarm mlops-prod-endpoint-5xx)" in message
    assert "Pin another model package version (endpoint.modelPackageVersion)" in message
    assert f"--tag-keys {ROLLED_BACK_TAG}" in message


def test_a_release_with_changed_inputs_goes_ahead_although_its_configuration_was_rolled_back(provider, aws):
    # Same configuration, a longer bake: a different release.
    slower = {**DEPLOYMENT, "BlueGreenUpdatePolicy": {**DEPLOYMENT["BlueGreenUpdatePolicy"], "TerminationWaitInSeconds": 600}}
    aws.endpoint("InService", OLD)
    aws.configs(tags=rolled_back_tags(PROPS))
    aws.expect_update(deployment=slower)
    aws.endpoint("InService", NEW)
    aws.expect_superseded_deleted()
    result = provider.update(ENDPOINT, state_on(OLD), {**PROPS, "deployment_config": slower})
    assert result.outs["release_method"] == "updated"


# --- a canary needs a fleet to split -------------------------------------------------------------------


@pytest.mark.parametrize(("count", "canary", "refused"), [(1, 10, True), (2, 10, False), (2, 60, True), (3, 50, False)])
def test_a_capacity_percent_canary_larger_than_half_the_new_fleet_is_refused(provider, aws, count, canary, refused):
    deployment = {
        **DEPLOYMENT,
        "BlueGreenUpdatePolicy": {
            **DEPLOYMENT["BlueGreenUpdatePolicy"],
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "WaitIntervalInSeconds": 300,
                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": canary},
            },
        },
    }
    props = {**PROPS, "deployment_config": deployment}
    aws.endpoint("InService", OLD, count=count)
    aws.configs()
    if refused:
        with pytest.raises(ReleaseError, match=f"CANARY of {canary}% on variant AllTraffic's {count} instance\\(s\\) .*more than the 50%"):
            provider.update(ENDPOINT, state_on(OLD), props)
        return
    aws.expect_update(deployment=deployment)
    aws.endpoint("InService", NEW, count=count)
    aws.expect_superseded_deleted()
    assert provider.update(ENDPOINT, state_on(OLD), props).outs["release_method"] == "updated"


# --- the wire's floats -----------------------------------------------------------------------------------


def test_without_conforming_to_the_service_model_the_wire_s_floats_are_refused(monkeypatch):
    # What every prod promotion did before the providers conformed their requests: botocore refuses
    # CanarySize.Value 10.0 where SageMaker's model says integer (the stubbed answer is never used).
    monkeypatch.setattr(release_provider, "conform", lambda _shape, value: value)
    aws = Aws()
    provider = Wire(EndpointReleaseProvider(client_factory=aws.factory))
    aws.endpoint("InService", OLD)
    aws.configs()
    aws.expect_update()
    with aws.sagemaker, pytest.raises(ParamValidationError, match="CanarySize.Value, value: 10.0"):
        provider.update(ENDPOINT, state_on(OLD), dict(PROPS))


def test_check_names_the_input_sagemaker_would_refuse():
    bad = {**DEPLOYMENT, "BlueGreenUpdatePolicy": {**DEPLOYMENT["BlueGreenUpdatePolicy"], "TerminationWaitInSeconds": 30.5}}
    failures = Wire(EndpointReleaseProvider()).check({}, {**PROPS, "deployment_config": bad}).failures
    assert [(f.property, "TerminationWaitInSeconds, value: 30.5" in f.reason) for f in failures] == [("deployment_config", True)]


def test_a_rollback_that_cannot_be_recorded_is_still_reported_as_the_rollback(provider, aws):
    aws.endpoint("InService", OLD)
    aws.configs()
    aws.expect_update()
    aws.endpoint("InService", OLD)
    aws.alarm_states(**{"5xx": "ALARM"})
    aws.sagemaker.add_client_error("add_tags", service_error_code="AccessDeniedException", http_status_code=400)
    with pytest.raises(
        ReleaseError,
        match=r"rolled back: alarm mlops-prod-endpoint-5xx; \(the rollback could not be recorded on the configuration: AccessDeniedException\)",
    ):
        provider.update(ENDPOINT, state_on(OLD), dict(PROPS))
