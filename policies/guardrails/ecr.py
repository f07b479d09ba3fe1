"""ECR: repositories scan images on push, keep tags immutable and encrypt with the project key."""

from __future__ import annotations

from typing import Callable

from pulumi_policy import ResourceValidationArgs

from guardrails.common import as_list, get_path, is_customer_managed_key, peek_path, resource_policy, truthy

REPOSITORY = "aws:ecr/repository:Repository"


def _scan_on_push(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    if not truthy(get_path(args.props, "imageScanningConfiguration", "scanOnPush")):
        report(
            f"{args.resource_type} '{args.name}' does not scan images on push, so known vulnerabilities in a new image go "
            "unnoticed. Set image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True)."
        )


def _immutable(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    mutability = args.props.get("imageTagMutability") or "MUTABLE"
    if mutability != "IMMUTABLE":
        report(
            f"{args.resource_type} '{args.name}' has {mutability} tags: a push can silently replace the image a tag names. "
            "Set image_tag_mutability='IMMUTABLE' (and reference images by digest)."
        )


def _encrypted(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    configs = as_list(args.props.get("encryptionConfigurations"))
    if not any(get_path(c, "encryptionType") == "KMS" and is_customer_managed_key(peek_path(c, "kmsKey")) for c in configs):
        report(
            f"{args.resource_type} '{args.name}' is not encrypted with the project's KMS key (AES256 or the AWS-managed "
            "aws/ecr key). Set encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type='KMS', "
            "kms_key=<the project KMS key ARN>)] (a new repository: encryption cannot be changed later)."
        )


ecr_scan_on_push = resource_policy("ecr-scan-on-push", "ECR repositories scan every image on push.", [REPOSITORY], _scan_on_push)
ecr_immutable_tags = resource_policy("ecr-immutable-tags", "ECR repositories have immutable tags.", [REPOSITORY], _immutable)
ecr_repository_encrypted = resource_policy(
    "ecr-repository-encrypted", "ECR repositories are encrypted with a customer-managed KMS key.", [REPOSITORY], _encrypted
)

POLICIES = [ecr_scan_on_push, ecr_immutable_tags, ecr_repository_encrypted]
