"""EndpointRelease's provider, called as Pulumi calls it (through the SDK's dynamic-provider server,
so every number reaches it as a float: tests/support/provider_wire.py), with SageMaker, CloudWatch
and Application Auto Scaling on botocore's Stubber, which validates every request against the
service model.

moto has no `update_endpoint`, so every answer is scripted and every request is checked exactly (an
unexpected call fails the test: a release that deletes or rescales something it should not is red).
A fake clock and sleep make the polling and the timeout deterministic and instant.
"""

from __future__ import annotations

import base64

import dill
import pulumi
import pulumi_aws as aws_sdk
import pytest
from endpoint_release_stubs import (
    DEPLOYMENT,
    ENDPOINT,
    NEW,
    NEW_MODEL,
    OLD,
    OLD_MODEL,
    PROPS,
    RESOURCE_ID,
)
from provider_wire import Wire
from pulumi.dynamic.dynamic import serialize_provider

from components.endpoint.release import (
    ENDPOINT_IGNORE_CHANGES,
    EndpointReleaseProvider,
    ReleaseError,
)

# --- create and update ----------------------------------------------------------------------------


def test_brand_new_endpoint_is_already_on_its_configuration(provider, aws):
    aws.endpoint("InService", NEW, count=2)  # the Endpoint resource created it on this configuration
    result = provider.create(dict(PROPS))
    assert result.id == ENDPOINT
    assert (result.outs["release_method"], result.outs["previous_config_name"], result.outs["released_config_name"]) == (
        "unchanged",
        NEW,
        NEW,
    )
    assert result.outs["instance_counts"] == {"AllTraffic": 2} and result.outs["deleted"] == []


def test_update_is_blue_green_keeps_the_autoscaled_count_and_then_deletes_the_superseded_pair(provider, aws, fake_time):
    aws.endpoint("InService", OLD, count=3)  # autoscaling grew the variant from 2 to 3
    aws.configs()
    aws.expect_update(retain=True, deployment=DEPLOYMENT)
    aws.endpoint("Updating", OLD, pending=NEW)
    aws.endpoint("Updating", OLD, pending=NEW)
    aws.endpoint("InService", NEW, count=3)
    aws.expect_superseded_deleted()
    result = provider.update(ENDPOINT, {**PROPS, "endpoint_config_name": OLD}, dict(PROPS))
    assert result.outs["release_method"] == "updated"
    assert (result.outs["previous_config_name"], result.outs["released_config_name"]) == (OLD, NEW)
    assert result.outs["instance_counts"] == {"AllTraffic": 3}  # not reset to the configuration's 2
    assert result.outs["deleted"] == [f"endpoint-config/{OLD}", f"model/{OLD_MODEL}"]
    assert fake_time.sleeps == [30, 30]


def test_rollback_on_an_alarm_fails_the_update_names_the_alarm_and_deletes_nothing(provider, aws):
    aws.endpoint("InService", OLD)
    aws.configs()
    aws.expect_update()
    aws.endpoint("Updating", OLD, pending=NEW)
    aws.endpoint("RollingBack", OLD, pending=NEW)
    aws.endpoint("InService", OLD)  # InService again, on the old configuration
    aws.alarm_states(**{"5xx": "ALARM"})
    aws.expect_rollback_recorded("rolled back: alarm mlops-prod-endpoint-5xx")
    with pytest.raises(ReleaseError) as raised:
        provider.update(ENDPOINT, {**PROPS, "endpoint_config_name": OLD}, dict(PROPS))
    message = str(raised.value)
    assert f"endpoint {ENDPOINT} did not take {NEW}: rolled back: alarm mlops-prod-endpoint-5xx." in message
    assert f"It is InService on {OLD}, which Pulumi keeps recording as live" in message


def test_rollback_names_the_alarms_of_the_deployment_sagemaker_ran(provider, aws):
    # an earlier release ran with another alarm set: DescribeEndpoint's LastDeploymentConfig says which
    ran = {**DEPLOYMENT, "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "mlops-prod-endpoint-old"}]}}
    aws.endpoint("Updating", OLD, pending=NEW)
    aws.endpoint("InService", OLD, last=ran)
    aws.alarm_states(["mlops-prod-endpoint-old"], old="ALARM")
    aws.config(NEW, NEW_MODEL)
    aws.expect_rollback_recorded("rolled back: alarm mlops-prod-endpoint-old")
    with pytest.raises(ReleaseError, match="rolled back: alarm mlops-prod-endpoint-old"):
        provider.create(dict(PROPS))


def test_rollback_without_an_alarm_in_alarm_reports_sagemakers_reason(provider, aws):
    aws.endpoint("InService", OLD)
    aws.configs()
    aws.expect_update()
    aws.endpoint("InService", OLD, reason="The primary container for production variant AllTraffic did not pass the ping health check.")
    aws.alarm_states()
    aws.expect_rollback_recorded("rolled back  The primary container for production variant AllTraffic did not pass the ping health check.")
    with pytest.raises(
        ReleaseError, match=r"rolled back; The primary container for production variant AllTraffic did not pass the ping health check"
    ):
        provider.update(ENDPOINT, {**PROPS, "endpoint_config_name": OLD}, dict(PROPS))


def test_serverless_update_without_alarms_is_checked_too(provider, aws):
    props = {**PROPS, "deployment_config": None, "retain_variant_properties": False, "timeout_seconds": 3600}
    aws.endpoint("InService", OLD)
    aws.configs()
    aws.expect_update(retain=False, deployment=None)
    aws.endpoint("Failed", OLD, reason="Unable to locate the model")
    with pytest.raises(
        ReleaseError, match=f"did not take {NEW}: the update ended Failed; Unable to locate the model. It is Failed on {OLD}"
    ):
        provider.create(props)


def test_update_that_outlives_the_timeout_fails_and_leaves_the_state_as_it_was(provider, aws, fake_time):
    aws.endpoint("InService", OLD)
    aws.configs()
    aws.expect_update()
    for _ in range(4):  # 90 s at 30 s per poll: 3 sleeps, 4 looks
        aws.endpoint("Updating", OLD, pending=NEW)
    with pytest.raises(ReleaseError, match="was still Updating after 90 s of deploying endpoint-config-new"):
        provider.create({**PROPS, "timeout_seconds": 90})
    assert fake_time.now == 90


def test_instance_type_change_suspends_autoscaling_around_the_update_and_restores_it(provider, aws):
    aws.endpoint("InService", OLD)
    aws.configs("ml.m5.large", "ml.m5.xlarge")
    aws.scaling_registered()  # read, then policies deleted and target deregistered
    aws.expect_update()
    aws.endpoint("InService", NEW)
    aws.scaling_restored()  # registered again exactly as it was
    aws.expect_superseded_deleted()
    result = provider.create(dict(PROPS))
    assert result.outs["release_method"] == "updated"


def test_instance_type_change_restores_autoscaling_even_when_the_update_rolls_back(provider, aws):
    aws.endpoint("InService", OLD)
    aws.configs("ml.m5.large", "ml.m5.xlarge")
    aws.scaling_registered()
    aws.expect_update()
    aws.endpoint("InService", OLD)
    aws.scaling_restored()
    aws.alarm_states(p99="ALARM")
    aws.expect_rollback_recorded("rolled back: alarm mlops-prod-endpoint-latency-p99")
    with pytest.raises(ReleaseError, match="rolled back: alarm mlops-prod-endpoint-latency-p99"):
        provider.create(dict(PROPS))


def test_autoscaling_that_cannot_be_restored_fails_the_release_with_what_to_do(provider, aws):
    aws.endpoint("InService", OLD)
    aws.configs("ml.m5.large", "ml.m5.xlarge")
    aws.scaling_registered()
    aws.expect_update()
    aws.endpoint("InService", NEW)
    aws.scaling.add_client_error(
        "register_scalable_target", service_error_code="ValidationException", service_message="endpoint is updating"
    )
    with pytest.raises(ReleaseError, match=f"autoscaling of {RESOURCE_ID} was removed .* could not be restored \\(ValidationException"):
        provider.create(dict(PROPS))


# --- endpoints that are busy, broken or missing ---------------------------------------------------


def test_interrupted_release_is_waited_for_not_started_twice(provider, aws):
    aws.endpoint("Updating", OLD, pending=NEW)
    aws.endpoint("InService", NEW)
    aws.expect_superseded_deleted()
    result = provider.create(dict(PROPS))  # no update_endpoint
    assert (result.outs["release_method"], result.outs["previous_config_name"]) == ("adopted", OLD)


def test_endpoint_busy_with_another_configuration_fails_the_release(provider, aws):
    aws.endpoint("Updating", OLD, pending="endpoint-config-other")
    with pytest.raises(ReleaseError, match="is Updating \\(deploying endpoint-config-other\\) and cannot be moved"):
        provider.create(dict(PROPS))


def test_failed_endpoint_fails_the_release_with_its_reason(provider, aws):
    aws.endpoint("Failed", OLD, reason="Insufficient capacity")
    with pytest.raises(ReleaseError, match="is Failed: Insufficient capacity"):
        provider.create(dict(PROPS))


def test_missing_endpoint_says_what_to_declare(provider, aws):
    aws.sagemaker.add_client_error("describe_endpoint", service_error_code="ValidationException", service_message="Could not find endpoint")
    with pytest.raises(ReleaseError, match="does not exist: declare the aws.sagemaker.Endpoint"):
        provider.create(dict(PROPS))


def test_superseded_configuration_already_gone_is_not_an_error(provider, aws):
    aws.endpoint("InService", OLD)
    aws.configs()
    aws.expect_update()
    aws.endpoint("InService", NEW)
    aws.sagemaker.add_client_error("describe_endpoint_config", service_error_code="ValidationException")
    assert provider.create(dict(PROPS)).outs["deleted"] == []


def test_keeping_superseded_pairs_deletes_nothing(provider, aws):
    aws.endpoint("InService", OLD)
    aws.configs()
    aws.expect_update()
    aws.endpoint("InService", NEW)
    assert provider.create({**PROPS, "delete_superseded": False}).outs["deleted"] == []


# --- diff, check, delete, serialization ----------------------------------------------------------


def test_diff_updates_on_a_new_configuration_and_replaces_for_another_endpoint():
    provider = Wire(EndpointReleaseProvider())
    changed = provider.diff(ENDPOINT, {**PROPS, "endpoint_config_name": OLD}, dict(PROPS))
    assert changed.changes is True and changed.replaces == []
    moved = provider.diff(ENDPOINT, dict(PROPS), {**PROPS, "endpoint_name": "another"})
    assert moved.replaces == ["endpoint_name"]
    same = provider.diff(ENDPOINT, dict(PROPS), {**PROPS, "__provider": "a different serialization"})
    assert same.changes is False


def test_check_refuses_missing_fields_and_a_timeout_shorter_than_sagemakers():
    provider = Wire(EndpointReleaseProvider())
    failures = provider.check({}, {**PROPS, "endpoint_name": "", "timeout_seconds": 2400}).failures
    assert {f.property for f in failures} == {"endpoint_name", "timeout_seconds"}
    assert any("must exceed the blue/green MaximumExecutionTimeoutInSeconds (2400)" in f.reason for f in failures)
    assert provider.check({}, {**PROPS, "endpoint_config_name": pulumi.runtime.rpc.UNKNOWN}).failures == []
    assert provider.check({}, dict(PROPS)).failures == []


def test_delete_touches_nothing():
    provider = Wire(EndpointReleaseProvider(client_factory=lambda *_: pytest.fail("delete must not call AWS")))
    assert provider.delete(ENDPOINT, dict(PROPS)) is None


def test_provider_serializes_by_reference_without_clients():
    blob = base64.b64decode(serialize_provider(EndpointReleaseProvider()))
    assert b"components.endpoint.release" in blob and b"botocore" not in blob
    assert len(blob) < 1024
    assert isinstance(dill.loads(blob), EndpointReleaseProvider)


def test_endpoint_ignore_changes_names_real_endpoint_properties():
    for prop in ENDPOINT_IGNORE_CHANGES:
        assert isinstance(getattr(aws_sdk.sagemaker.EndpointArgs, prop), property), prop


# --- survivors of the mutation run (docs/testing.md, "Mutation check") ---------------------------


def test_a_release_waits_the_blue_green_limit_plus_the_margin_or_an_hour():
    from components.endpoint.release import DEFAULT_TIMEOUT_SECONDS, RELEASE_TIMEOUT_MARGIN_SECONDS, release_timeout_seconds

    config = {"BlueGreenUpdatePolicy": {"MaximumExecutionTimeoutInSeconds": 1800}}
    assert release_timeout_seconds(config) == 1800 + RELEASE_TIMEOUT_MARGIN_SECONDS
    assert release_timeout_seconds(None) == release_timeout_seconds({}) == DEFAULT_TIMEOUT_SECONDS == 3600


def test_without_retained_properties_a_canary_is_judged_on_the_configured_fleet():
    """Autoscaling's current count is the new fleet only with RetainAllVariantProperties: otherwise
    SageMaker starts InitialInstanceCount instances, and one instance cannot take a 1-instance canary."""
    from components.endpoint.release import EndpointReleaseProvider, ReleaseError, ReleaseSpec

    canary = {
        "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "CANARY", "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}}}
    }
    endpoint = {"ProductionVariants": [{"VariantName": "AllTraffic", "CurrentInstanceCount": 4}]}
    new_config = {"ProductionVariants": [{"VariantName": "AllTraffic", "InitialInstanceCount": 1}]}
    fixed = ReleaseSpec("churn", "churn-v2", "us-east-1", deployment_config=canary, retain_variant_properties=False)
    with pytest.raises(ReleaseError, match="a CANARY of 1 instance"):
        EndpointReleaseProvider._refuse_an_unsplittable_canary(fixed, endpoint, new_config)
    retained = ReleaseSpec("churn", "churn-v2", "us-east-1", deployment_config=canary, retain_variant_properties=True)
    assert EndpointReleaseProvider._refuse_an_unsplittable_canary(retained, endpoint, new_config) is None
