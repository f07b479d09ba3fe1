"""The SageMaker jobs a stack will run, read from pipeline definitions and monitoring job definitions.

`aws:sagemaker/pipeline:Pipeline.pipelineDefinition` is JSON text: each step's `Arguments` is the
request of the job it starts (CreateProcessingJob, CreateTrainingJob, ...), with `{"Get": ...}`
expressions where a value is known only at run time. Condition steps hold further steps in
`IfSteps`/`ElseSteps`. Model Monitor job definitions are their own resources with camelCase inputs.
The guardrails (encryption, network isolation, instance types) and the cost estimate read the jobs
through this one model so they can never disagree about what a step runs; the images guardrail
reads every image a step names (pipeline_images), registration steps' included.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Iterator, Optional, TypeVar

from guardrails.common import as_list, get_path, parse_json, peek, peek_path, truthy, walk

PIPELINE = "aws:sagemaker/pipeline:Pipeline"
DATA_QUALITY_JOB = "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"
# Steps whose Arguments are a CreateProcessingJob request.
PROCESSING_STEPS = ("Processing", "QualityCheck", "ClarifyCheck")
IMAGE_KEYS = ("ImageUri", "TrainingImage", "Image")
# SageMaker's default MaxRuntimeInSeconds for processing, training and monitoring jobs.
DEFAULT_MAX_RUNTIME_SECONDS = 86400


@dataclass
class Job:
    where: str
    kind: str  # "training" | "processing" | "transform"
    instance_type: Optional[str]
    instance_type_expr: Any
    instance_count: Optional[int]  # None: not a number, nor a parameter with one (the estimate cannot price it)
    instance_count_expr: Any
    volume_kms: Any
    output_kms: Any
    has_outputs: bool
    network_isolation: Optional[bool]
    max_runtime_seconds: int
    jobs_per_run: int = 1
    spot: bool = False
    must_isolate: bool = False
    """Training, tuning and monitoring jobs run the model or AWS's analyzer on the data and need
    no network; processing steps may call AWS APIs themselves (e.g. copying a baseline)."""


def load_definition(value: Any) -> Optional[Mapping[str, Any]]:
    definition = parse_json(value)
    return definition if isinstance(definition, Mapping) else None


def parameter_defaults(definition: Mapping[str, Any]) -> dict[str, Any]:
    return {p.get("Name"): p.get("DefaultValue") for p in as_list(definition.get("Parameters")) if isinstance(p, Mapping)}


def resolve(value: Any, parameters: Mapping[str, Any]) -> Any:
    """A literal, or a `{"Get": "Parameters.X"}` resolved to the parameter's default value."""
    if isinstance(value, Mapping) and isinstance(value.get("Get"), str) and value["Get"].startswith("Parameters."):
        return parameters.get(value["Get"][len("Parameters.") :])
    return value


def iter_steps(steps: Any) -> Iterator[Mapping[str, Any]]:
    for step in as_list(steps):
        if not isinstance(step, Mapping):
            continue
        yield step
        arguments = step.get("Arguments")
        if step.get("Type") == "Condition" and isinstance(arguments, Mapping):
            yield from iter_steps(arguments.get("IfSteps"))
            yield from iter_steps(arguments.get("ElseSteps"))


_Default = TypeVar("_Default")


def _int(value: Any, default: _Default) -> int | _Default:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _compute(
    resources: Any, parameters: Mapping[str, Any], keys: tuple[str, str, str] = ("InstanceType", "InstanceCount", "VolumeKmsKeyId")
) -> dict[str, Any]:
    """A job's instances and volume key, from its resource block (ResourceConfig, ClusterConfig, ...)."""
    resources = resources if isinstance(resources, Mapping) else {}
    type_key, count_key, kms_key = keys
    expr = resources.get(type_key)
    instance_type = resolve(expr, parameters)
    count = resources.get(count_key)
    return {
        "instance_type": instance_type if isinstance(instance_type, str) else None,
        "instance_type_expr": expr,
        # A ParameterInteger is {"Get": "Parameters.X"}: its default is what a scheduled run uses.
        "instance_count": _int(resolve(count, parameters), None),
        "instance_count_expr": count,
        "volume_kms": resolve(resources.get(kms_key), parameters),
    }


def _training_job(where: str, spec: Mapping[str, Any], parameters: Mapping[str, Any], jobs_per_run: int) -> Job:
    output = spec.get("OutputDataConfig") or {}
    stopping = spec.get("StoppingCondition") or {}
    spot = truthy(spec.get("EnableManagedSpotTraining"))
    return Job(
        where=where,
        kind="training",
        **_compute(spec.get("ResourceConfig"), parameters),
        output_kms=resolve(output.get("KmsKeyId"), parameters),
        has_outputs=True,
        network_isolation=truthy(spec.get("EnableNetworkIsolation")),
        # A spot job is billed for its run time only, but may wait up to MaxWaitTimeInSeconds.
        max_runtime_seconds=_int(stopping.get("MaxRuntimeInSeconds"), DEFAULT_MAX_RUNTIME_SECONDS),
        jobs_per_run=jobs_per_run,
        spot=spot,
        must_isolate=True,
    )


def pipeline_jobs(pipeline_name: str, definition: Mapping[str, Any]) -> list[Job]:
    parameters = parameter_defaults(definition)
    jobs: list[Job] = []
    for step in iter_steps(definition.get("Steps")):
        arguments = step.get("Arguments")
        if not isinstance(arguments, Mapping):
            continue
        kind = step.get("Type")
        where = f"step '{step.get('Name')}' ({kind}) of pipeline {pipeline_name}"
        if kind in PROCESSING_STEPS:
            outputs = arguments.get("ProcessingOutputConfig") or {}
            jobs.append(
                Job(
                    where=where,
                    kind="processing",
                    **_compute(get_path(arguments, "ProcessingResources", "ClusterConfig"), parameters),
                    output_kms=resolve(outputs.get("KmsKeyId"), parameters),
                    has_outputs=bool(as_list(outputs.get("Outputs"))),
                    network_isolation=truthy(get_path(arguments, "NetworkConfig", "EnableNetworkIsolation")),
                    max_runtime_seconds=_int(get_path(arguments, "StoppingCondition", "MaxRuntimeInSeconds"), DEFAULT_MAX_RUNTIME_SECONDS),
                )
            )
        elif kind == "Training":
            jobs.append(_training_job(where, arguments, parameters, 1))
        elif kind == "Tuning":
            limit = _int(
                resolve(get_path(arguments, "HyperParameterTuningJobConfig", "ResourceLimits", "MaxNumberOfTrainingJobs"), parameters), 1
            )
            definitions = as_list(arguments.get("TrainingJobDefinitions")) or as_list(arguments.get("TrainingJobDefinition"))
            for i, spec in enumerate(d for d in definitions if isinstance(d, Mapping)):
                label = where if len(definitions) == 1 else f"{where}, training job definition {i}"
                jobs.append(_training_job(label, spec, parameters, limit))
        elif kind == "Transform":
            jobs.append(
                Job(
                    where=where,
                    kind="transform",
                    **_compute(arguments.get("TransformResources"), parameters),
                    output_kms=resolve(get_path(arguments, "TransformOutput", "KmsKeyId"), parameters),
                    has_outputs=True,
                    network_isolation=None,
                    max_runtime_seconds=DEFAULT_MAX_RUNTIME_SECONDS,
                )
            )
    return jobs


def pipeline_images(definition: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(step name, image value) for every container image any step names, nested steps included."""
    found: list[tuple[str, Any]] = []
    for step in iter_steps(definition.get("Steps")):
        arguments = step.get("Arguments")
        if step.get("Type") == "Condition" or not isinstance(arguments, Mapping):
            continue
        for key, value in walk(arguments):
            if key in IMAGE_KEYS and (isinstance(value, str) or isinstance(value, Mapping)):
                found.append((str(step.get("Name")), value))
    return found


def monitoring_job(resource_type: str, name: str, props: Mapping[str, Any]) -> Job:
    cluster = get_path(props, "jobResources", "clusterConfig")
    known = {k: peek(cluster, k) for k in ("instanceType", "instanceCount", "volumeKmsKeyId")}
    return Job(
        where=f"{resource_type} '{name}'",
        kind="processing",
        **_compute(known, {}, ("instanceType", "instanceCount", "volumeKmsKeyId")),
        output_kms=peek_path(props, "dataQualityJobOutputConfig", "kmsKeyId"),
        has_outputs=True,
        network_isolation=truthy(get_path(props, "networkConfig", "enableNetworkIsolation")),
        max_runtime_seconds=_int(get_path(props, "stoppingCondition", "maxRuntimeInSeconds"), 3600),
        must_isolate=True,
    )
