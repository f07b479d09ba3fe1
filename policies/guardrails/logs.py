"""CloudWatch Logs: every log group expires its events and is encrypted with the project key."""

from __future__ import annotations

from typing import Callable

from pulumi_policy import ResourceValidationArgs

from guardrails.common import is_customer_managed_key, peek, resource_policy

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def _retention(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    days = args.props.get("retentionInDays")
    if not isinstance(days, (int, float)) or days <= 0:
        report(
            f"{args.resource_type} '{args.name}' keeps its events forever (no retention_in_days): logs with request data "
            "pile up and are billed indefinitely. Set retention_in_days (e.g. 30 in dev, 365 in prod)."
        )


def _encrypted(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    if not is_customer_managed_key(peek(args.props, "kmsKeyId")):
        report(
            f"{args.resource_type} '{args.name}' is not encrypted with the project's KMS key. Set kms_key_id to the project "
            "KMS key ARN (its key policy lets logs.<region>.amazonaws.com use it for this account's log groups)."
        )


log_group_retention = resource_policy("log-group-retention", "CloudWatch log groups have a retention period.", [LOG_GROUP], _retention)
log_group_encrypted = resource_policy(
    "log-group-encrypted", "CloudWatch log groups are encrypted with a customer-managed KMS key.", [LOG_GROUP], _encrypted
)

POLICIES = [log_group_retention, log_group_encrypted]
