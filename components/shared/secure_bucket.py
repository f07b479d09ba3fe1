"""An S3 bucket with every safety setting this project requires, declared side by side.

pulumi-aws 7 deprecates the inline bucket settings, so encryption, versioning, public access,
ownership, lifecycle and policy are their own resources; one component keeps them together so no
bucket can be created without them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import pulumi
import pulumi_aws as aws

from components.shared.iam import policy_document, statement
from components.shared.stack_naming import STACKS, stack_of_prefix, stack_role_patterns

# The provider appends a 26-character unique suffix to bucket_prefix; S3 names are 3-63 characters
# of lowercase letters, digits, dots and hyphens.
MAX_BUCKET_PREFIX = 37
# What a consumer stack's roles may still do on a bucket it reads (model artifacts, baselines).
CONSUMER_READ_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket")


@dataclass(frozen=True)
class SecureBucketArgs:
    kms_key_arn: Optional[pulumi.Input[str]]
    """Customer-managed key for SSE-KMS. None means SSE-S3, for the few AWS services (ALB access
    logs) that cannot write to KMS-encrypted buckets."""
    force_destroy: bool = False
    versioned: bool = True
    noncurrent_version_days: int = 30
    eventbridge_notifications: bool = False
    extra_policy_statements: Union[Sequence[Mapping[str, Any]], Callable[[pulumi.Output[str]], Sequence[Mapping[str, Any]]]] = field(
        default_factory=tuple
    )
    """Statements added to the bucket policy; a function of the bucket ARN when they must name the
    bucket itself (service log delivery into a prefix, say)."""
    expire_after_days: Optional[int] = None
    """Delete current objects this many days after they are written (logs); None keeps them."""
    tags: Mapping[str, str] = field(default_factory=dict)
    name_prefix: Optional[str] = None
    """`mlops-<stack>`: the bucket is named `<name_prefix>-<name>-<suffix>`, so the name-based walls
    of bootstrap's roles bite on it (S3 evaluates no tag condition without ABAC), and its policy
    denies every role of the other stacks. None (bootstrap's state bucket): a provider-generated
    name and no wall."""
    reader_stacks: Sequence[str] = ()
    """Other stacks whose roles may read the bucket (CONSUMER_READ_ACTIONS) through the wall."""


def bucket_prefix(name: str, name_prefix: str) -> str:
    prefix = f"{name_prefix}-{name}-"
    if len(prefix) > MAX_BUCKET_PREFIX or not re.fullmatch(r"[a-z0-9][a-z0-9-]*-", prefix):
        raise pulumi.RunError(
            f"SecureBucket {name!r}: bucket_prefix {prefix!r} must be at most {MAX_BUCKET_PREFIX} lowercase letters, "
            "digits and hyphens (the provider adds 26 characters; S3 allows 63): shorten the component name"
        )
    return prefix


def stack_wall(name: str, name_prefix: str, reader_stacks: Sequence[str], bucket: Sequence[Any]) -> list[dict[str, Any]]:
    """Deny statements that keep the other stacks' roles (program and CI, any account) off the bucket;
    a reader stack keeps exactly the reads."""
    try:
        own = stack_of_prefix(name_prefix, field=f"SecureBucket {name!r} name_prefix")
    except ValueError as error:
        raise pulumi.RunError(str(error)) from None
    unknown = [s for s in reader_stacks if s not in STACKS or s == own]
    if unknown:
        raise pulumi.RunError(f"SecureBucket {name!r} reader_stacks = {list(reader_stacks)}: expected other stacks among {list(STACKS)}")
    walled = [s for s in STACKS if s != own and s not in reader_stacks]
    statements = []
    if walled:
        statements.append(
            statement(
                ["s3:*"],
                bucket,
                sid="DenyOtherStacks",
                effect="Deny",
                principals={"AWS": "*"},
                conditions={"ArnLike": {"aws:PrincipalArn": [p for s in walled for p in stack_role_patterns(s)]}},
            )
        )
    if reader_stacks:
        statements.append(
            {
                "Sid": "DenyReaderStacksAllButReads",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "NotAction": list(CONSUMER_READ_ACTIONS),
                "Resource": list(bucket),
                "Condition": {"ArnLike": {"aws:PrincipalArn": [p for s in reader_stacks for p in stack_role_patterns(s)]}},
            }
        )
    return statements


class SecureBucket(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    name: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: SecureBucketArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("sagemaker-mlops:storage:SecureBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        prefix = bucket_prefix(name, args.name_prefix) if args.name_prefix is not None else None
        self.bucket = aws.s3.Bucket(name, bucket_prefix=prefix, force_destroy=args.force_destroy, tags=dict(args.tags) or None, opts=child)
        bucket_id = self.bucket.id
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket_id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        if args.kms_key_arn is not None:
            default = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="aws:kms", kms_master_key_id=args.kms_key_arn
            )
        else:
            default = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(sse_algorithm="AES256")
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket_id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=default,
                    # S3 Bucket Keys cut KMS requests (and their cost) by orders of magnitude.
                    bucket_key_enabled=args.kms_key_arn is not None,
                )
            ],
            opts=child,
        )
        if args.versioned:
            aws.s3.BucketVersioning(
                f"{name}-versioning",
                bucket=bucket_id,
                versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
                opts=child,
            )
            aws.s3.BucketLifecycleConfiguration(
                f"{name}-lifecycle",
                bucket=bucket_id,
                rules=[
                    aws.s3.BucketLifecycleConfigurationRuleArgs(
                        id="expire-noncurrent-versions" if args.expire_after_days is None else "expire-objects-and-noncurrent-versions",
                        status="Enabled",
                        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                        noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                            noncurrent_days=args.noncurrent_version_days
                        ),
                        abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                            days_after_initiation=7
                        ),
                        expiration=(
                            aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.expire_after_days)
                            if args.expire_after_days is not None
                            else None
                        ),
                    )
                ],
                opts=child,
            )
        if args.eventbridge_notifications:
            aws.s3.BucketNotification(f"{name}-notifications", bucket=bucket_id, eventbridge=True, opts=child)

        # The ARN from the bucket's name rather than its `arn` output: a name the provider knows
        # before the bucket exists (an auto-name, a fixed `bucket`) makes the policy known in a
        # first preview too, so the guardrails judge it there. A `bucket_prefix` name gets its
        # suffix from the provider, which the offline mocks answer at once; whether a real first
        # preview knows it only a real account shows (docs/gitops.md, bucket walls).
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self)).partition
        known_arn = pulumi.Output.format("arn:{0}:s3:::{1}", partition, self.bucket.bucket)
        tls_only = statement(
            ["s3:*"],
            [known_arn, pulumi.Output.concat(known_arn, "/*")],
            sid="DenyInsecureTransport",
            effect="Deny",
            principals={"AWS": "*"},
            conditions={"Bool": {"aws:SecureTransport": "false"}},
        )
        extra = args.extra_policy_statements(known_arn) if callable(args.extra_policy_statements) else args.extra_policy_statements
        if args.name_prefix is not None:
            extra = [*stack_wall(name, args.name_prefix, args.reader_stacks, tls_only["Resource"]), *extra]
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket_id,
            policy=policy_document(tls_only, *extra),
            # A policy written before the public access block could be judged public and refused.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access]),
        )

        self.name = self.bucket.bucket
        self.arn = self.bucket.arn
        self.register_outputs({"name": self.name, "arn": self.arn})
