"""Every IAM role the program creates carries the permissions boundary that bootstrap/ creates.

The CI deploy roles may create or change an `mlops-<stack>-*` role only while
`iam:PermissionsBoundary` is this policy (bootstrap/access.py), so a role declared without it fails
with AccessDenied in a real account. One transformation on the program's components sets it on each
`aws.iam.Role` instead of every component repeating it.
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_aws as aws

# One boundary per stack, created by bootstrap/ in the stack's account (bootstrap/layout.py
# `boundary_name`): a role of one stack can never reach the other stack's resources.
BOUNDARY_POLICY_NAME = "sagemaker-mlops-{stack}-boundary"
ROLE_TYPE = "aws:iam/role:Role"


def boundary_arn(provider: Optional[pulumi.ProviderResource] = None, stack: Optional[str] = None) -> pulumi.Output[str]:
    """The stack's boundary ARN in the account and partition of the deploying credentials."""
    invoke = pulumi.InvokeOutputOptions(provider=provider)
    account = aws.get_caller_identity_output(opts=invoke).account_id
    partition = aws.get_partition_output(opts=invoke).partition
    name = BOUNDARY_POLICY_NAME.format(stack=stack or pulumi.get_stack())
    return pulumi.Output.format("arn:{0}:iam::{1}:policy/{2}", partition, account, name)


def with_permissions_boundary(arn: pulumi.Input[str]):
    """A resource transformation: roles get `permissions_boundary=arn` unless they set their own."""

    def transform(args: pulumi.ResourceTransformationArgs) -> Optional[pulumi.ResourceTransformationResult]:
        if args.type_ != ROLE_TYPE or args.props.get("permissions_boundary") is not None:
            return None
        return pulumi.ResourceTransformationResult(props={**args.props, "permissions_boundary": arn}, opts=args.opts)

    return transform
