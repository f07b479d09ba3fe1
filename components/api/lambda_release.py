"""LambdaCanaryRelease: move a Lambda alias to a new version through a CodeDeploy deployment.

pulumi-aws has no resource that runs a CodeDeploy deployment, so this dynamic provider does it with
boto3. Create and update converge the alias on `target_version`:

* alias already on the target, with no weighted routing: nothing to do;
* alias on `$LATEST` (nothing released yet): the alias is pointed at the target directly, because
  an AppSpec's CurrentVersion cannot be `$LATEST`;
* otherwise: a CodeDeploy deployment with an inline AppSpec (CurrentVersion -> TargetVersion and the
  BeforeAllowTraffic/AfterAllowTraffic hooks) shifts the traffic with the deployment group's
  configuration (canary, linear or all-at-once) and alarms; the provider waits for it and fails the
  `pulumi up` with CodeDeploy's reason when it fails, is stopped or rolls back. When it does not
  finish within `timeout_seconds` it is stopped with rollback and the update fails.

A deployment already running for the same target (an earlier `pulumi up` that was interrupted) is
waited for instead of started twice; one running for another target fails the update with its id.
The release's inputs, the AppSpec and CodeDeploy's failure account are in
components/api/release_spec.py.

The alias itself is an ordinary `aws.lambda_.Alias`, created once with
`ignore_changes=ALIAS_IGNORE_CHANGES`: if Pulumi moved it, CodeDeploy would find nothing to shift.

Delete is a no-op: the alias and function are deleted by their own resources, and "un-releasing"
a version has no meaning (going back is a release of the older version, through CodeDeploy).

Serialization: Pulumi pickles the provider object with dill into the state. The class is pickled by
reference to this module, so the provider holds no client and imports boto3 only inside its
methods; tests inject Stubber-backed clients, a clock and a sleep through the constructor. Renaming
this module orphans the provider stored in existing stacks' state.

Credentials and region: the provider runs in Pulumi's dynamic-provider process with the standard
boto3 credential chain (the CI role's environment), not the pulumi-aws provider's configuration;
hence the explicit `region`.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any, Optional

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    UpdateResult,
)

from components.api.release_spec import (
    DEFAULT_POLL_INTERVAL_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    ReleaseError,
    ReleaseOutcome,
    ReleaseSpec,
    appspec_content,
    appspec_properties,
    failure_message,
)
from components.shared.release_provider import PollingReleaseProvider, input_failures, is_unknown, request_failures

ALIAS_IGNORE_CHANGES = ["function_version", "routing_config"]
ACTIVE_STATUSES = ("Created", "Queued", "InProgress", "Baking", "Ready")
FAILED_STATUSES = ("Failed", "Stopped")
# BatchGetDeployments takes at most this many ids a call.
BATCH_SIZE = 25
LATEST = "$LATEST"

INPUT_FIELDS = (
    "application_name",
    "deployment_group_name",
    "function_name",
    "alias_name",
    "target_version",
    "region",
    "before_allow_traffic_hook",
    "after_allow_traffic_hook",
    "timeout_seconds",
    "poll_interval_seconds",
)
REQUIRED_FIELDS = INPUT_FIELDS[:6]
OUTPUT_FIELDS = ("deployment_id", "previous_version", "released_version", "release_method")


class LambdaCanaryReleaseProvider(PollingReleaseProvider):
    # -- Pulumi's calls -----------------------------------------------------------------------

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = input_failures(news, REQUIRED_FIELDS)
        target = news.get("target_version")
        if isinstance(target, str) and target and not is_unknown(target) and not target.isdigit():
            failures.append(
                CheckFailure(
                    "target_version",
                    f"target_version {target!r} must be a published version number "
                    "(CodeDeploy cannot shift to $LATEST or to another alias)",
                )
            )
        # The requests this release will make, validated by botocore now rather than mid-release.
        alias = {"FunctionName": news.get("function_name"), "Name": news.get("alias_name"), "FunctionVersion": target}
        failures += request_failures(
            "lambda", "UpdateAlias", alias, {"FunctionName": "function_name", "Name": "alias_name", "FunctionVersion": "target_version"}
        )
        group = {"applicationName": news.get("application_name"), "deploymentGroupName": news.get("deployment_group_name")}
        failures += request_failures(
            "codedeploy",
            "CreateDeployment",
            group,
            {"applicationName": "application_name", "deploymentGroupName": "deployment_group_name"},
        )
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # Nothing is ever replaced: every change is an update that converges the alias again.
        changed = [field for field in INPUT_FIELDS if olds.get(field) != news.get(field)]
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        spec = ReleaseSpec.from_props(props)
        outcome = self.release(spec)
        return CreateResult(id_=spec.label, outs=self._outs(props, outcome))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        outcome = self.release(ReleaseSpec.from_props(news))
        return UpdateResult(outs=self._outs(news, outcome))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None  # see the module docstring: nothing of ours to undo

    # -- The release --------------------------------------------------------------------------

    def release(self, spec: ReleaseSpec) -> ReleaseOutcome:
        codedeploy = self._client("codedeploy", spec.region)
        lambda_client = self._client("lambda", spec.region)

        running = self._running_deployment(codedeploy, spec)
        if running is not None:
            deployment_id, current = running
            self._wait(codedeploy, deployment_id, spec, current)
            return ReleaseOutcome(deployment_id, current, spec.target_version, "adopted")

        current, weights = self._alias_state(lambda_client, spec)
        if weights:
            raise ReleaseError(
                f"alias {spec.label} routes {weights} to other versions but no CodeDeploy deployment "
                f"is running in {spec.application_name}/{spec.deployment_group_name}: a traffic shift "
                "was interrupted outside CodeDeploy. Clear the alias routing configuration "
                "(aws lambda update-alias --routing-config '{}') and run pulumi up again."
            )
        if current == spec.target_version:
            return ReleaseOutcome("", current, spec.target_version, "unchanged")
        if current == LATEST:
            lambda_client.update_alias(
                FunctionName=spec.function_name,
                Name=spec.alias_name,
                FunctionVersion=spec.target_version,
            )
            return ReleaseOutcome("", current, spec.target_version, "direct")

        self._refuse_a_rolled_back_target(codedeploy, spec, current)
        content = appspec_content(spec, current)
        deployment_id = codedeploy.create_deployment(
            applicationName=spec.application_name,
            deploymentGroupName=spec.deployment_group_name,
            revision={
                "revisionType": "AppSpecContent",
                "appSpecContent": {
                    "content": content,
                    "sha256": hashlib.sha256(content.encode("utf-8")).hexdigest(),
                },
            },
            description=f"pulumi: {spec.label} version {current} -> {spec.target_version}",
        )["deploymentId"]
        self._wait(codedeploy, deployment_id, spec, current)
        return ReleaseOutcome(deployment_id, current, spec.target_version, "codedeploy")

    def _alias_state(self, lambda_client: Any, spec: ReleaseSpec) -> tuple[str, dict[str, float]]:
        from botocore.exceptions import ClientError

        try:
            alias = lambda_client.get_alias(FunctionName=spec.function_name, Name=spec.alias_name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                raise ReleaseError(
                    f"alias {spec.label} does not exist: declare the aws.lambda_.Alias (with "
                    f"ignore_changes={ALIAS_IGNORE_CHANGES}) and make this release depend on it"
                ) from exc
            raise
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        return str(alias["FunctionVersion"]), dict(weights)

    def _running_deployment(self, codedeploy: Any, spec: ReleaseSpec) -> Optional[tuple[str, str]]:
        """(deployment id, its CurrentVersion) of a running deployment for the same target, or None.

        A running deployment for anything else makes the release fail: CodeDeploy runs one
        deployment per group at a time, and shifting underneath it would fight its rollback.
        """
        for deployment_id in self._deployment_ids(codedeploy, spec, ACTIVE_STATUSES):
            info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
            props = appspec_properties(info) or {}
            if (
                str(props.get("Name")) == spec.function_name
                and str(props.get("Alias")) == spec.alias_name
                and str(props.get("TargetVersion")) == spec.target_version
            ):
                return deployment_id, str(props.get("CurrentVersion", ""))
            shifting = (
                f"{props.get('Name')}:{props.get('Alias')} -> version {props.get('TargetVersion')}"
                if props
                else "a revision this provider did not write"
            )
            raise ReleaseError(
                f"CodeDeploy deployment {deployment_id} ({info.get('status')}, {shifting}) is already "
                f"running in {spec.application_name}/{spec.deployment_group_name}; wait for it or "
                "stop it, then run pulumi up again"
            )
        return None

    def _refuse_a_rolled_back_target(self, codedeploy: Any, spec: ReleaseSpec, current: str) -> None:
        """A version CodeDeploy already failed or rolled back is not shifted to again as it is:
        any change of code or configuration (a new pin included) publishes a new version."""
        ids = self._deployment_ids(codedeploy, spec, FAILED_STATUSES)
        for start in range(0, len(ids), BATCH_SIZE):
            found = codedeploy.batch_get_deployments(deploymentIds=ids[start : start + BATCH_SIZE]).get("deploymentsInfo", [])
            for info in found:
                props = appspec_properties(info) or {}
                if (
                    str(props.get("Name")) == spec.function_name
                    and str(props.get("Alias")) == spec.alias_name
                    and str(props.get("TargetVersion")) == spec.target_version
                ):
                    raise ReleaseError(
                        f"version {spec.target_version} of {spec.label} was not released again: "
                        f"{failure_message(info, spec, str(props.get('CurrentVersion', current)))}. The alias stays on version "
                        f"{current}. Fix the cause and publish a new version (any change of the code or the function's "
                        "configuration, or another model package pin, does), then run pulumi up again"
                    )

    @staticmethod
    def _deployment_ids(codedeploy: Any, spec: ReleaseSpec, statuses: tuple[str, ...]) -> list[str]:
        ids: list[str] = []
        request: dict[str, Any] = {
            "applicationName": spec.application_name,
            "deploymentGroupName": spec.deployment_group_name,
            "includeOnlyStatuses": list(statuses),
        }
        while True:
            page = codedeploy.list_deployments(**request)
            ids.extend(page.get("deployments", []))
            if not page.get("nextToken"):
                return ids
            request["nextToken"] = page["nextToken"]

    def _wait(self, codedeploy: Any, deployment_id: str, spec: ReleaseSpec, current: str) -> None:
        from botocore.exceptions import ClientError

        sleep = self._sleep or time.sleep
        deadline = self._now() + spec.timeout_seconds
        while True:
            info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
            status = info.get("status")
            if status == "Succeeded":
                return
            if status in FAILED_STATUSES:
                raise ReleaseError(failure_message(info, spec, current))
            if self._now() >= deadline:
                try:
                    stopped = codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
                    # StopDeployment may answer without a statusMessage: then the status alone.
                    said = ": ".join(filter(None, (stopped.get("status"), stopped.get("statusMessage"))))
                    stop_note = f"stopped it with rollback ({said})"
                except ClientError as exc:
                    error = exc.response.get("Error", {})
                    stop_note = (
                        f"could not stop it ({error.get('Code')}: {error.get('Message')}); stop it with "
                        f"aws deploy stop-deployment --deployment-id {deployment_id} --auto-rollback-enabled"
                    )
                raise ReleaseError(
                    f"CodeDeploy deployment {deployment_id} of {spec.label} (version {current} -> "
                    f"{spec.target_version}) was still {status} after {spec.timeout_seconds} s; {stop_note}"
                )
            sleep(spec.poll_interval_seconds)

    @staticmethod
    def _outs(props: dict[str, Any], outcome: ReleaseOutcome) -> dict[str, Any]:
        outs = {field: props.get(field) for field in INPUT_FIELDS}
        outs.update(
            deployment_id=outcome.deployment_id,
            previous_version=outcome.previous_version,
            released_version=outcome.released_version,
            release_method=outcome.release_method,
        )
        return outs


@dataclass
class LambdaCanaryReleaseArgs:
    application_name: pulumi.Input[str]
    deployment_group_name: pulumi.Input[str]
    function_name: pulumi.Input[str]
    alias_name: pulumi.Input[str]
    # A published version number (aws.lambda_.Function(publish=True).version).
    target_version: pulumi.Input[str]
    region: pulumi.Input[str]
    # Hook function names for the AppSpec's BeforeAllowTraffic / AfterAllowTraffic.
    before_allow_traffic_hook: Optional[pulumi.Input[str]] = None
    after_allow_traffic_hook: Optional[pulumi.Input[str]] = None
    # Longer than the deployment config takes (LambdaLinear10PercentEvery10Minutes: 100 min).
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS
    poll_interval_seconds: int = DEFAULT_POLL_INTERVAL_SECONDS


class LambdaCanaryRelease(pulumi.dynamic.Resource, name="LambdaCanaryRelease"):
    """Releases `target_version` to the alias through CodeDeploy; see the module docstring."""

    deployment_id: pulumi.Output[str]
    previous_version: pulumi.Output[str]
    released_version: pulumi.Output[str]
    release_method: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        args: LambdaCanaryReleaseArgs,
        opts: Optional[pulumi.ResourceOptions] = None,
        provider: Optional[LambdaCanaryReleaseProvider] = None,
    ) -> None:
        props: dict[str, Any] = {field: getattr(args, field) for field in INPUT_FIELDS}
        props.update(dict.fromkeys(OUTPUT_FIELDS))
        super().__init__(provider or LambdaCanaryReleaseProvider(), resource_name, props, opts)
