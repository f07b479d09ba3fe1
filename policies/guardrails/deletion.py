"""Deletion safety: prod buckets and image repositories cannot be deleted together with their contents.

`force_destroy` on a bucket and `force_delete` on an ECR repository let `pulumi destroy` (or a
replacement a careless rename triggers) empty them first: every data set, model artifact,
evaluation report and released image goes with them, versioning notwithstanding. Dev sets them on
purpose so that a throw-away stack can be destroyed; its policy config disables these two.
"""

from __future__ import annotations

from typing import Callable

from pulumi_policy import ResourceValidationArgs

from guardrails.common import resource_policy, truthy

BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
REPOSITORY = "aws:ecr/repository:Repository"


def _bucket(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    if truthy(args.props.get("forceDestroy")):
        report(
            f"{args.resource_type} '{args.name}' has force_destroy=True: deleting or replacing it deletes every object and "
            "version in it (data sets, model artifacts, logs) without a prompt. Set force_destroy=False for this stack "
            "(components.shared.secure_bucket.SecureBucketArgs.force_destroy); empty a bucket by hand when you really mean to."
        )


def _repository(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    if truthy(args.props.get("forceDelete")):
        report(
            f"{args.resource_type} '{args.name}' has force_delete=True: deleting or replacing it deletes every image in it, "
            "including the digests the running endpoint, pipeline and services pull. Set force_delete=False for this stack "
            "(components.shared.container_image.ContainerImageArgs.force_delete)."
        )


s3_bucket_no_force_destroy = resource_policy(
    "s3-bucket-no-force-destroy", "S3 buckets cannot be deleted with their contents (no force_destroy).", BUCKETS, _bucket
)
ecr_repository_no_force_delete = resource_policy(
    "ecr-repository-no-force-delete", "ECR repositories cannot be deleted with their images (no force_delete).", [REPOSITORY], _repository
)

POLICIES = [s3_bucket_no_force_destroy, ecr_repository_no_force_delete]
