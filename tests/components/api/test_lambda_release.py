"""LambdaCanaryRelease's provider, called as Pulumi calls it (through the SDK's dynamic-provider
server, so every number reaches it as a float: tests/support/provider_wire.py), with CodeDeploy and
Lambda on Stubber, which validates every request against the service model.

moto's CodeDeploy cannot stop deployments or move them past `Created`, so every CodeDeploy and
Lambda answer here is scripted and every request is checked exactly. A fake clock and sleep make
the polling and the timeout deterministic and instant.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import dill
import pulumi
import pulumi_aws as aws_sdk
import pytest
from provider_wire import FakeTime, ValidatingAws, Wire
from pulumi.dynamic.dynamic import serialize_provider

from components.api.lambda_release import (
    ALIAS_IGNORE_CHANGES,
    LambdaCanaryRelease,
    LambdaCanaryReleaseArgs,
    LambdaCanaryReleaseProvider,
)
from components.api.release_spec import ReleaseError, ReleaseSpec, appspec_content

PROPS: dict[str, Any] = {
    "application_name": "mlops-api",
    "deployment_group_name": "mlops-api-live",
    "function_name": "predict-api",
    "alias_name": "live",
    "target_version": "4",
    "region": "us-east-1",
    "before_allow_traffic_hook": "CodeDeployHook_pre",
    "after_allow_traffic_hook": "CodeDeployHook_post",
    "timeout_seconds": 600,
    "poll_interval_seconds": 15,
    "__provider": "serialized-provider",  # Pulumi passes it along; the provider must ignore it
}
CREATED = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
ACTIVE = ["Created", "Queued", "InProgress", "Baking", "Ready"]


class Aws(ValidatingAws):
    """Stubbed codedeploy and lambda clients, handed to the provider through its client factory."""

    def __init__(self) -> None:
        super().__init__("codedeploy", "lambda")
        self.codedeploy = self.stubs["codedeploy"]
        self.lambda_ = self.stubs["lambda"]

    def no_running_deployment(self) -> None:
        self.codedeploy.add_response(
            "list_deployments",
            {"deployments": []},
            {"applicationName": "mlops-api", "deploymentGroupName": "mlops-api-live", "includeOnlyStatuses": ACTIVE},
        )

    def alias(self, version: str, weights: dict[str, float] | None = None) -> None:
        response: dict[str, Any] = {
            "Name": "live",
            "FunctionVersion": version,
            "AliasArn": "arn:aws:lambda:us-east-1:123456789012:function:predict-api:live",
        }
        if weights:
            response["RoutingConfig"] = {"AdditionalVersionWeights": weights}
        self.lambda_.add_response("get_alias", response, {"FunctionName": "predict-api", "Name": "live"})

    def deployment_status(self, status: str, deployment_id: str = "d-NEW", **extra: Any) -> None:
        info = {"deploymentId": deployment_id, "status": status, "createTime": CREATED, **extra}
        self.codedeploy.add_response("get_deployment", {"deploymentInfo": info}, {"deploymentId": deployment_id})

    def failed_deployments(self, *infos: dict[str, Any]) -> None:
        """ListDeployments of the failed and stopped ones, then their details."""
        ids = [info["deploymentId"] for info in infos]
        self.codedeploy.add_response(
            "list_deployments",
            {"deployments": ids},
            {"applicationName": "mlops-api", "deploymentGroupName": "mlops-api-live", "includeOnlyStatuses": ["Failed", "Stopped"]},
        )
        if ids:
            self.codedeploy.add_response("batch_get_deployments", {"deploymentsInfo": list(infos)}, {"deploymentIds": ids})

    def expect_create(self, current: str = "3") -> str:
        self.failed_deployments()
        return self.expect_deployment(current)

    def expect_deployment(self, current: str = "3") -> str:
        """CreateDeployment of version `current` -> 4, as the provider must ask for it."""
        spec = ReleaseSpec.from_props(PROPS)
        content = appspec_content(spec, current)
        self.codedeploy.add_response(
            "create_deployment",
            {"deploymentId": "d-NEW"},
            {
                "applicationName": "mlops-api",
                "deploymentGroupName": "mlops-api-live",
                "revision": {
                    "revisionType": "AppSpecContent",
                    "appSpecContent": {"content": content, "sha256": hashlib.sha256(content.encode()).hexdigest()},
                },
                "description": f"pulumi: predict-api:live version {current} -> 4",
            },
        )
        return content


@pytest.fixture
def aws() -> Iterator[Aws]:
    stubs = Aws()
    with stubs.active():
        yield stubs


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def provider(aws: Aws, fake_time: FakeTime) -> Wire:
    return Wire(LambdaCanaryReleaseProvider(client_factory=aws.factory, sleep=fake_time.sleep, clock=fake_time.clock))


# --- the AppSpec ---------------------------------------------------------------------------------


def test_appspec_shifts_the_alias_with_both_hooks():
    document = json.loads(appspec_content(ReleaseSpec.from_props(PROPS), "3"))
    assert document == {
        "version": 0.0,
        "Resources": [
            {
                "LambdaFunction": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {"Name": "predict-api", "Alias": "live", "CurrentVersion": "3", "TargetVersion": "4"},
                }
            }
        ],
        "Hooks": [{"BeforeAllowTraffic": "CodeDeployHook_pre"}, {"AfterAllowTraffic": "CodeDeployHook_post"}],
    }


def test_appspec_without_hooks_has_no_hooks_section():
    props = {**PROPS, "before_allow_traffic_hook": None, "after_allow_traffic_hook": ""}
    assert "Hooks" not in json.loads(appspec_content(ReleaseSpec.from_props(props), "3"))


# --- create ----------------------------------------------------------------------------------


def test_first_release_points_the_alias_directly(provider, aws):
    aws.no_running_deployment()
    aws.alias("$LATEST")
    aws.lambda_.add_response(
        "update_alias",
        {"Name": "live", "FunctionVersion": "4"},
        {"FunctionName": "predict-api", "Name": "live", "FunctionVersion": "4"},
    )
    result = provider.create(dict(PROPS))
    assert result.id == "predict-api:live"
    assert result.outs["release_method"] == "direct"
    assert (result.outs["previous_version"], result.outs["released_version"], result.outs["deployment_id"]) == ("$LATEST", "4", "")
    assert set(aws.regions) == {"us-east-1"}


def test_alias_already_on_the_target_needs_nothing(provider, aws):
    aws.no_running_deployment()
    aws.alias("4")
    result = provider.create(dict(PROPS))
    # No deployment ran: none is named.
    assert (result.outs["release_method"], result.outs["deployment_id"], result.outs["previous_version"]) == ("unchanged", "", "4")


def test_canary_release_runs_a_deployment_and_waits_for_success(provider, aws, fake_time):
    aws.no_running_deployment()
    aws.alias("3")
    aws.expect_create(current="3")
    aws.deployment_status("Created")
    aws.deployment_status("InProgress")
    aws.deployment_status("Succeeded")
    result = provider.create(dict(PROPS))
    assert result.outs["deployment_id"] == "d-NEW"
    assert result.outs["release_method"] == "codedeploy"
    assert (result.outs["previous_version"], result.outs["released_version"]) == ("3", "4")
    assert fake_time.sleeps == [15, 15]


@pytest.mark.parametrize(
    ("status", "extra", "fragments"),
    [
        (
            "Stopped",
            {
                "errorInformation": {"code": "ALARM_ACTIVE", "message": "One or more alarms have been activated: predict-api-errors"},
                "rollbackInfo": {
                    "rollbackDeploymentId": "d-ROLLBACK",
                    "rollbackMessage": "Deployment rolled back because alarms were activated",
                },
            },
            [
                "stopped",
                "ALARM_ACTIVE: One or more alarms have been activated: predict-api-errors",
                "rollback: Deployment rolled back",
                "d-ROLLBACK",
            ],
        ),
        (
            "Failed",
            {"errorInformation": {"code": "HOOK_EXECUTION_FAILURE", "message": "A lifecycle event hook failed: BeforeAllowTraffic"}},
            ["failed", "HOOK_EXECUTION_FAILURE: A lifecycle event hook failed: BeforeAllowTraffic"],
        ),
    ],
)
def test_failed_or_rolled_back_deployment_fails_the_update_with_the_reason(provider, aws, status, extra, fragments):
    aws.no_running_deployment()
    aws.alias("3")
    aws.expect_create()
    aws.deployment_status("InProgress")
    aws.deployment_status(status, **extra)
    with pytest.raises(ReleaseError) as raised:
        provider.update("predict-api:live", {**PROPS, "target_version": "3"}, dict(PROPS))
    message = str(raised.value)
    assert message.startswith("CodeDeploy deployment d-NEW of predict-api:live (version 3 -> 4)")
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize(
    "stopped, said",
    [({"status": "Pending", "statusMessage": "Stopping"}, "Pending: Stopping"), ({"status": "Pending"}, "Pending")],
    ids=["with a status message", "status alone"],
)
def test_deployment_that_outlives_the_timeout_is_stopped_with_rollback(provider, aws, fake_time, stopped, said):
    aws.no_running_deployment()
    aws.alias("3")
    aws.expect_create()
    for _ in range(41):  # 600 s at 15 s per poll: 40 sleeps, 41 looks
        aws.deployment_status("Baking")
    aws.codedeploy.add_response("stop_deployment", stopped, {"deploymentId": "d-NEW", "autoRollbackEnabled": True})
    with pytest.raises(ReleaseError) as raised:
        provider.create(dict(PROPS))
    assert str(raised.value) == (
        f"CodeDeploy deployment d-NEW of predict-api:live (version 3 -> 4) was still Baking after 600 s; stopped it with rollback ({said})"
    )
    assert fake_time.now == 600


def test_timeout_says_how_to_stop_when_stopping_fails(aws, fake_time):
    provider = Wire(LambdaCanaryReleaseProvider(client_factory=aws.factory, sleep=fake_time.sleep, clock=fake_time.clock))
    aws.no_running_deployment()
    aws.alias("3")
    aws.expect_create()
    aws.deployment_status("InProgress")
    aws.deployment_status("InProgress")
    aws.codedeploy.add_client_error(
        "stop_deployment", service_error_code="DeploymentAlreadyCompletedException", service_message="the deployment has completed"
    )
    with pytest.raises(ReleaseError) as raised:
        provider.create({**PROPS, "timeout_seconds": 15})
    assert str(raised.value).endswith(
        "was still InProgress after 15 s; could not stop it (DeploymentAlreadyCompletedException: the deployment has completed); "
        "stop it with aws deploy stop-deployment --deployment-id d-NEW --auto-rollback-enabled"
    )


def test_the_failed_deployments_are_read_25_at_a_time(provider, aws):
    # BatchGetDeployments takes at most 25 ids a call: 26 earlier failures are two calls.
    failed = [f"d-FAILED{i:02}" for i in range(26)]
    aws.no_running_deployment()
    aws.alias("3")
    group = {"applicationName": "mlops-api", "deploymentGroupName": "mlops-api-live", "includeOnlyStatuses": ["Failed", "Stopped"]}
    aws.codedeploy.add_response("list_deployments", {"deployments": failed}, group)
    for batch in (failed[:25], failed[25:]):
        aws.codedeploy.add_response("batch_get_deployments", {"deploymentsInfo": []}, {"deploymentIds": batch})
    aws.expect_deployment()
    aws.deployment_status("Succeeded")
    assert provider.create(dict(PROPS)).outs["deployment_id"] == "d-NEW"


def test_a_rollback_of_another_version_does_not_block_this_one(provider, aws):
    earlier = {
        "deploymentId": "d-EARLIER",
        "status": "Stopped",
        "revision": {
            "revisionType": "AppSpecContent",
            "appSpecContent": {"content": appspec_content(ReleaseSpec.from_props({**PROPS, "target_version": "3"}), "2")},
        },
    }
    aws.no_running_deployment()
    aws.alias("3")
    aws.failed_deployments(earlier)
    aws.expect_deployment()
    aws.deployment_status("Succeeded")
    assert provider.create(dict(PROPS)).outs["release_method"] == "codedeploy"


def test_a_version_codedeploy_rolled_back_is_not_released_again(provider, aws):
    rolled_back = {
        "deploymentId": "d-EARLIER",
        "status": "Stopped",
        # Tried from version 2 then; the alias has moved on to 3 since.
        "revision": {"revisionType": "AppSpecContent", "appSpecContent": {"content": appspec_content(ReleaseSpec.from_props(PROPS), "2")}},
        "errorInformation": {"code": "ALARM_ACTIVE", "message": "One or more alarms have been activated: predict-api-errors"},
        "rollbackInfo": {"rollbackDeploymentId": "d-ROLLBACK"},
    }
    other = {**rolled_back, "deploymentId": "d-OLDER", "revision": {"revisionType": "AppSpecContent", "appSpecContent": {"content": "{}"}}}
    aws.no_running_deployment()
    aws.alias("3")
    aws.failed_deployments(other, rolled_back)
    with pytest.raises(ReleaseError) as raised:  # no create_deployment
        provider.update("predict-api:live", {**PROPS, "target_version": "3"}, dict(PROPS))
    message = str(raised.value)
    assert message.startswith(
        "version 4 of predict-api:live was not released again: CodeDeploy deployment d-EARLIER of predict-api:live (version 2 -> 4) stopped"
    )
    assert "ALARM_ACTIVE: One or more alarms have been activated: predict-api-errors" in message
    assert message.endswith(
        "The alias stays on version 3. Fix the cause and publish a new version (any change of the code or the function's "
        "configuration, or another model package pin, does), then run pulumi up again"
    )


# --- deployments already running -----------------------------------------------------------------


def running(aws: Aws, deployment_id: str, content: str, listed: dict[str, Any] | None = None) -> None:
    """ListDeployments (the request `listed`, by default the first page) finds one running deployment."""
    group = {"applicationName": "mlops-api", "deploymentGroupName": "mlops-api-live", "includeOnlyStatuses": ACTIVE}
    aws.codedeploy.add_response("list_deployments", {"deployments": [deployment_id]}, listed or group)
    aws.codedeploy.add_response(
        "get_deployment",
        {
            "deploymentInfo": {
                "deploymentId": deployment_id,
                "status": "InProgress",
                "revision": {"revisionType": "AppSpecContent", "appSpecContent": {"content": content}},
            }
        },
        {"deploymentId": deployment_id},
    )


def test_interrupted_release_is_resumed_not_started_twice(provider, aws):
    running(aws, "d-EARLIER", appspec_content(ReleaseSpec.from_props(PROPS), "3"))
    aws.deployment_status("Succeeded", deployment_id="d-EARLIER")
    result = provider.create(dict(PROPS))  # no get_alias, no create_deployment
    assert result.outs["release_method"] == "adopted"
    assert (result.outs["deployment_id"], result.outs["previous_version"]) == ("d-EARLIER", "3")


def test_running_deployments_are_listed_to_the_last_page(provider, aws):
    # CodeDeploy pages ListDeployments: the deployment to resume can be on the second page.
    group = {"applicationName": "mlops-api", "deploymentGroupName": "mlops-api-live", "includeOnlyStatuses": ACTIVE}
    aws.codedeploy.add_response("list_deployments", {"deployments": [], "nextToken": "page-2"}, group)
    running(aws, "d-EARLIER", appspec_content(ReleaseSpec.from_props(PROPS), "3"), {**group, "nextToken": "page-2"})
    aws.deployment_status("Succeeded", deployment_id="d-EARLIER")
    assert provider.create(dict(PROPS)).outs["deployment_id"] == "d-EARLIER"


def test_a_resumed_deployment_that_names_no_current_version_reports_none(provider, aws):
    document = json.loads(appspec_content(ReleaseSpec.from_props(PROPS), "3"))
    del document["Resources"][0]["LambdaFunction"]["Properties"]["CurrentVersion"]
    running(aws, "d-EARLIER", json.dumps(document))
    aws.deployment_status("Succeeded", deployment_id="d-EARLIER")
    assert provider.create(dict(PROPS)).outs["previous_version"] == ""


def test_a_running_deployment_of_another_kind_of_revision_fails_the_release(provider, aws):
    group = {"applicationName": "mlops-api", "deploymentGroupName": "mlops-api-live", "includeOnlyStatuses": ACTIVE}
    aws.codedeploy.add_response("list_deployments", {"deployments": ["d-S3"]}, group)
    revision = {"revisionType": "S3", "s3Location": {"bucket": "b", "key": "appspec.yaml", "bundleType": "YAML"}}
    info = {"deploymentId": "d-S3", "status": "Queued", "revision": revision}
    aws.codedeploy.add_response("get_deployment", {"deploymentInfo": info}, {"deploymentId": "d-S3"})
    with pytest.raises(ReleaseError) as raised:
        provider.create(dict(PROPS))
    assert str(raised.value) == (
        "CodeDeploy deployment d-S3 (Queued, a revision this provider did not write) is already running in "
        "mlops-api/mlops-api-live; wait for it or stop it, then run pulumi up again"
    )


def test_deployment_running_for_another_target_fails_the_release(provider, aws):
    running(aws, "d-OTHER", appspec_content(ReleaseSpec.from_props({**PROPS, "target_version": "5"}), "3"))
    with pytest.raises(ReleaseError) as raised:
        provider.create(dict(PROPS))
    assert str(raised.value) == (
        "CodeDeploy deployment d-OTHER (InProgress, predict-api:live -> version 5) is already running in "
        "mlops-api/mlops-api-live; wait for it or stop it, then run pulumi up again"
    )


def test_alias_mid_shift_without_a_deployment_fails_the_release(provider, aws):
    aws.no_running_deployment()
    aws.alias("3", weights={"4": 0.1})
    with pytest.raises(ReleaseError) as raised:
        provider.create(dict(PROPS))
    assert str(raised.value) == (
        "alias predict-api:live routes {'4': 0.1} to other versions but no CodeDeploy deployment is running in "
        "mlops-api/mlops-api-live: a traffic shift was interrupted outside CodeDeploy. Clear the alias routing "
        "configuration (aws lambda update-alias --routing-config '{}') and run pulumi up again."
    )


def test_missing_alias_fails_the_release_with_what_to_declare(provider, aws):
    aws.no_running_deployment()
    aws.lambda_.add_client_error("get_alias", service_error_code="ResourceNotFoundException", http_status_code=404)
    with pytest.raises(ReleaseError) as raised:
        provider.create(dict(PROPS))
    assert str(raised.value) == (
        "alias predict-api:live does not exist: declare the aws.lambda_.Alias (with "
        "ignore_changes=['function_version', 'routing_config']) and make this release depend on it"
    )


# --- diff, check, delete -----------------------------------------------------------------------


def test_diff_updates_on_a_new_version_and_never_replaces():
    provider = Wire(LambdaCanaryReleaseProvider())
    changed = provider.diff("id", dict(PROPS), {**PROPS, "target_version": "5"})
    assert changed.changes is True and changed.replaces == []
    unknown = provider.diff("id", dict(PROPS), {**PROPS, "target_version": pulumi.runtime.rpc.UNKNOWN})
    assert unknown.changes is True
    same = provider.diff("id", dict(PROPS), {**PROPS, "__provider": "a different serialization"})
    assert same.changes is False


def test_check_refuses_latest_and_missing_fields():
    provider = Wire(LambdaCanaryReleaseProvider())
    failures = provider.check({}, {**PROPS, "target_version": "$LATEST", "alias_name": "", "timeout_seconds": 5}).failures
    assert {(f.property, f.reason.split(" ")[0]) for f in failures} == {
        ("target_version", "target_version"),
        ("alias_name", "alias_name"),
        ("timeout_seconds", "timeout_seconds"),
    }
    (latest,) = [f.reason for f in failures if f.property == "target_version"]
    assert latest == (
        "target_version '$LATEST' must be a published version number (CodeDeploy cannot shift to $LATEST or to another alias)"
    )
    assert provider.check({}, {**PROPS, "target_version": pulumi.runtime.rpc.UNKNOWN}).failures == []
    assert provider.check({}, dict(PROPS)).failures == []
    # The traffic hooks are optional: a release without them shifts without checks.
    assert provider.check({}, {k: v for k, v in PROPS.items() if not k.endswith("_hook")}).failures == []


@pytest.mark.parametrize(
    "field, service",
    [
        ("function_name", "lambda UpdateAlias"),
        ("alias_name", "lambda UpdateAlias"),
        ("target_version", "lambda UpdateAlias"),
        ("application_name", "codedeploy CreateDeployment"),
        ("deployment_group_name", "codedeploy CreateDeployment"),
    ],
)
def test_check_names_the_input_behind_a_request_aws_would_refuse(field, service):
    (failure,) = Wire(LambdaCanaryReleaseProvider()).check({}, {**PROPS, field: 7}).failures
    assert failure.property == field and failure.reason.startswith(f"{field} would be refused by {service}: ")


def test_delete_touches_nothing():
    provider = Wire(LambdaCanaryReleaseProvider(client_factory=lambda *_: pytest.fail("delete must not call AWS")))
    assert provider.delete("predict-api:live", dict(PROPS)) is None


# --- serialization and registration ------------------------------------------------------------


def test_provider_serializes_by_reference_without_clients():
    blob = base64.b64decode(serialize_provider(LambdaCanaryReleaseProvider()))
    assert b"components.api.lambda_release" in blob and b"botocore" not in blob
    assert len(blob) < 1024
    assert isinstance(dill.loads(blob), LambdaCanaryReleaseProvider)


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return {}, []


@pytest.fixture
def event_loop_of_its_own() -> Iterator[None]:
    # Pulumi's mocks run on the thread's current event loop; a test that ran asyncio.run() before
    # this one leaves the main thread without one.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    asyncio.set_event_loop(None)
    loop.close()


def registered_provider(inputs: dict[str, Any]) -> LambdaCanaryReleaseProvider:
    """The provider a registration serialized (Pulumi marks it secret: the value of a secret wrapper)."""
    return dill.loads(base64.b64decode(inputs["__provider"]["value"]))


def test_resource_registers_typed_args_as_inputs(event_loop_of_its_own):
    from pulumi.runtime import sync_await
    from pulumi.runtime.stack import wait_for_rpcs

    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="sagemaker-mlops", stack="test", preview=False)
    common = dict(
        application_name="mlops-api",
        deployment_group_name="mlops-api-live",
        function_name="predict-api",
        alias_name="live",
        target_version=pulumi.Output.from_input("4"),
        region="us-east-1",
    )
    release = LambdaCanaryRelease("api-release", LambdaCanaryReleaseArgs(**common, before_allow_traffic_hook="CodeDeployHook_pre"))
    LambdaCanaryRelease("bare-release", LambdaCanaryReleaseArgs(**common))
    sync_await._sync_await(release.urn.future())
    sync_await._sync_await(wait_for_rpcs())
    registered, bare = mocks.resources
    assert registered.typ == "pulumi-python:dynamic:LambdaCanaryRelease"
    assert registered.inputs["target_version"] == "4"
    assert registered.inputs["before_allow_traffic_hook"] == "CodeDeployHook_pre"
    # The waits default to an hour, polled every 15 s.
    assert (registered.inputs["timeout_seconds"], registered.inputs["poll_interval_seconds"]) == (3600, 15)
    # The provider Pulumi will run is this module's (by reference: tests inject theirs the same way).
    assert type(registered_provider(registered.inputs)) is LambdaCanaryReleaseProvider
    # A hook not given is no input at all (stacks released without it hold none in their state).
    assert "after_allow_traffic_hook" not in registered.inputs
    assert "before_allow_traffic_hook" not in bare.inputs and "after_allow_traffic_hook" not in bare.inputs
    # Each output the class declares is readable from the resource (CanaryApi exports released_version).
    outputs = ("deployment_id", "previous_version", "released_version", "release_method")
    assert tuple(LambdaCanaryRelease.__annotations__) == outputs
    assert {name: sync_await._sync_await(getattr(release, name).future()) for name in outputs} == dict.fromkeys(outputs)


def test_the_provider_given_is_the_one_registered(event_loop_of_its_own):
    from pulumi.runtime import sync_await
    from pulumi.runtime.stack import wait_for_rpcs

    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="sagemaker-mlops", stack="test", preview=False)
    given = LambdaCanaryReleaseProvider(clock=time.monotonic)
    args = LambdaCanaryReleaseArgs("mlops-api", "mlops-api-live", "predict-api", "live", "4", "us-east-1")
    LambdaCanaryRelease("api-release", args, provider=given)
    sync_await._sync_await(wait_for_rpcs())
    (registered,) = mocks.resources
    assert registered_provider(registered.inputs)._clock is time.monotonic


def test_alias_ignore_changes_names_real_alias_properties():
    for prop in ALIAS_IGNORE_CHANGES:
        assert isinstance(getattr(aws_sdk.lambda_.AliasArgs, prop), property), prop
