"""StateBackend: an S3 bucket and a KMS key that hold Pulumi state, for teams not using Pulumi Cloud."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws
from access import STACKS, secrets_alias, secrets_provider

from components.shared.secure_bucket import SecureBucket, SecureBucketArgs


@dataclass(frozen=True)
class StateBackendArgs:
    name_prefix: str
    region: str
    # Old checkpoints are how a broken state is recovered: keep them longer than data versions.
    noncurrent_version_days: int = 90
    stacks: Sequence[str] = STACKS


class StateBackend(pulumi.ComponentResource):
    key: aws.kms.Key
    key_alias: str
    bucket: SecureBucket
    backend_url: pulumi.Output[str]
    secrets_keys: dict[str, aws.kms.Key]
    secrets_providers: dict[str, str]

    def __init__(self, name: str, args: StateBackendArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("sagemaker-mlops:bootstrap:StateBackend", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # The bucket's key encrypts the state objects (SSE-KMS); which stack's objects a role may
        # read is decided by its object grants. Each stack's secrets are encrypted again with that
        # stack's own key (its awskms:// secrets provider): dev's roles can never decrypt prod's.
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"{args.name_prefix}: Pulumi state objects",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            opts=child,
        )
        self.key_alias = f"alias/{args.name_prefix}-state"
        aws.kms.Alias(f"{name}-key-alias", name=self.key_alias, target_key_id=self.key.key_id, opts=child)
        self.bucket = SecureBucket(
            f"{name}-bucket",
            SecureBucketArgs(kms_key_arn=self.key.arn, versioned=True, noncurrent_version_days=args.noncurrent_version_days),
            opts=child,
        )
        # CI gets the role's credentials as environment variables (configure-aws-credentials).
        self.backend_url = pulumi.Output.format("s3://{0}?region={1}", self.bucket.name, args.region)
        self.secrets_keys = {}
        self.secrets_providers = {}
        for stack in args.stacks:
            key = aws.kms.Key(
                f"{name}-{stack}-secrets-key",
                description=f"{args.name_prefix}: secrets of the {stack} stack",
                enable_key_rotation=True,
                deletion_window_in_days=30,
                opts=child,
            )
            aws.kms.Alias(f"{name}-{stack}-secrets-alias", name=secrets_alias(stack), target_key_id=key.key_id, opts=child)
            self.secrets_keys[stack] = key
            self.secrets_providers[stack] = secrets_provider(stack, args.region)
        self.register_outputs(
            {
                "bucket": self.bucket.name,
                "key_arn": self.key.arn,
                "backend_url": self.backend_url,
                "secrets_providers": self.secrets_providers,
            }
        )
