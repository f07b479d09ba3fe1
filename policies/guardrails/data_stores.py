"""Databases an ML team adds next to the pipeline: RDS/Aurora (experiment metadata, a feature
store's offline tables, an app's data) and DynamoDB (online features, prediction logs).

Both hold the same customer data the buckets do, so they get the same bar: encrypted with the
project key, never reachable from the internet, recoverable, and not deletable by accident.
"""

from __future__ import annotations

from typing import Callable

from pulumi_policy import ResourceValidationArgs

from guardrails.common import (
    bullet_list,
    get_path,
    is_customer_managed_key,
    resource_policy,
    truthy,
)

RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
DYNAMODB_TABLE = "aws:dynamodb/table:Table"


def _rds(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    props = args.props
    problems = []
    if props.get("replicateSourceDb"):
        args.not_applicable("a read replica inherits encryption and deletion settings from its source")
        return
    if not truthy(props.get("storageEncrypted")) and props.get("engineMode") != "serverless":
        problems.append("storage is not encrypted (storage_encrypted is not True)")
    elif not is_customer_managed_key(props.get("kmsKeyId")):
        problems.append("storage is encrypted with the AWS-managed aws/rds key (no kms_key_id)")
    if truthy(props.get("publiclyAccessible")):
        problems.append("it is publicly accessible (publicly_accessible=True)")
    if not truthy(props.get("deletionProtection")):
        problems.append("deletion protection is off (deletion_protection is not True)")
    if truthy(props.get("skipFinalSnapshot")):
        problems.append("deleting it takes no final snapshot (skip_final_snapshot=True)")
    if problems:
        report(
            f"{args.resource_type} '{args.name}' is not protected:{bullet_list(problems)}\n"
            "Set storage_encrypted=True with kms_key_id=<the project KMS key ARN>, publicly_accessible=False (private "
            "subnets), deletion_protection=True and skip_final_snapshot=False with a final_snapshot_identifier."
        )


def _dynamodb(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    props = args.props
    problems = []
    # Without server_side_encryption the table uses an AWS-owned key the account cannot audit.
    if not truthy(get_path(props, "serverSideEncryption", "enabled")) or not is_customer_managed_key(
        get_path(props, "serverSideEncryption", "kmsKeyArn")
    ):
        problems.append("it is not encrypted with the project key (server_side_encryption enabled with kms_key_arn)")
    if not truthy(get_path(props, "pointInTimeRecovery", "enabled")):
        problems.append("point-in-time recovery is off: a bad write or delete cannot be undone")
    if not truthy(props.get("deletionProtectionEnabled")):
        problems.append("deletion protection is off (deletion_protection_enabled is not True)")
    if problems:
        report(
            f"{args.resource_type} '{args.name}' is not protected:{bullet_list(problems)}\n"
            "Set server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True, kms_key_arn=<the project KMS "
            "key ARN>), point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True) and "
            "deletion_protection_enabled=True."
        )


rds_protected = resource_policy(
    "rds-protected",
    "RDS instances and Aurora clusters are encrypted with the project KMS key, private, deletion-protected and snapshotted on delete.",
    [RDS_INSTANCE, RDS_CLUSTER],
    _rds,
)
dynamodb_table_protected = resource_policy(
    "dynamodb-table-protected",
    "DynamoDB tables are encrypted with the project KMS key, have point-in-time recovery and deletion protection.",
    [DYNAMODB_TABLE],
    _dynamodb,
)

POLICIES = [rds_protected, dynamodb_table_protected]
