"""SageMaker model guardrails: models served from the model registry, images pinned by digest, and
models, training/tuning and monitoring jobs isolated from the network."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Callable, Optional

from pulumi_policy import ReportViolation, ResourceValidationArgs, StackValidationArgs, StackValidationPolicy

from guardrails.aws_accounts import SAGEMAKER_IMAGE_REGISTRIES
from guardrails.common import StackView, as_list, bullet_list, get_path, label_of, resource_policy, truthy
from guardrails.sagemaker_endpoint import ENDPOINT_CONFIG, serverless_only, variants
from guardrails.sagemaker_jobs import (
    DATA_QUALITY_JOB,
    PIPELINE,
    iter_steps,
    load_definition,
    monitoring_job,
    pipeline_images,
    pipeline_jobs,
)

MODEL = "aws:sagemaker/model:Model"
PENDING = "PendingManualApproval"

_DIGEST_PINNED = re.compile(r"^[^@\s]+@sha256:[0-9a-f]{64}$")
_ECR_IMAGE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/")


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


def containers(props: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = [c for c in as_list(props.get("primaryContainer")) if isinstance(c, Mapping)]
    found += [c for c in as_list(props.get("containers")) if isinstance(c, Mapping)]
    return found


def _from_registry(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    problems = []
    for i, container in enumerate(containers(args.props)):
        where = container.get("containerHostname") or (
            "primary container" if i == 0 and args.props.get("primaryContainer") else f"container {i}"
        )
        if not container.get("modelPackageName"):
            raw = container.get("modelDataUrl") or get_path(container, "modelDataSource", "s3DataSource", "s3Uri")
            problems.append(
                f"{where} serves {('the raw artifact ' + str(raw)) if raw else 'an image and artifact'} instead of a registered model package"
            )
    if not containers(args.props):
        problems.append("no container")
    if problems:
        report(
            f"{label_of(args)} is not deployed from the model registry:{bullet_list(problems)}\n"
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
            f"{label_of(args)} runs images that are not pinned:{bullet_list(problems)}\n"
            "Reference the project's images by digest (components.shared.container_image.ContainerImage.image_uri is "
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


def _registers_pending(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    definition = load_definition(args.props.get("pipelineDefinition"))
    if definition is None:
        return
    problems = []
    for step in iter_steps(definition.get("Steps")):
        if step.get("Type") != "RegisterModel":
            continue
        status = (step.get("Arguments") or {}).get("ModelApprovalStatus")
        if status == PENDING:
            continue
        if status is None:
            problems.append(f"step '{step.get('Name')}' sets no ModelApprovalStatus")
        elif isinstance(status, Mapping):
            problems.append(
                f"step '{step.get('Name')}' takes ModelApprovalStatus from {status}: a run's parameters could register it Approved"
            )
        else:
            problems.append(f"step '{step.get('Name')}' registers versions {status}")
    if problems:
        report(
            f"{label_of(args)} registers model versions that are not pending a person's approval:{bullet_list(problems)}\n"
            f"Register with ModelApprovalStatus='{PENDING}' (a literal, not a pipeline parameter): only a person approves a "
            "version (docs/gitops.md, the approver role), and only an approved version can be pinned."
        )


sagemaker_pipeline_registers_pending = resource_policy(
    "sagemaker-pipeline-registers-pending",
    "Training pipelines register model versions as PendingManualApproval (a literal): only a person approves a version.",
    [PIPELINE],
    _registers_pending,
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
