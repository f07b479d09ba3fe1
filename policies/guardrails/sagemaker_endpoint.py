"""SageMaker endpoint guardrails: data capture, high availability and safe (blue/green canary or
linear) endpoint updates; and the readers of endpoint configurations (provisioned or serverless
variants) the other SageMaker guardrails and the cost guardrails share.

Serverless endpoints support neither data capture, nor instance counts, nor blue/green canary or
linear traffic shifting: these guardrails mark a serverless one "not applicable" and say why
(guardrails/sagemaker.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable, Optional

from pulumi_policy import PolicyConfigSchema, ReportViolation, ResourceValidationArgs, StackValidationArgs, StackValidationPolicy

from guardrails.common import StackView, as_list, bullet_list, get_path, label_of, num, resource_policy, truthy

ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
SCALING_TARGET = "aws:appautoscaling/target:Target"
VARIANT_INSTANCES = "sagemaker:variant:DesiredInstanceCount"
SAFE_TRAFFIC_ROUTING = ("CANARY", "LINEAR")
DEFAULT_MIN_INSTANCES = 2
DEFAULT_MIN_CAPTURE_PERCENT = 10
SERVERLESS_NOTE = "SageMaker serverless inference supports no {what}; the rule applies to provisioned endpoints only"


# ---- shared readers -----------------------------------------------------------------------------


def variants(config_props: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [v for v in as_list(config_props.get("productionVariants")) if isinstance(v, Mapping)]


def is_serverless(variant: Mapping[str, Any]) -> bool:
    config = variant.get("serverlessConfig")
    return bool(as_list(config)) if config is not None else False


def provisioned_variants(config_props: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [v for v in variants(config_props) if not is_serverless(v)]


def serverless_only(config_props: Mapping[str, Any]) -> bool:
    found = variants(config_props)
    return bool(found) and not provisioned_variants(config_props)


# ---- data capture and high availability ---------------------------------------------------------


def _data_capture(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    if serverless_only(args.props):
        args.not_applicable(SERVERLESS_NOTE.format(what="data capture (and so no Model Monitor)"))
    if not variants(args.props):
        return
    minimum = int(args.get_config().get("minimumSamplingPercent", DEFAULT_MIN_CAPTURE_PERCENT))
    capture = args.props.get("dataCaptureConfig")
    fix = (
        f"Set data_capture_config with enable_capture=True, initial_sampling_percentage >= {minimum}, capture options "
        "Input and Output, a destination in the artifact bucket and the project KMS key."
    )
    if not capture:
        report(f"{label_of(args)} captures no inference data, so Model Monitor cannot detect drift. {fix}")
        return
    problems = []
    if not truthy(get_path(capture, "enableCapture")):
        problems.append("enable_capture is not true")
    percent = get_path(capture, "initialSamplingPercentage")
    if not isinstance(percent, (int, float)) or percent < minimum:
        problems.append(f"initial_sampling_percentage is {num(percent)}, below the minimum of {minimum}")
    modes = {str(get_path(o, "captureMode")) for o in as_list(get_path(capture, "captureOptions"))}
    if "Input" not in modes:
        problems.append("requests (capture mode Input) are not captured, and Model Monitor compares requests with the baseline")
    if problems:
        report(f"{label_of(args)} captures too little inference data:{bullet_list(problems)}\n{fix}")


def _high_availability(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    minimum = int(args.get_config().get("minInstanceCount", DEFAULT_MIN_INSTANCES))
    if args.resource_type == SCALING_TARGET:
        if args.props.get("serviceNamespace") != "sagemaker" or args.props.get("scalableDimension") != VARIANT_INSTANCES:
            return
        low = args.props.get("minCapacity")
        if not isinstance(low, (int, float)) or low < minimum:
            report(
                f"{label_of(args)} lets autoscaling shrink the endpoint variant to {num(low)} instance(s), below the minimum of {minimum}: "
                f"one instance is a single point of failure (an AZ outage or a bad host takes the model down). Set min_capacity >= {minimum}."
            )
        return
    if serverless_only(args.props):
        args.not_applicable(SERVERLESS_NOTE.format(what="instance count (capacity is managed per request)"))
    low = [
        v
        for v in provisioned_variants(args.props)
        if not isinstance(v.get("initialInstanceCount"), (int, float)) or v["initialInstanceCount"] < minimum
    ]
    if low:
        names = ", ".join(f"{v.get('variantName')} ({num(v.get('initialInstanceCount'))})" for v in low)
        report(
            f"{label_of(args)} runs production variants on fewer than {minimum} instances: {names}. SageMaker spreads the instances "
            f"of a variant across AZs only when there are several. Set initial_instance_count >= {minimum}."
        )


# ---- blue/green canary --------------------------------------------------------------------------


def endpoint_config(view: StackView, endpoint: Any) -> Optional[Any]:
    for config in view.of_type(ENDPOINT_CONFIG):
        if view.refers_to(endpoint, "endpointConfigName", config, "name"):
            return config
    return None


def _canary(args: StackValidationArgs, report: ReportViolation) -> None:
    view = StackView(args)
    skipped, judged = [], 0
    for endpoint in view.of_type(ENDPOINT):
        config = endpoint_config(view, endpoint)
        if config is not None and serverless_only(config.props):
            skipped.append(label_of(endpoint))
            continue
        judged += 1
        deployment = endpoint.props.get("deploymentConfig")
        routing = get_path(deployment, "blueGreenUpdatePolicy", "trafficRoutingConfiguration", "type") if deployment else None
        names = (
            [str(get_path(a, "alarmName")) for a in as_list(get_path(deployment, "autoRollbackConfiguration", "alarms"))]
            if deployment
            else []
        )
        problems = []
        if routing not in SAFE_TRAFFIC_ROUTING:
            problems.append(
                f"traffic routing is {routing or 'not configured (every update replaces the whole fleet at once)'}, not CANARY or LINEAR"
            )
        if not names:
            problems.append("no auto-rollback alarms: a bad model keeps its traffic")
        undeclared = view.undeclared_alarms(names)
        if undeclared:
            problems.append(f"rollback {undeclared}")
        if problems:
            report(
                f"{label_of(endpoint)} is not updated safely:{bullet_list(problems)}\n"
                "Set deployment_config.blue_green_update_policy.traffic_routing_configuration (type CANARY with a canary_size "
                "and wait_interval_in_seconds, or LINEAR) and auto_rollback_configuration.alarms naming the endpoint's "
                "error and latency alarms.",
                endpoint.urn,
            )
    if skipped and not judged:
        args.not_applicable(f"{', '.join(skipped)}: " + SERVERLESS_NOTE.format(what="blue/green canary or linear traffic shifting"))


sagemaker_data_capture = resource_policy(
    "sagemaker-data-capture",
    "Provisioned endpoint configurations capture requests and responses at or above the configured sampling percentage.",
    [ENDPOINT_CONFIG],
    _data_capture,
    config_schema=PolicyConfigSchema(
        properties={
            "minimumSamplingPercent": {
                "type": "integer",
                "minimum": 1,
                "maximum": 100,
                "default": DEFAULT_MIN_CAPTURE_PERCENT,
                "description": "Lowest allowed data capture initial_sampling_percentage.",
            }
        }
    ),
)
sagemaker_endpoint_ha = resource_policy(
    "sagemaker-endpoint-ha",
    "Provisioned endpoint variants run at least the configured number of instances, and autoscaling never goes below it.",
    [ENDPOINT_CONFIG, SCALING_TARGET],
    _high_availability,
    config_schema=PolicyConfigSchema(
        properties={
            "minInstanceCount": {
                "type": "integer",
                "minimum": 1,
                "default": DEFAULT_MIN_INSTANCES,
                "description": "Lowest allowed instance count of a provisioned production variant (initial and autoscaling minimum).",
            }
        }
    ),
)
sagemaker_endpoint_canary = StackValidationPolicy(
    name="sagemaker-endpoint-canary",
    description="Provisioned endpoints update blue/green with CANARY or LINEAR traffic shifting and roll back on alarms declared in the stack.",
    validate=_canary,
)
