"""SageMaker: encryption, data capture, high availability, safe endpoint updates, registered and
pinned models, network isolation and the stack's allowed instance types.

Serverless endpoints: SageMaker serverless inference supports neither data capture (so no Model
Monitor), nor a volume KMS key, nor network isolation, nor blue/green canary or linear traffic
shifting, nor instance counts. The guardrails that demand those of a provisioned endpoint mark a
serverless one "not applicable" and say why, instead of failing a configuration AWS would reject.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from typing import Any, Callable, Optional

from pulumi_policy import PolicyConfigSchema, ReportViolation, ResourceValidationArgs, StackValidationArgs, StackValidationPolicy

from guardrails.aws_accounts import SAGEMAKER_IMAGE_REGISTRIES
from guardrails.common import (
    StackView,
    as_list,
    bullet_list,
    get_path,
    is_customer_managed_key,
    label_of,
    num,
    peek,
    peek_path,
    resource_policy,
    string_list_config,
    truthy,
)
from guardrails.sagemaker_jobs import DATA_QUALITY_JOB, PIPELINE, Job, load_definition, monitoring_job, pipeline_images, pipeline_jobs

MODEL = "aws:sagemaker/model:Model"
ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
NOTEBOOK = "aws:sagemaker/notebookInstance:NotebookInstance"
SCALING_TARGET = "aws:appautoscaling/target:Target"
VARIANT_INSTANCES = "sagemaker:variant:DesiredInstanceCount"
SAFE_TRAFFIC_ROUTING = ("CANARY", "LINEAR")
DEFAULT_MIN_INSTANCES = 2
DEFAULT_MIN_CAPTURE_PERCENT = 10
DEFAULT_INSTANCE_TYPES = ["ml.m5.large", "ml.m5.xlarge", "ml.c5.large", "ml.c5.xlarge"]
SERVERLESS_NOTE = "SageMaker serverless inference supports no {what}; the rule applies to provisioned endpoints only"

_DIGEST_PINNED = re.compile(r"^[^@\s]+@sha256:[0-9a-f]{64}$")
_ECR_IMAGE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/")


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


def is_aws_owned_image(image: str) -> bool:
    match = _ECR_IMAGE.match(image)
    return bool(match) and match["account"] in SAGEMAKER_IMAGE_REGISTRIES.get(match["region"], frozenset())


def image_problem(image: Any) -> Optional[str]:
    """Why an image reference is not acceptable, or None."""
    if isinstance(image, Mapping):
        return f"{image} is a run-time expression: the image a run uses could be anything; name a digest-pinned image"
    if not isinstance(image, str) or not image:
        return None
    if _DIGEST_PINNED.match(image) or is_aws_owned_image(image):
        return None
    return f"{image} is not pinned by digest (<repository>@sha256:<digest>): a tag can be moved to another image"


def _label(args: ResourceValidationArgs) -> str:
    return f"{args.resource_type} '{args.name}'"


# ---- encryption ---------------------------------------------------------------------------------


def _job_encryption_problems(job: Job) -> list[str]:
    problems = []
    if not is_customer_managed_key(job.volume_kms):
        problems.append(f"{job.where}: no VolumeKmsKeyId (its ML storage volume is encrypted with an AWS-managed key)")
    if job.has_outputs and not is_customer_managed_key(job.output_kms):
        problems.append(f"{job.where}: no output KmsKeyId (its outputs are written with the bucket default or an AWS-managed key)")
    return problems


def _encryption(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    props = args.props
    problems: list[str] = []
    if args.resource_type == ENDPOINT_CONFIG:
        provisioned = provisioned_variants(props)
        if provisioned and not is_customer_managed_key(peek(props, "kmsKeyArn")):
            problems.append("no kms_key_arn: the instances' ML storage volumes are encrypted with an AWS-managed key")
        capture = props.get("dataCaptureConfig")
        if capture and not is_customer_managed_key(peek_path(capture, "kmsKeyId")):
            problems.append("data capture without kms_key_id: captured requests and responses (customer data) are not encrypted with the project key")
        async_config = props.get("asyncInferenceConfig")
        if async_config and not is_customer_managed_key(peek_path(async_config, "outputConfig", "kmsKeyId")):
            problems.append("asynchronous inference output without kms_key_id")
        if not provisioned and not capture and not async_config:
            args.not_applicable(SERVERLESS_NOTE.format(what="volume KMS key (there is no ML storage volume)"))
    elif args.resource_type == PIPELINE:
        definition = load_definition(props.get("pipelineDefinition"))
        if definition is None:
            return
        for job in pipeline_jobs(args.name, definition):
            problems.extend(_job_encryption_problems(job))
    else:
        problems.extend(_job_encryption_problems(monitoring_job(args.resource_type, args.name, props)))
    if problems:
        report(
            f"{_label(args)} stores data without the project's KMS key:{bullet_list(problems)}\n"
            "Pass the project KMS key ARN (foundation.key_arn) as the volume and output KMS key of every job, and as "
            "kms_key_arn / data_capture_config.kms_key_id of endpoint configurations."
        )


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
        report(f"{_label(args)} captures no inference data, so Model Monitor cannot detect drift. {fix}")
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
        report(f"{_label(args)} captures too little inference data:{bullet_list(problems)}\n{fix}")


def _high_availability(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    minimum = int(args.get_config().get("minInstanceCount", DEFAULT_MIN_INSTANCES))
    if args.resource_type == SCALING_TARGET:
        if args.props.get("serviceNamespace") != "sagemaker" or args.props.get("scalableDimension") != VARIANT_INSTANCES:
            return
        low = args.props.get("minCapacity")
        if not isinstance(low, (int, float)) or low < minimum:
            report(
                f"{_label(args)} lets autoscaling shrink the endpoint variant to {num(low)} instance(s), below the minimum of {minimum}: "
                f"one instance is a single point of failure (an AZ outage or a bad host takes the model down). Set min_capacity >= {minimum}."
            )
        return
    if serverless_only(args.props):
        args.not_applicable(SERVERLESS_NOTE.format(what="instance count (capacity is managed per request)"))
    low = [v for v in provisioned_variants(args.props) if not isinstance(v.get("initialInstanceCount"), (int, float)) or v["initialInstanceCount"] < minimum]
    if low:
        names = ", ".join(f"{v.get('variantName')} ({num(v.get('initialInstanceCount'))})" for v in low)
        report(
            f"{_label(args)} runs production variants on fewer than {minimum} instances: {names}. SageMaker spreads the instances "
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
        names = [str(get_path(a, "alarmName")) for a in as_list(get_path(deployment, "autoRollbackConfiguration", "alarms"))] if deployment else []
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


# ---- models, images, isolation, instance types --------------------------------------------------


def containers(props: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = [c for c in as_list(props.get("primaryContainer")) if isinstance(c, Mapping)]
    found += [c for c in as_list(props.get("containers")) if isinstance(c, Mapping)]
    return found


def _from_registry(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    problems = []
    for i, container in enumerate(containers(args.props)):
        where = container.get("containerHostname") or ("primary container" if i == 0 and args.props.get("primaryContainer") else f"container {i}")
        if not container.get("modelPackageName"):
            raw = container.get("modelDataUrl") or get_path(container, "modelDataSource", "s3DataSource", "s3Uri")
            problems.append(f"{where} serves {('the raw artifact ' + str(raw)) if raw else 'an image and artifact'} instead of a registered model package")
    if not containers(args.props):
        problems.append("no container")
    if problems:
        report(
            f"{_label(args)} is not deployed from the model registry:{bullet_list(problems)}\n"
            "Set primary_container=aws.sagemaker.ModelPrimaryContainerArgs(model_package_name=<the approved model package "
            "version ARN>): only a registered, approved version (with its metrics and baselines) may be served."
        )


def _images(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    found: list[tuple[str, Any]] = []
    if args.resource_type == MODEL:
        found = [(f"container {c.get('containerHostname') or i}", c.get("image")) for i, c in enumerate(containers(args.props))]
    elif args.resource_type == PIPELINE:
        definition = load_definition(args.props.get("pipelineDefinition"))
        found = [(f"step '{step}'", image) for step, image in pipeline_images(definition)] if definition else []
    else:
        found = [("analyzer", get_path(args.props, "dataQualityAppSpecification", "imageUri"))]
    problems = [f"{where}: {problem}" for where, image in found if (problem := image_problem(image))]
    if problems:
        report(
            f"{_label(args)} runs images that are not pinned:{bullet_list(problems)}\n"
            "Reference the project's images by digest (components.container_image.ContainerImage.image_uri is "
            "<repository>@sha256:<digest>). Only AWS-owned SageMaker images (registries the sagemaker SDK lists for the "
            "region) may be referenced without a digest."
        )


def _models_in_serverless_only_configs(view: StackView) -> set[str]:
    """URNs of models referenced only by serverless endpoint configurations."""
    used: dict[str, list[bool]] = {}
    for config in view.of_type(ENDPOINT_CONFIG):
        serverless = serverless_only(config.props)
        deps = config.property_dependencies.get("productionVariants") if config.property_dependencies else None
        if deps:
            for model in deps:
                if model.resource_type == MODEL:
                    used.setdefault(model.urn, []).append(serverless)
            continue
        names = {str(v.get("modelName")) for v in variants(config.props)}
        for model in view.of_type(MODEL):
            if model.props.get("name") in names:
                used.setdefault(model.urn, []).append(serverless)
    return {urn for urn, kinds in used.items() if kinds and all(kinds)}


def _network_isolation(args: StackValidationArgs, report: ReportViolation) -> None:
    view = StackView(args)
    serverless_models = _models_in_serverless_only_configs(view)
    for model in view.of_type(MODEL):
        if model.urn in serverless_models:
            continue
        if not truthy(model.props.get("enableNetworkIsolation")):
            report(
                f"{label_of(model)} serves the model with network access: a compromised model or dependency could reach the "
                "internet. Set enable_network_isolation=True (only models served by serverless endpoints, which do not "
                "support it, are exempt).",
                model.urn,
            )
    for resource in view.of_type(PIPELINE, DATA_QUALITY_JOB):
        if resource.resource_type == PIPELINE:
            definition = load_definition(resource.props.get("pipelineDefinition"))
            jobs = pipeline_jobs(resource.name, definition) if definition else []
        else:
            jobs = [monitoring_job(resource.resource_type, resource.name, resource.props)]
        open_jobs = [j.where for j in jobs if j.must_isolate and not j.network_isolation]
        if open_jobs:
            report(
                f"{label_of(resource)} runs training or monitoring jobs with network access:{bullet_list(open_jobs)}\n"
                "Enable network isolation (EnableNetworkIsolation / network_config.enable_network_isolation): these jobs read "
                "their inputs and write their outputs through SageMaker's channels and need no network.",
                resource.urn,
            )


def _instance_types(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    allowed = list(args.get_config().get("allowedInstanceTypes", DEFAULT_INSTANCE_TYPES))
    used: list[tuple[str, Any]] = []
    if args.resource_type == ENDPOINT_CONFIG:
        if serverless_only(args.props):
            args.not_applicable(SERVERLESS_NOTE.format(what="instance type (capacity is memory size and concurrency)"))
        used = [(f"variant {v.get('variantName')}", v.get("instanceType")) for v in provisioned_variants(args.props)]
    elif args.resource_type == PIPELINE:
        definition = load_definition(args.props.get("pipelineDefinition"))
        used = [(j.where, j.instance_type if j.instance_type else j.instance_type_expr) for j in (pipeline_jobs(args.name, definition) if definition else [])]
    elif args.resource_type == NOTEBOOK:
        used = [("notebook", args.props.get("instanceType"))]
    else:
        job = monitoring_job(args.resource_type, args.name, args.props)
        used = [(job.where, job.instance_type)]
    bad = [f"{where}: {value}" for where, value in used if not (isinstance(value, str) and any(fnmatch.fnmatchcase(value, p) for p in allowed))]
    if bad:
        report(
            f"{_label(args)} uses instance types this stack does not allow:{bullet_list(bad)}\n"
            f"Allowed here: {', '.join(allowed)}. Pick one of them, or change allowedInstanceTypes in the stack's policy config "
            "through a reviewed pull request."
        )


# ---- policies -----------------------------------------------------------------------------------

sagemaker_kms_encryption = resource_policy(
    "sagemaker-kms-encryption",
    "SageMaker endpoint volumes, data capture, pipeline job volumes/outputs and monitoring jobs use the project's KMS key.",
    [ENDPOINT_CONFIG, PIPELINE, DATA_QUALITY_JOB],
    _encryption,
)
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
sagemaker_model_from_registry = resource_policy(
    "sagemaker-model-from-registry",
    "SageMaker models are created from a registered model package version, not from a raw model artifact.",
    [MODEL],
    _from_registry,
)
sagemaker_images_pinned = resource_policy(
    "sagemaker-images-pinned",
    "Images of models, pipeline steps and monitoring jobs are pinned by digest (AWS-owned SageMaker images excepted).",
    [MODEL, PIPELINE, DATA_QUALITY_JOB],
    _images,
)
sagemaker_network_isolation = StackValidationPolicy(
    name="sagemaker-network-isolation",
    description="Models (but those on serverless endpoints), training/tuning and monitoring jobs run network-isolated.",
    validate=_network_isolation,
)
sagemaker_instance_types = resource_policy(
    "sagemaker-instance-types",
    "Endpoints, pipeline jobs and monitoring jobs use instance types the stack allows.",
    [ENDPOINT_CONFIG, PIPELINE, DATA_QUALITY_JOB, NOTEBOOK],
    _instance_types,
    config_schema=string_list_config(
        "allowedInstanceTypes", DEFAULT_INSTANCE_TYPES, "Instance types (fnmatch patterns such as ml.c5.*) the stack may use."
    ),
)

POLICIES = [
    sagemaker_kms_encryption,
    sagemaker_data_capture,
    sagemaker_endpoint_ha,
    sagemaker_endpoint_canary,
    sagemaker_model_from_registry,
    sagemaker_images_pinned,
    sagemaker_network_isolation,
    sagemaker_instance_types,
]
