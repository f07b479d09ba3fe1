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

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, Optional

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, UpdateResult

from components.endpoint.release_scaling import SuspendedScaling, register_again, suspend_scaling
from components.shared.release_provider import (
    PollingReleaseProvider,
    error_code,
    input_failures,
    is_unknown,
    number,
    plain_numbers,
    request_failures,
)

ENDPOINT_IGNORE_CHANGES = ["endpoint_config_name", "deployment_config"]
BUSY_STATUSES = ("Creating", "Updating", "SystemUpdating", "RollingBack")
DEFAULT_TIMEOUT_SECONDS = 3600
DEFAULT_POLL_INTERVAL_SECONDS = 30
# SageMaker's upper bound for BlueGreenUpdatePolicy.MaximumExecutionTimeoutInSeconds (600-14400 s);
# a release waits RELEASE_TIMEOUT_MARGIN_SECONDS longer than the deployment's own limit. How long
# the program's releases can really take is `longest_release_seconds` (model_endpoint.py).
MAX_EXECUTION_TIMEOUT_SECONDS = 14400
RELEASE_TIMEOUT_MARGIN_SECONDS = 900
# Tags on the endpoint configuration of a release SageMaker rolled back: a retry of the very same
# release (same configuration and deployment inputs) is refused until the pin or inputs change.
ROLLED_BACK_TAG = "sagemaker-mlops:release-rolled-back"
ROLLBACK_REASON_TAG = "sagemaker-mlops:release-rollback-reason"

INPUT_FIELDS = (
    "endpoint_name",
    "endpoint_config_name",
    "region",
    "deployment_config",
    "retain_variant_properties",
    "delete_superseded",
    "timeout_seconds",
    "poll_interval_seconds",
    "model_package_arn",
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
    # The pinned model package the configuration serves: named when a retry is refused.
    model_package_arn: Optional[str] = None

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
            model_package_arn=props.get("model_package_arn") or None,
        )

    @property
    def fingerprint(self) -> str:
        """What makes a retry the same release: the configuration and how it is deployed."""
        same = plain_numbers({"config": self.endpoint_config_name, "deployment": self.deployment_config})
        return hashlib.sha256(json.dumps(same, sort_keys=True).encode()).hexdigest()[:16]

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
        # The request this release will make, validated by botocore now rather than mid-deploy.
        request = {
            "EndpointName": news.get("endpoint_name") or None,
            "EndpointConfigName": news.get("endpoint_config_name") or None,
            "DeploymentConfig": news.get("deployment_config") or None,
        }
        fields = {"EndpointName": "endpoint_name", "EndpointConfigName": "endpoint_config_name", "DeploymentConfig": "deployment_config"}
        failures += request_failures("sagemaker", "UpdateEndpoint", request, fields)
        deployment = news.get("deployment_config")
        if deployment and not is_unknown(deployment) and "BlueGreenUpdatePolicy" in deployment:
            timeout = news.get("timeout_seconds")
            limit = deployment["BlueGreenUpdatePolicy"].get("MaximumExecutionTimeoutInSeconds")
            if isinstance(timeout, (int, float)) and isinstance(limit, (int, float)) and timeout <= limit:
                failures.append(
                    CheckFailure(
                        "timeout_seconds",
                        f"timeout_seconds ({number(timeout)}) must exceed the blue/green MaximumExecutionTimeoutInSeconds "
                        f"({number(limit)}), "
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

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # The configuration Pulumi's state records as live: an update that finished after an
        # interrupted `pulumi up` left it behind, and it is superseded once the endpoint is confirmed
        # on the new one.
        recorded = olds.get("released_config_name") or olds.get("endpoint_config_name")
        spec = ReleaseSpec.from_props(news)
        return UpdateResult(outs=self._outs(news, self.release(spec, recorded=str(recorded) if recorded else None)))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        # The endpoint is deleted by its own resource; the configuration it serves must outlive it.
        return None

    # -- The release --------------------------------------------------------------------------

    def release(self, spec: ReleaseSpec, recorded: Optional[str] = None) -> ReleaseOutcome:
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
            if recorded and recorded != current:
                # An update of an earlier run finished after that run was interrupted: adopt it.
                deleted = self._delete_superseded(sagemaker, spec, recorded) if spec.delete_superseded else []
                return ReleaseOutcome(recorded, current, "adopted", self._instance_counts(endpoint), deleted)
            return ReleaseOutcome(current, current, "unchanged", self._instance_counts(endpoint))

        old_config = self._config(sagemaker, current)
        new_config = self._config(sagemaker, spec.endpoint_config_name)
        self._refuse_a_rolled_back_retry(sagemaker, spec, new_config)
        self._refuse_an_unsplittable_canary(spec, endpoint, new_config)
        scaling = self._suspend_scaling_for_instance_type_change(spec, old_config, new_config)
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
        return self._confirm(sagemaker, spec, current, final, "updated", new_config)

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

    def _confirm(
        self,
        sagemaker: Any,
        spec: ReleaseSpec,
        previous: str,
        endpoint: dict[str, Any],
        method: str,
        new_config: Optional[dict[str, Any]] = None,
    ) -> ReleaseOutcome:
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
        if endpoint["EndpointStatus"] == "InService" and serving != spec.endpoint_config_name:
            try:
                record_rollback(sagemaker, spec, new_config or self._config(sagemaker, spec.endpoint_config_name), list(reasons))
            except Exception as exc:  # the rollback is the news; a missing record only allows a retry
                reasons.append(f"(the rollback could not be recorded on the configuration: {error_code(exc) or type(exc).__name__})")
        raise ReleaseError(
            f"endpoint {spec.endpoint_name} did not take {spec.endpoint_config_name}: {'; '.join(reasons) or endpoint['EndpointStatus']}. "
            f"It is {endpoint['EndpointStatus']} on {serving}, which Pulumi keeps recording as live; "
            "the configuration and model of the rejected release are kept for diagnosis"
        )

    def _alarms_in_alarm(self, spec: ReleaseSpec, endpoint: dict[str, Any]) -> list[str]:
        """The rollback alarms in ALARM: those of the deployment SageMaker ran, else those requested."""
        names = deployed_rollback_alarms(endpoint) or spec.rollback_alarms
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
    def _config(sagemaker: Any, config_name: str) -> dict[str, Any]:
        return sagemaker.describe_endpoint_config(EndpointConfigName=config_name)

    @classmethod
    def _variants(cls, sagemaker: Any, config_name: str) -> dict[str, dict[str, Any]]:
        return variants(cls._config(sagemaker, config_name))

    # -- refusals before anything moves ---------------------------------------------------------

    def _refuse_a_rolled_back_retry(self, sagemaker: Any, spec: ReleaseSpec, new_config: dict[str, Any]) -> None:
        tags = {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=new_config["EndpointConfigArn"]).get("Tags", [])}
        if tags.get(ROLLED_BACK_TAG) != spec.fingerprint:
            return
        pin = spec.model_package_arn or ", ".join(sorted({str(v.get("ModelName")) for v in variants(new_config).values()}))
        raise ReleaseError(
            f"endpoint {spec.endpoint_name}: this release ({spec.endpoint_config_name}, model package {pin}) was rolled back "
            f"before ({tags.get(ROLLBACK_REASON_TAG) or 'no reason recorded'}) and is not retried as it is. Pin another model "
            "package version (endpoint.modelPackageVersion) or change the release's configuration; to retry this very "
            f"release once the cause is fixed: aws sagemaker delete-tags --resource-arn {new_config['EndpointConfigArn']} "
            f"--tag-keys {ROLLED_BACK_TAG}"
        )

    @staticmethod
    def _refuse_an_unsplittable_canary(spec: ReleaseSpec, endpoint: dict[str, Any], new_config: dict[str, Any]) -> None:
        """AWS: a canary must be at most 50% of the new fleet; a 1-instance fleet cannot be split."""
        routing = ((spec.deployment_config or {}).get("BlueGreenUpdatePolicy") or {}).get("TrafficRoutingConfiguration") or {}
        canary = routing.get("CanarySize") if routing.get("Type") in ("CANARY", "LINEAR") else None
        if not canary:
            return
        current = {str(v["VariantName"]): v.get("CurrentInstanceCount") for v in endpoint.get("ProductionVariants") or []}
        for name, variant in variants(new_config).items():
            # With RetainAllVariantProperties the new fleet is as large as the one autoscaling chose.
            fleet = current.get(name) if spec.retain_variant_properties and current.get(name) else variant.get("InitialInstanceCount")
            if not fleet:
                continue  # serverless: no instances to split
            value, fleet = number(canary["Value"]), number(fleet)
            percent = canary["Type"] == "CAPACITY_PERCENT"
            # A percentage of one instance is that whole instance: 100% of the new fleet.
            if (percent and (value > 50 or fleet < 2)) or (not percent and 2 * value > fleet):
                raise ReleaseError(
                    f"endpoint {spec.endpoint_name}: a {routing['Type']} of {value}{'%' if percent else ' instance(s)'} on "
                    f"variant {name}'s {fleet} instance(s) is more than the 50% of the new fleet SageMaker allows for a "
                    "canary. Run at least 2 instances (endpoint.instanceCount, endpoint.autoscaling.min) with a canary of at "
                    "most 50%, or release ALL_AT_ONCE"
                )

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

    def _suspend_scaling_for_instance_type_change(
        self, spec: ReleaseSpec, old_config: dict[str, Any], new_config: dict[str, Any]
    ) -> list[SuspendedScaling]:
        old, new = variants(old_config), variants(new_config)
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


def record_rollback(sagemaker: Any, spec: ReleaseSpec, new_config: dict[str, Any], reasons: list[str]) -> None:
    """Tags the rejected configuration: the same release is not retried blindly, and `tools.promote
    --restore` takes the tag as the evidence that SageMaker rolled back the release of the pin."""
    arn = new_config["EndpointConfigArn"]
    reason = re.sub(r"[^\w .:/=+\-@]", " ", "; ".join(reasons) or "rolled back")[:256]
    sagemaker.add_tags(
        ResourceArn=arn, Tags=[{"Key": ROLLED_BACK_TAG, "Value": spec.fingerprint}, {"Key": ROLLBACK_REASON_TAG, "Value": reason}]
    )


def deployed_rollback_alarms(endpoint: dict[str, Any]) -> list[str]:
    """The auto-rollback alarms of the deployment SageMaker ran last (DescribeEndpoint's LastDeploymentConfig)."""
    last = ((endpoint.get("LastDeploymentConfig") or {}).get("AutoRollbackConfiguration") or {}).get("Alarms") or []
    return [str(a["AlarmName"]) for a in last if a.get("AlarmName")]


def variants(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """DescribeEndpointConfig's production variants by name."""
    return {str(v["VariantName"]): v for v in config.get("ProductionVariants") or []}


def release_timeout_seconds(deployment_config: Optional[dict[str, Any]]) -> int:
    """How long a release waits: longer than the blue/green deployment's own limit, or an hour."""
    limit = ((deployment_config or {}).get("BlueGreenUpdatePolicy") or {}).get("MaximumExecutionTimeoutInSeconds")
    return int(limit) + RELEASE_TIMEOUT_MARGIN_SECONDS if limit else DEFAULT_TIMEOUT_SECONDS


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
    # The pinned model package the configuration serves (named when a retry is refused).
    model_package_arn: Optional[pulumi.Input[str]] = None


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
