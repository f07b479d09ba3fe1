"""Shared AWS building blocks: secure bucket, IAM documents, event delivery, container images,
the permissions boundary and the release-provider base."""

from components.shared.permissions_boundary import boundary_arn, with_permissions_boundary
from components.shared.secure_bucket import SecureBucket, SecureBucketArgs

__all__ = ["SecureBucket", "SecureBucketArgs", "boundary_arn", "with_permissions_boundary"]
