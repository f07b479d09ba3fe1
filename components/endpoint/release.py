"""EndpointRelease: move a SageMaker endpoint to a new endpoint configuration and tell the truth.

pulumi-aws's `aws.sagemaker.Endpoint` cannot pass `RetainAllVariantProperties` (every promotion
would reset an autoscaled variant to the configuration's initial instance count), and it reports an
update as done as soon as the endpoint is `InService` again, which a blue/green deployment that
SageMaker rolled back also reaches, on the *old* configuration (terraform-provider-aws #46663,
#48997, #39099). This dynamic provider does the update with boto3 instead:

* the `aws.sagemaker.Endpoint` resource creates the endpoint once and then ignores
  `endpoint_config_name` and `deployment_config` (`ENDPOINT_IGNORE_CHANGES`), the way the Lambda
  alias is left to CodeDeploy;
* create and update converge the endpoint on `endpoint_config_name`: nothing to do when it is
  already there; otherwise `UpdateEndpoint` with the blue/green `DeploymentConfig` (canary and
  auto-rollback alarms) and `RetainAllVariantProperties` (so the instance count autoscaling chose
  survives), then a wait for the end of the deployment (`timeout_seconds`);
* afterwards the endpoint's `EndpointConfigName` must be the new one. If it is not, SageMaker rolled
  the update back: the update fails with "rolled back: alarm X" (the rollback alarms that are in
  ALARM), DescribeEndpoint's `FailureReason`, and the configuration the endpoint still serves. A
  failed dynamic update leaves the resource's recorded state as it was, so Pulumi's state keeps
  naming the configuration that is really live;
* an instance type change of a variant that Application Auto Scaling manages: SageMaker refuses
  UpdateEndpoint while the variant is a scalable target (AWS: "Update endpoints that use auto
  scaling"), so its scaling policies and target are read, removed, and registered again exactly as
  they were once the update is over, whether it succeeded or not
  (components/endpoint/release_scaling.py);
* only after a confirmed update are the superseded endpoint configuration and the models that only
  it used deleted (`delete_superseded`). The `aws.sagemaker.Model` and `EndpointConfiguration`
  resources are `retain_on_delete`, so Pulumi itself never deletes something a rolled-back endpoint
  may still run on.

A deployment already running towards the same configuration (an interrupted `pulumi up`) is waited
for, not started twice; one towards another configuration fails the update with what to do.

Serialization, credentials and region: as for `LambdaCanaryRelease` (the provider is pickled by
reference to this module into the state and holds no client; boto3's credential chain; explicit
`region`). Renaming this module orphans the provider stored in existing stacks' state.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Optional

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, UpdateResult

from components.endpoint.release_scaling import SuspendedScaling, register_again, suspend_scaling
from components.shared.release_provider import PollingReleaseProvider, error_code, input_failures, is_unknown

ENDPOINT_IGNORE_CHANGES = ["endpoint_config_name", "deployment_config"]
BUSY_STATUSES = ("Creating", "Updating", "SystemUpdating", "RollingBack")
DEFAULT_TIMEOUT_SECONDS = 3600
DEFAULT_POLL_INTERVAL_SECONDS = 30

INPUT_FIELDS = (
    "endpoint_name",
    "endpoint_config_name",
    "region",
    "deployment_config",
    "retain_variant_properties",
    "delete_superseded",
    "timeout_seconds",
    "poll_interval_seconds",
)
REQUIRED_FIELDS = INPUT_FIELDS[:3]
# A different endpoint or region is a different release, not an update of this one.
REPLACE_FIELDS = ("endpoint_name", "region")
OUTPUT_FIELDS = ("previous_config_name", "released_config_name", "release_method", "instance_counts", "deleted")


class ReleaseError(Exception):
    """The endpoint does not serve the requested configuration; the message says why and what to do."""


@dataclass(frozen=True)
class ReleaseSpec:
    endpoint_name: str
    endpoint_config_name: str
    region: str
    # SageMaker's DeploymentConfig (API shape), or None: SageMaker's default update (serverless).
    deployment_config: Optional[dict[str, Any]] = None
    retain_variant_properties: bool = False
    delete_superseded: bool = True
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS
    poll_interval_seconds: int = DEFAULT_POLL_INTERVAL_SECONDS

    @classmethod
    def from_props(cls, props: dict[str, Any]) -> ReleaseSpec:
        return cls(
            endpoint_name=str(props["endpoint_name"]),
            endpoint_config_name=str(props["endpoint_config_name"]),
            region=str(props["region"]),
            deployment_config=props.get("deployment_config") or None,
            retain_variant_properties=bool(props.get("retain_variant_properties")),
            delete_superseded=props.get("delete_superseded") is not False,
            timeout_seconds=int(props.get("timeout_seconds") or DEFAULT_TIMEOUT_SECONDS),
            poll_interval_seconds=int(props.get("poll_interval_seconds") or DEFAULT_POLL_INTERVAL_SECONDS),
        )

    @property
    def rollback_alarms(self) -> list[str]:
        alarms = ((self.deployment_config or {}).get("AutoRollbackConfiguration") or {}).get("Alarms") or []
        return [str(a["AlarmName"]) for a in alarms if a.get("AlarmName")]


@dataclass(frozen=True)
class ReleaseOutcome:
    previous_config_name: str
    released_config_name: str
    # unchanged | updated | adopted (waited for a deployment already running)
    release_method: str
    instance_counts: dict[str, int] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)


class EndpointReleaseProvider(PollingReleaseProvider):
    # -- Pulumi's calls -----------------------------------------------------------------------

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = input_failures(news, REQUIRED_FIELDS)
        deployment = news.get("deployment_config")
        if deployment and not is_unknown(deployment) and "BlueGreenUpdatePolicy" in deployment:
            timeout = news.get("timeout_seconds")
            limit = deployment["BlueGreenUpdatePolicy"].get("MaximumExecutionTimeoutInSeconds")
            if isinstance(timeout, (int, float)) and isinstance(limit, (int, float)) and timeout <= limit:
                failures.append(
                    CheckFailure(
                        "timeout_seconds",
                        f"timeout_seconds ({timeout}) must exceed the blue/green MaximumExecutionTimeoutInSeconds ({limit}), "
                        "or the release gives up while SageMaker is still deploying",
                    )
                )
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [name for name in INPUT_FIELDS if olds.get(name) != news.get(name)]
        replaces = [name for name in REPLACE_FIELDS if name in changed]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        spec = ReleaseSpec.from_props(props)
        return CreateResult(id_=spec.endpoint_name, outs=self._outs(props, self.release(spec)))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._outs(news, self.release(ReleaseSpec.from_props(news))))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        # The endpoint is deleted by its own resource; the configuration it serves must outlive it.
        return None

    # -- The release --------------------------------------------------------------------------

    def release(self, spec: ReleaseSpec) -> ReleaseOutcome:
        sagemaker = self._client("sagemaker", spec.region)
        endpoint = self._describe(sagemaker, spec)
        status = endpoint["EndpointStatus"]
        current = endpoint["EndpointConfigName"]

        if status in BUSY_STATUSES:
            pending = (endpoint.get("PendingDeploymentSummary") or {}).get("EndpointConfigName")
            if pending != spec.endpoint_config_name:
                raise ReleaseError(
                    f"endpoint {spec.endpoint_name} is {status} (deploying {pending or 'an update this release did not start'}) "
                    f"and cannot be moved to {spec.endpoint_config_name} now; wait until DescribeEndpoint says InService, "
                    "then run pulumi up again"
                )
            final = self._wait(sagemaker, spec)
            return self._confirm(sagemaker, spec, current, final, "adopted")
        if status != "InService":
            raise ReleaseError(
                f"endpoint {spec.endpoint_name} is {status}: {endpoint.get('FailureReason') or 'no reason given'}. "
                "SageMaker cannot update an endpoint in this state; fix or delete it, then run pulumi up again"
            )
        if current == spec.endpoint_config_name:
            return ReleaseOutcome(current, current, "unchanged", self._instance_counts(endpoint))

        scaling = self._suspend_scaling_for_instance_type_change(sagemaker, spec, current)
        try:
            request: dict[str, Any] = {
                "EndpointName": spec.endpoint_name,
                "EndpointConfigName": spec.endpoint_config_name,
                "RetainAllVariantProperties": spec.retain_variant_properties,
            }
            if spec.deployment_config:
                request["DeploymentConfig"] = spec.deployment_config
            sagemaker.update_endpoint(**request)
            final = self._wait(sagemaker, spec)
        finally:
            self._restore_scaling(spec, scaling)
        return self._confirm(sagemaker, spec, current, final, "updated")

    @staticmethod
    def _describe(sagemaker: Any, spec: ReleaseSpec) -> dict[str, Any]:
        try:
            return sagemaker.describe_endpoint(EndpointName=spec.endpoint_name)
        except Exception as exc:
            if error_code(exc) == "ValidationException":
                raise ReleaseError(
                    f"endpoint {spec.endpoint_name} does not exist: declare the aws.sagemaker.Endpoint (with "
                    f"ignore_changes={ENDPOINT_IGNORE_CHANGES}) and make this release depend on it"
                ) from exc
            raise

    def _wait(self, sagemaker: Any, spec: ReleaseSpec) -> dict[str, Any]:
        sleep = self._sleep or time.sleep
        deadline = self._now() + spec.timeout_seconds
        while True:
            endpoint = sagemaker.describe_endpoint(EndpointName=spec.endpoint_name)
            status = endpoint["EndpointStatus"]
            if status not in BUSY_STATUSES:
                return endpoint
            if self._now() >= deadline:
                # SageMaker has no call that stops an endpoint update; its own MaximumExecutionTimeout does.
                raise ReleaseError(
                    f"endpoint {spec.endpoint_name} was still {status} after {spec.timeout_seconds} s of deploying "
                    f"{spec.endpoint_config_name}; SageMaker carries on (and rolls back on its own timeout or alarms). "
                    "Pulumi still records the previous configuration: run pulumi up again to wait for the outcome"
                )
            sleep(spec.poll_interval_seconds)

    def _confirm(self, sagemaker: Any, spec: ReleaseSpec, previous: str, endpoint: dict[str, Any], method: str) -> ReleaseOutcome:
        serving = endpoint.get("EndpointConfigName")
        if endpoint["EndpointStatus"] == "InService" and serving == spec.endpoint_config_name:
            deleted = self._delete_superseded(sagemaker, spec, previous) if spec.delete_superseded else []
            return ReleaseOutcome(previous, serving, method, self._instance_counts(endpoint), deleted)
        reasons = []
        alarms = self._alarms_in_alarm(spec, endpoint)
        if alarms:
            reasons.append(f"rolled back: alarm {', '.join(alarms)}")
        elif endpoint["EndpointStatus"] != "InService":
            reasons.append(f"the update ended {endpoint['EndpointStatus']}")
        elif serving != spec.endpoint_config_name:
            reasons.append("rolled back")
        if endpoint.get("FailureReason"):
            reasons.append(str(endpoint["FailureReason"]).strip())
        raise ReleaseError(
            f"endpoint {spec.endpoint_name} did not take {spec.endpoint_config_name}: {'; '.join(reasons) or endpoint['EndpointStatus']}. "
            f"It is {endpoint['EndpointStatus']} on {serving}, which Pulumi keeps recording as live; "
            "the configuration and model of the rejected release are kept for diagnosis"
        )

    def _alarms_in_alarm(self, spec: ReleaseSpec, endpoint: dict[str, Any]) -> list[str]:
        """The rollback alarms in ALARM: those of the deployment SageMaker ran, else those requested."""
        last = ((endpoint.get("LastDeploymentConfig") or {}).get("AutoRollbackConfiguration") or {}).get("Alarms") or []
        names = [str(a["AlarmName"]) for a in last if a.get("AlarmName")] or spec.rollback_alarms
        if not names:
            return []
        cloudwatch = self._client("cloudwatch", spec.region)
        found = cloudwatch.describe_alarms(AlarmNames=names, AlarmTypes=["MetricAlarm", "CompositeAlarm"])
        alarms = [*found.get("MetricAlarms", []), *found.get("CompositeAlarms", [])]
        return [str(a["AlarmName"]) for a in alarms if a.get("StateValue") == "ALARM"]

    @staticmethod
    def _instance_counts(endpoint: dict[str, Any]) -> dict[str, int]:
        return {
            str(v["VariantName"]): int(v["CurrentInstanceCount"])
            for v in endpoint.get("ProductionVariants") or []
            if v.get("CurrentInstanceCount") is not None
        }

    @staticmethod
    def _variants(sagemaker: Any, config_name: str) -> dict[str, dict[str, Any]]:
        config = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
        return {str(v["VariantName"]): v for v in config.get("ProductionVariants") or []}

    def _delete_superseded(self, sagemaker: Any, spec: ReleaseSpec, previous: str) -> list[str]:
        """The configuration the endpoint has left for good, and the models only it used."""
        if previous == spec.endpoint_config_name:
            return []
        try:
            old = self._variants(sagemaker, previous)
        except Exception as exc:
            if error_code(exc) == "ValidationException":
                return []  # already gone
            raise
        kept = {str(v.get("ModelName")) for v in self._variants(sagemaker, spec.endpoint_config_name).values()}
        deleted = []
        sagemaker.delete_endpoint_config(EndpointConfigName=previous)
        deleted.append(f"endpoint-config/{previous}")
        for model in sorted({str(v.get("ModelName")) for v in old.values() if v.get("ModelName")} - kept):
            try:
                sagemaker.delete_model(ModelName=model)
                deleted.append(f"model/{model}")
            except Exception as exc:
                if error_code(exc) != "ValidationException":
                    raise
        return deleted

    # -- autoscaling around an instance type change --------------------------------------------

    def _suspend_scaling_for_instance_type_change(self, sagemaker: Any, spec: ReleaseSpec, current: str) -> list[SuspendedScaling]:
        old, new = self._variants(sagemaker, current), self._variants(sagemaker, spec.endpoint_config_name)
        changed = [name for name, variant in new.items() if name in old and variant.get("InstanceType") != old[name].get("InstanceType")]
        if not changed:
            return []
        return suspend_scaling(self._client("application-autoscaling", spec.region), spec.endpoint_name, changed)

    def _restore_scaling(self, spec: ReleaseSpec, suspended: list[SuspendedScaling]) -> None:
        if not suspended:
            return
        scaling_client = self._client("application-autoscaling", spec.region)
        for item in suspended:
            try:
                register_again(scaling_client, item)
            except Exception as exc:
                raise ReleaseError(
                    f"autoscaling of {item.target['ResourceId']} was removed for the instance type change and could not be "
                    f"restored ({error_code(exc) or type(exc).__name__}: {exc}); the endpoint keeps its current instance count. "
                    "Run pulumi refresh, then pulumi up: it registers the aws.appautoscaling Target and Policy again"
                ) from exc

    @staticmethod
    def _outs(props: dict[str, Any], outcome: ReleaseOutcome) -> dict[str, Any]:
        outs = {name: props.get(name) for name in INPUT_FIELDS}
        outs.update(
            previous_config_name=outcome.previous_config_name,
            released_config_name=outcome.released_config_name,
            release_method=outcome.release_method,
            instance_counts=outcome.instance_counts,
            deleted=outcome.deleted,
        )
        return outs


@dataclass
class EndpointReleaseArgs:
    endpoint_name: pulumi.Input[str]
    endpoint_config_name: pulumi.Input[str]
    region: pulumi.Input[str]
    # SageMaker's DeploymentConfig in API shape (PascalCase), None for SageMaker's default update.
    deployment_config: Optional[pulumi.Input[dict[str, Any]]] = None
    # True where Application Auto Scaling owns the instance count.
    retain_variant_properties: bool = False
    delete_superseded: bool = True
    # Longer than the blue/green MaximumExecutionTimeoutInSeconds (check() enforces it).
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS
    poll_interval_seconds: int = DEFAULT_POLL_INTERVAL_SECONDS


class EndpointRelease(pulumi.dynamic.Resource, name="EndpointRelease"):
    """Moves the endpoint to `endpoint_config_name` and fails unless it stays there; see the module docstring."""

    endpoint_name: pulumi.Output[str]
    previous_config_name: pulumi.Output[str]
    released_config_name: pulumi.Output[str]
    release_method: pulumi.Output[str]
    instance_counts: pulumi.Output[dict[str, int]]
    deleted: pulumi.Output[list[str]]

    def __init__(
        self,
        resource_name: str,
        args: EndpointReleaseArgs,
        opts: Optional[pulumi.ResourceOptions] = None,
        provider: Optional[EndpointReleaseProvider] = None,
    ) -> None:
        props: dict[str, Any] = {name: getattr(args, name) for name in INPUT_FIELDS}
        props.update(dict.fromkeys(OUTPUT_FIELDS))
        super().__init__(provider or EndpointReleaseProvider(), resource_name, props, opts)
