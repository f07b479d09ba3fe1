"""StateBackend: an S3 bucket and KMS keys that hold Pulumi state, for teams not using Pulumi Cloud,
with the grants the other account's CI roles need when the stacks live in two accounts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

import pulumi
import pulumi_aws as aws
from access import SECRETS_DECRYPT, SECRETS_ENCRYPT, STATE_READ, STATE_WRITE, Identity
from layout import PROJECT, STACKS, STATE_KEY_ALIAS, Layout, secrets_alias

from components.shared.secure_bucket import SecureBucket, SecureBucketArgs
from policies import state_objects


@dataclass(frozen=True)
class StateBackendArgs:
    layout: Layout
    identities: Sequence[Identity]
    # Old checkpoints are how a broken state is recovered: keep them longer than data versions.
    noncurrent_version_days: int = 90


def _foreign(args: StateBackendArgs, capability: str) -> dict[str, list[str]]:
    """stack -> ARNs of the CI roles in another account granted `capability` on it."""
    layout = args.layout
    out: dict[str, list[str]] = {}
    for identity in args.identities:
        account = layout.account(identity.stack)
        if identity.ci and account != layout.accounts["state"]:
            for c, stack in identity.grants:
                if c == capability:
                    out.setdefault(stack, []).append(layout.role_arn(account, identity.role_name()))
    return out


def _principal(layout: Layout, roles: Sequence[str]) -> dict[str, Any]:
    # The account root as principal and the roles by aws:PrincipalArn: the grant holds whichever
    # account is bootstrapped first (a role principal must exist when a policy names it).
    accounts = sorted({arn.split(":")[4] for arn in roles})
    return {
        "Principal": {"AWS": [layout.iam(a, "root") for a in accounts]},
        "Condition": {"ArnEquals": {"aws:PrincipalArn": sorted(roles)}},
    }


def cross_account_bucket_statements(args: StateBackendArgs) -> list[dict[str, Any]]:
    layout = args.layout
    out = []
    for stack, roles in sorted(_foreign(args, STATE_READ).items()):
        out.append(
            {
                "Sid": f"OtherAccountReads{stack.title()}State",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [f"{layout.state_bucket_arn}/.pulumi/meta.yaml", *state_objects(layout, stack)],
                **_principal(layout, roles),
            }
        )
        out.append(
            {
                "Sid": f"OtherAccountLists{stack.title()}",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": [layout.state_bucket_arn],
                **_principal(layout, roles),
            }
        )
    for stack, roles in sorted(_foreign(args, STATE_WRITE).items()):
        out.append(
            {
                "Sid": f"OtherAccountWrites{stack.title()}State",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:DeleteObject"],
                "Resource": state_objects(layout, stack),
                **_principal(layout, roles),
            }
        )
    return out


def key_policy(args: StateBackendArgs, alias: str) -> dict[str, Any]:
    layout = args.layout
    state = layout.accounts["state"]
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AccountAdministersKeyThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": layout.iam(state, "root")},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    if alias == STATE_KEY_ALIAS:
        readers = sorted(
            {r for roles in _foreign(args, STATE_READ).values() for r in roles}
            | {r for roles in _foreign(args, STATE_WRITE).values() for r in roles}
        )
        writers = sorted({r for roles in _foreign(args, STATE_WRITE).values() for r in roles})
        grants = [(readers, ["kms:Decrypt", "kms:DescribeKey"]), (writers, ["kms:Encrypt", "kms:GenerateDataKey"])]
    else:
        stack = next(s for s in STACKS if secrets_alias(s) == alias)
        grants = [
            (_foreign(args, SECRETS_DECRYPT).get(stack, []), ["kms:Decrypt", "kms:DescribeKey"]),
            (_foreign(args, SECRETS_ENCRYPT).get(stack, []), ["kms:Encrypt", "kms:GenerateDataKey"]),
        ]
    for index, (roles, actions) in enumerate(grants):
        if roles:
            statements.append(
                {"Sid": f"OtherAccountRoles{index}", "Effect": "Allow", "Action": actions, "Resource": "*", **_principal(layout, roles)}
            )
    return {"Version": "2012-10-17", "Statement": statements}


class StateBackend(pulumi.ComponentResource):
    bucket: SecureBucket
    secrets_keys: dict[str, aws.kms.Key]

    def __init__(self, name: str, args: StateBackendArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("sagemaker-mlops:bootstrap:StateBackend", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        layout = args.layout
        # The bucket's key encrypts the state objects (SSE-KMS); each stack's secrets are
        # encrypted again with that stack's own key: dev's roles can never decrypt prod's.
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"{PROJECT}: Pulumi state objects",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=pulumi.Output.json_dumps(key_policy(args, STATE_KEY_ALIAS)),
            opts=child,
        )
        aws.kms.Alias(f"{name}-key-alias", name=STATE_KEY_ALIAS, target_key_id=self.key.key_id, opts=child)

        def named(transform: pulumi.ResourceTransformationArgs) -> Optional[pulumi.ResourceTransformationResult]:
            # A fixed name: the other account's grants and the backend URL name it.
            if transform.type_ != "aws:s3/bucket:Bucket":
                return None
            props = {k: v for k, v in transform.props.items() if k != "bucket_prefix"}
            return pulumi.ResourceTransformationResult(props={**props, "bucket": layout.state_bucket}, opts=transform.opts)

        self.bucket = SecureBucket(
            f"{name}-bucket",
            SecureBucketArgs(
                kms_key_arn=self.key.arn,
                versioned=True,
                noncurrent_version_days=args.noncurrent_version_days,
                extra_policy_statements=cross_account_bucket_statements(args),
            ),
            opts=pulumi.ResourceOptions(parent=self, transformations=[named]),
        )
        self.secrets_keys = {}
        for stack in STACKS:
            key = aws.kms.Key(
                f"{name}-{stack}-secrets-key",
                description=f"{PROJECT}: secrets of the {stack} stack",
                enable_key_rotation=True,
                deletion_window_in_days=30,
                policy=pulumi.Output.json_dumps(key_policy(args, secrets_alias(stack))),
                opts=child,
            )
            aws.kms.Alias(f"{name}-{stack}-secrets-alias", name=secrets_alias(stack), target_key_id=key.key_id, opts=child)
            self.secrets_keys[stack] = key
        self.register_outputs({"bucket": self.bucket.name, "key_arn": self.key.arn})
