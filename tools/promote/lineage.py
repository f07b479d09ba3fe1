"""What a model package is, read from the registry: metrics, lineage and who approved it.

The dev pull request's body is built from this, so a reviewer sees the evaluation metrics, the
pipeline execution that registered the package, the data its training job read, the image digest,
the artifact's checksum and the approver without opening the console.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional

from botocore.exceptions import BotoCoreError, ClientError

from tools.promote.stack_file import CheckFailed, PromoteError

TRAINING_STEP_TYPE = "Training"


@dataclass
class PackageFacts:
    arn: str
    version: int
    group: str
    status: str
    approver: str
    approval_note: str
    approved_at: str
    pipeline_execution: str
    training_data: list[str] = field(default_factory=list)
    image: str = ""
    image_digest: str = ""
    artifact: str = ""
    artifact_checksum: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    metrics_source: str = ""


def _s3_parts(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def approver_of(package: dict[str, Any]) -> str:
    """Who last changed the package (the approval is that change): the IAM identity, else the Studio user."""
    who = package.get("LastModifiedBy") or {}
    identity = who.get("IamIdentity") or {}
    return identity.get("Arn") or who.get("UserProfileName") or "unknown (the registry recorded no identity)"


def training_data(sagemaker: Any, execution_arn: str) -> list[str]:
    """The S3 inputs of the training job the pipeline execution ran (its Training step)."""
    if not execution_arn.startswith("arn:aws:sagemaker:") or ":pipeline/" not in execution_arn:
        return []
    steps = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=execution_arn).get("PipelineExecutionSteps", [])
    jobs = [s.get("Metadata", {}).get("TrainingJob", {}).get("Arn") for s in steps]
    uris: list[str] = []
    for job_arn in filter(None, jobs):
        job = sagemaker.describe_training_job(TrainingJobName=job_arn.rsplit("/", 1)[-1])
        for channel in job.get("InputDataConfig", []):
            uri = channel.get("DataSource", {}).get("S3DataSource", {}).get("S3Uri")
            if uri:
                uris.append(f"{channel.get('ChannelName', '?')}: {uri}")
    return uris


def artifact_checksum(s3: Any, uri: str, etag: Optional[str]) -> str:
    """The artifact's SHA-256 when S3 stored one, else its ETag (what the registry recorded first)."""
    if etag:
        return f"ETag {etag} (recorded by the registry)"
    bucket, key = _s3_parts(uri)
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    if head.get("ChecksumSHA256"):
        return f"SHA-256 {head['ChecksumSHA256']} (base64, S3)"
    return f"ETag {head['ETag'].strip(chr(34))} (S3)"


def evaluation_metrics(s3: Any, package: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The evaluation report the package names as its model quality statistics."""
    source = ((package.get("ModelMetrics") or {}).get("ModelQuality") or {}).get("Statistics") or {}
    uri = source.get("S3Uri")
    if not uri:
        return {}, ""
    bucket, key = _s3_parts(uri)
    report = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    metrics = report.get("binary_classification_metrics", report) if isinstance(report, dict) else {}
    flat = {name: (value.get("value") if isinstance(value, dict) else value) for name, value in metrics.items()}
    return {k: v for k, v in flat.items() if isinstance(v, (int, float))}, uri


def package_facts(sagemaker: Any, s3: Any, arn: str, lineage_client: Any = None) -> PackageFacts:
    """Everything the dev pull request shows about the package; refused unless it is Approved."""
    try:
        package = sagemaker.describe_model_package(ModelPackageName=arn)
    except ClientError as exc:
        raise CheckFailed(f"cannot describe {arn}: {exc.response.get('Error', {}).get('Message', exc)}") from None
    except BotoCoreError as exc:
        raise PromoteError(f"cannot reach SageMaker to describe {arn}: {exc}") from None
    status = package.get("ModelApprovalStatus", "unknown")
    if status != "Approved":
        raise CheckFailed(f"{arn} is {status}, not Approved: only an approved package opens the dev pull request")
    container = (package.get("InferenceSpecification", {}).get("Containers") or [{}])[0]
    image = container.get("Image", "")
    execution = (package.get("MetadataProperties") or {}).get("GeneratedBy", "")
    facts = PackageFacts(
        arn=arn,
        version=int(package.get("ModelPackageVersion") or arn.rsplit("/", 1)[-1]),
        group=package.get("ModelPackageGroupName", ""),
        status=status,
        approver=approver_of(package),
        approval_note=package.get("ApprovalDescription", ""),
        approved_at=str(package.get("LastModifiedTime", "")),
        pipeline_execution=execution or "unknown (not registered by a pipeline execution)",
        image=image,
        image_digest=container.get("ImageDigest") or (image.split("@", 1)[1] if "@" in image else "not pinned by digest"),
        artifact=container.get("ModelDataUrl", ""),
    )
    try:
        facts.training_data = training_data(lineage_client or sagemaker, execution)
        if facts.artifact:
            facts.artifact_checksum = artifact_checksum(s3, facts.artifact, container.get("ModelDataETag"))
        facts.metrics, facts.metrics_source = evaluation_metrics(s3, package)
    except (ClientError, BotoCoreError, ValueError) as exc:
        raise PromoteError(f"cannot read the lineage of {arn}: {exc}") from None
    return facts
