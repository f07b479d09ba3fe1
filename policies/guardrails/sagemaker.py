"""SageMaker: encryption, data capture, high availability, safe endpoint updates, registered and
pinned models, network isolation and the stack's allowed instance types.

Serverless endpoints: SageMaker serverless inference supports neither data capture (so no Model
Monitor), nor a volume KMS key, nor network isolation, nor blue/green canary or linear traffic
shifting, nor instance counts. The guardrails that demand those of a provisioned endpoint mark a
serverless one "not applicable" and say why, instead of failing a configuration AWS would reject.

The endpoint guardrails are in guardrails/sagemaker_endpoint.py, the model and image ones in
guardrails/sagemaker_models.py, the one on registered model bytes in guardrails/sealed_models.py;
this module holds those that judge every kind of SageMaker resource (encryption, instance types)
and lists all of them in the pack's order.
"""

from __future__ import annotations

import fnmatch
from typing import Any, Callable

from pulumi_policy import ResourceValidationArgs

from guardrails.common import (
    bullet_list,
    is_customer_managed_key,
    label_of,
    peek,
    peek_path,
    resource_policy,
    string_list_config,
)
from guardrails.sagemaker_endpoint import (
    ENDPOINT_CONFIG,
    SERVERLESS_NOTE,
    provisioned_variants,
    sagemaker_data_capture,
    sagemaker_endpoint_canary,
    sagemaker_endpoint_ha,
    serverless_only,
)
from guardrails.sagemaker_jobs import DATA_QUALITY_JOB, PIPELINE, Job, load_definition, monitoring_job, pipeline_jobs
from guardrails.sagemaker_models import (
    sagemaker_images_pinned,
    sagemaker_model_from_registry,
    sagemaker_network_isolation,
    sagemaker_pipeline_registers_pending,
)
from guardrails.sealed_models import sagemaker_pipeline_registers_sealed_models

NOTEBOOK = "aws:sagemaker/notebookInstance:NotebookInstance"
DEFAULT_INSTANCE_TYPES = ["ml.m5.large", "ml.m5.xlarge", "ml.c5.large", "ml.c5.xlarge"]


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
            problems.append(
                "data capture without kms_key_id: captured requests and responses (customer data) are not encrypted with the project key"
            )
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
            f"{label_of(args)} stores data without the project's KMS key:{bullet_list(problems)}\n"
            "Pass the project KMS key ARN (foundation.key_arn) as the volume and output KMS key of every job, and as "
            "kms_key_arn / data_capture_config.kms_key_id of endpoint configurations."
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
        used = [
            (j.where, j.instance_type if j.instance_type else j.instance_type_expr)
            for j in (pipeline_jobs(args.name, definition) if definition else [])
        ]
    elif args.resource_type == NOTEBOOK:
        used = [("notebook", args.props.get("instanceType"))]
    else:
        job = monitoring_job(args.resource_type, args.name, args.props)
        used = [(job.where, job.instance_type)]
    bad = [
        f"{where}: {value}" for where, value in used if not (isinstance(value, str) and any(fnmatch.fnmatchcase(value, p) for p in allowed))
    ]
    if bad:
        report(
            f"{label_of(args)} uses instance types this stack does not allow:{bullet_list(bad)}\n"
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
    sagemaker_pipeline_registers_pending,
    sagemaker_pipeline_registers_sealed_models,
    sagemaker_images_pinned,
    sagemaker_network_isolation,
    sagemaker_instance_types,
]
