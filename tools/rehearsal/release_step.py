"""The promotion rehearsal's provider step: EndpointRelease releases prod's recorded inputs, through
the wire, against SageMaker on a validating Stubber.

The inputs are exactly those the prod preview recorded (the engine's Struct: every number a float),
after the SDK's own serialize/deserialize round trip; botocore's Stubber validates every request
against the service model.

SageMaker's answers are scripted as a successful blue/green promotion on a real account: the
endpoint is InService on the previous configuration, accepts UpdateEndpoint, is Updating, then
InService on the new one; the superseded configuration and model are deleted. A request botocore
would refuse (a float where the model says integer) fails the step, as it would fail `pulumi up`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

PREVIOUS_CONFIG = "endpoint-config-previous"
PREVIOUS_MODEL = "endpoint-model-previous"
NEW_MODEL = "endpoint-model-promoted"
VARIANT = "AllTraffic"
ACCOUNT = "123456789012"
WHEN = datetime(2026, 12, 6, tzinfo=timezone.utc)


@dataclass
class ReleaseRehearsal:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def wire(props: dict[str, Any]) -> dict[str, Any]:
    """`props` as the dynamic provider receives them: through the SDK's Struct and back."""
    from pulumi.runtime import rpc

    loop = asyncio.new_event_loop()
    try:
        return rpc.deserialize_properties(loop.run_until_complete(rpc.serialize_properties(props, {})))
    finally:
        loop.close()


def script_promotion(sagemaker: Any, inputs: dict[str, Any], count: int = 2) -> dict[str, Any]:
    """Queues SageMaker's answers to a successful promotion onto a Stubber; returns the
    UpdateEndpoint request the provider must send (numbers as the API model wants them)."""
    from components.shared.release_provider import plain_numbers

    endpoint, config, region = inputs["endpoint_name"], inputs["endpoint_config_name"], inputs["region"]
    arn = f"arn:aws:sagemaker:{region}:{ACCOUNT}"

    def describe(status: str, serving: str) -> None:
        answer = {
            "EndpointName": endpoint,
            "EndpointArn": f"{arn}:endpoint/{endpoint}",
            "EndpointConfigName": serving,
            "EndpointStatus": status,
            "CreationTime": WHEN,
            "LastModifiedTime": WHEN,
            "ProductionVariants": [{"VariantName": VARIANT, "CurrentInstanceCount": count, "DesiredInstanceCount": count}],
        }
        if status == "Updating":
            answer["PendingDeploymentSummary"] = {"EndpointConfigName": config}
        sagemaker.add_response("describe_endpoint", answer, {"EndpointName": endpoint})

    def configuration(name: str, model: str) -> None:
        variant = {"VariantName": VARIANT, "ModelName": model, "InstanceType": "ml.m5.large", "InitialInstanceCount": count}
        answer = {"EndpointConfigName": name, "EndpointConfigArn": f"{arn}:endpoint-config/{name}", "ProductionVariants": [variant]}
        sagemaker.add_response("describe_endpoint_config", {**answer, "CreationTime": WHEN}, {"EndpointConfigName": name})

    request: dict[str, Any] = {
        "EndpointName": endpoint,
        "EndpointConfigName": config,
        "RetainAllVariantProperties": bool(inputs.get("retain_variant_properties")),
    }
    if inputs.get("deployment_config"):
        request["DeploymentConfig"] = plain_numbers(inputs["deployment_config"])
    describe("InService", PREVIOUS_CONFIG)
    configuration(PREVIOUS_CONFIG, PREVIOUS_MODEL)
    configuration(config, NEW_MODEL)
    sagemaker.add_response("list_tags", {"Tags": []}, {"ResourceArn": f"{arn}:endpoint-config/{config}"})
    sagemaker.add_response("update_endpoint", {"EndpointArn": f"{arn}:endpoint/{endpoint}"}, request)
    describe("Updating", PREVIOUS_CONFIG)
    describe("InService", config)
    if inputs.get("delete_superseded") is not False:
        configuration(PREVIOUS_CONFIG, PREVIOUS_MODEL)
        configuration(config, NEW_MODEL)
        sagemaker.add_response("delete_endpoint_config", {}, {"EndpointConfigName": PREVIOUS_CONFIG})
        sagemaker.add_response("delete_model", {}, {"ModelName": PREVIOUS_MODEL})
    return request


def rehearse_release(recorded: dict[str, Any]) -> ReleaseRehearsal:
    """Runs the provider's update from PREVIOUS_CONFIG to the recorded configuration."""
    import botocore.session
    from botocore.stub import Stubber

    from components.endpoint.release import EndpointReleaseProvider

    result = ReleaseRehearsal()
    inputs = wire({key: value for key, value in recorded.items() if key != "__provider"})
    session = botocore.session.get_session()
    clients = {name: session.create_client(name, region_name=str(inputs["region"])) for name in ("sagemaker", "cloudwatch")}
    stub = Stubber(clients["sagemaker"])
    request = script_promotion(stub, inputs)
    provider = EndpointReleaseProvider(client_factory=lambda service, _region: clients[service], sleep=lambda _seconds: None)
    olds = {**inputs, "endpoint_config_name": PREVIOUS_CONFIG, "released_config_name": PREVIOUS_CONFIG}
    failures = provider.check(olds, inputs).failures
    if failures:
        result.problems.append("release: check refuses the recorded inputs: " + "; ".join(f"{f.property}: {f.reason}" for f in failures))
        return result
    try:
        with stub:
            outs = provider.update(str(inputs["endpoint_name"]), olds, inputs).outs
            stub.assert_no_pending_responses()
    except Exception as exc:  # the step reports any failure as one line, as `pulumi up` would show it
        result.problems.append(f"release: the provider's update with the recorded inputs failed: {type(exc).__name__}: {exc}")
        return result
    canary = ((request.get("DeploymentConfig") or {}).get("BlueGreenUpdatePolicy") or {}).get("TrafficRoutingConfiguration", {})
    result.lines.append(
        f"release: {inputs['endpoint_name']} {outs['previous_config_name']} -> {outs['released_config_name']} "
        f"({outs['release_method']}, {canary.get('Type', 'default update')}"
        f"{' ' + str(canary['CanarySize']['Value']) + '%' if canary.get('CanarySize') else ''}), every request valid for "
        f"botocore; deleted {', '.join(outs['deleted']) or 'nothing'}"
    )
    return result
