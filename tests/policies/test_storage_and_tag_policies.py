"""KMS, SNS, CloudWatch Logs, ECR, database and tag guardrails, both ways."""

from __future__ import annotations

from typing import Any

import pytest
from policy_testkit import (
    COMMON_TAGS,
    KEY_ARN,
    Case,
    Stack,
    analyze,
    analyze_cases,
    assert_case,
    assert_fails,
    assert_passes,
    findings,
    not_applicable,
)


def repository(stack: Stack, name: str = "model", **overrides: Any) -> str:
    inputs = {
        "name": f"mlops-prod-{name}",
        "imageTagMutability": "IMMUTABLE",
        "imageScanningConfiguration": {"scanOnPush": True},
        "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY_ARN}],
        **overrides,
    }
    return stack.add("aws:ecr/repository:Repository", name, {k: v for k, v in inputs.items() if v is not None})


def test_encrypted_rotating_retained_resources_pass(pack):
    stack = Stack()
    stack.add("aws:kms/key:Key", "key", {"enableKeyRotation": True})
    stack.add(
        "aws:kms/key:Key", "signing", {"customerMasterKeySpec": "RSA_2048", "keyUsage": "SIGN_VERIFY"}
    )  # KMS rotates symmetric keys only
    stack.add("aws:sns/topic:Topic", "alarms", {"kmsMasterKeyId": KEY_ARN})
    stack.add("aws:cloudwatch/logGroup:LogGroup", "logs", {"retentionInDays": 30, "kmsKeyId": KEY_ARN})
    repository(stack)
    result = analyze(pack, stack)
    for policy in (
        "kms-key-rotation",
        "sns-topic-encrypted",
        "log-group-retention",
        "log-group-encrypted",
        "ecr-scan-on-push",
        "ecr-immutable-tags",
        "ecr-repository-encrypted",
        "required-tags",
    ):
        assert_passes(result, policy)


def test_non_rotating_keys_and_unencrypted_topics_fail(pack):
    stack = Stack()
    key = stack.add("aws:kms/key:Key", "key", {"enableKeyRotation": False})
    plain = stack.add("aws:sns/topic:Topic", "plain", {})
    aws_key = stack.add("aws:sns/topic:Topic", "aws-key", {"kmsMasterKeyId": "alias/aws/sns"})
    result = analyze(pack, stack)
    assert_fails(result, "kms-key-rotation", key, "does not rotate", "enable_key_rotation=True")
    assert_fails(result, "sns-topic-encrypted", plain, "is not encrypted", "kms_master_key_id")
    assert_fails(result, "sns-topic-encrypted", aws_key, "uses the AWS-managed key alias/aws/sns")


def test_log_groups_without_retention_or_the_project_key_fail(pack):
    stack = Stack()
    forever = stack.add("aws:cloudwatch/logGroup:LogGroup", "forever", {"kmsKeyId": KEY_ARN})
    plain = stack.add("aws:cloudwatch/logGroup:LogGroup", "plain", {"retentionInDays": 0})
    result = analyze(pack, stack)
    assert_fails(result, "log-group-retention", forever, "keeps its events forever", "retention_in_days")
    assert_fails(result, "log-group-retention", plain, "keeps its events forever")
    assert_fails(result, "log-group-encrypted", plain, "is not encrypted with the project's KMS key", "kms_key_id")


def test_repositories_without_scanning_immutability_or_the_project_key_fail(pack):
    stack = Stack()
    unscanned = repository(stack, "unscanned", imageScanningConfiguration={"scanOnPush": False})
    mutable = repository(stack, "mutable", imageTagMutability=None)
    aes = repository(stack, "aes", encryptionConfigurations=[{"encryptionType": "AES256"}])
    aws_key = repository(stack, "aws-key", encryptionConfigurations=[{"encryptionType": "KMS"}])
    result = analyze(pack, stack)
    assert_fails(result, "ecr-scan-on-push", unscanned, "does not scan images on push", "scan_on_push=True")
    assert_fails(result, "ecr-immutable-tags", mutable, "has MUTABLE tags", "image_tag_mutability='IMMUTABLE'")
    assert_fails(result, "ecr-repository-encrypted", aes, "is not encrypted with the project's KMS key")
    assert_fails(result, "ecr-repository-encrypted", aws_key, "encryption_type='KMS'")


def test_untagged_resources_fail_and_provider_default_tags_count(pack):
    stack = Stack()
    stack.add("aws:sns/topic:Topic", "via-provider", {"kmsMasterKeyId": KEY_ARN})
    own_tags = stack.add(
        "aws:sns/topic:Topic", "own-tags", {"kmsMasterKeyId": KEY_ARN, "tags": {"Project": "p", "Environment": "prod"}}, tagged=False
    )
    result = analyze(pack, stack)
    assert_fails(result, "required-tags", own_tags, "missing required tags: Owner, CostCenter, ManagedBy")
    assert len([v for v in result.violations if v.policy == "required-tags"]) == 1


def test_databases_are_encrypted_private_and_protected(pack):
    stack = Stack()
    stack.add(
        "aws:rds/instance:Instance",
        "db",
        {
            "engine": "postgres",
            "storageEncrypted": True,
            "kmsKeyId": KEY_ARN,
            "publiclyAccessible": False,
            "deletionProtection": True,
            "finalSnapshotIdentifier": "db-final",
        },
    )
    stack.add(
        "aws:rds/cluster:Cluster",
        "aurora",
        {"engine": "aurora-postgresql", "storageEncrypted": True, "kmsKeyId": KEY_ARN, "deletionProtection": True},
    )
    stack.add(
        "aws:dynamodb/table:Table",
        "features",
        {
            "serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY_ARN},
            "pointInTimeRecovery": {"enabled": True},
            "deletionProtectionEnabled": True,
        },
    )
    result = analyze(pack, stack)
    assert_passes(result, "rds-protected")
    assert_passes(result, "dynamodb-table-protected")

    stack = Stack()
    db = stack.add("aws:rds/instance:Instance", "db", {"engine": "postgres", "publiclyAccessible": True, "skipFinalSnapshot": True})
    aws_key = stack.add(
        "aws:rds/cluster:Cluster", "aurora", {"engine": "aurora-postgresql", "storageEncrypted": True, "deletionProtection": True}
    )
    table = stack.add("aws:dynamodb/table:Table", "features", {"hashKey": "id"})
    result = analyze(pack, stack)
    assert_fails(
        result, "rds-protected", db, "storage is not encrypted", "publicly accessible", "deletion protection is off", "no final snapshot"
    )
    assert_fails(result, "rds-protected", aws_key, "AWS-managed aws/rds key")
    assert_fails(
        result,
        "dynamodb-table-protected",
        table,
        "not encrypted with the project key",
        "point-in-time recovery is off",
        "deletion protection is off",
    )


# ---- databases at their edges: each case breaks one setting of a protected store ----------------

RDS_INSTANCE, RDS_CLUSTER, TABLE = "aws:rds/instance:Instance", "aws:rds/cluster:Cluster", "aws:dynamodb/table:Table"
PROTECTED_DB = {"storageEncrypted": True, "kmsKeyId": KEY_ARN, "publiclyAccessible": False, "deletionProtection": True}
PROTECTED_TABLE = {
    "serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY_ARN},
    "pointInTimeRecovery": {"enabled": True},
    "deletionProtectionEnabled": True,
}


def _db(id_: str, type_: str, denied, **changes: Any) -> Case:
    inputs = {"engine": "postgres" if type_ == RDS_INSTANCE else "aurora-postgresql", **PROTECTED_DB, **changes}
    return Case("rds-protected", id_, type_, {k: v for k, v in inputs.items() if v is not None}, denied)


def _table(id_: str, denied, **changes: Any) -> Case:
    inputs = {"hashKey": "id", **PROTECTED_TABLE, **changes}
    return Case("dynamodb-table-protected", id_, TABLE, {k: v for k, v in inputs.items() if v is not None}, denied)


DB_CASES = [
    _db("instance-protected", RDS_INSTANCE, None),
    _db("cluster-protected", RDS_CLUSTER, None),
    _db("instance-unencrypted", RDS_INSTANCE, "storage is not encrypted", storageEncrypted=False, kmsKeyId=None),
    _db("cluster-unencrypted", RDS_CLUSTER, "storage is not encrypted", storageEncrypted=None, kmsKeyId=None),
    # Aurora Serverless v1 is always encrypted; its key must still be the project's
    _db("serverless-v1-project-key", RDS_CLUSTER, None, storageEncrypted=None, engineMode="serverless"),
    _db("serverless-v1-aws-key", RDS_CLUSTER, "AWS-managed aws/rds key", storageEncrypted=None, kmsKeyId=None, engineMode="serverless"),
    _db("aws-managed-alias", RDS_INSTANCE, "AWS-managed aws/rds key", kmsKeyId="alias/aws/rds"),
    _db("public", RDS_INSTANCE, "it is publicly accessible", publiclyAccessible=True),
    _db("unprotected", RDS_CLUSTER, "deletion protection is off", deletionProtection=False),
    _db("no-final-snapshot", RDS_INSTANCE, "deleting it takes no final snapshot", skipFinalSnapshot=True),
    _db("final-snapshot", RDS_INSTANCE, None, skipFinalSnapshot=False, finalSnapshotIdentifier="db-final"),
    _db("read-replica", RDS_INSTANCE, None, replicateSourceDb="db", storageEncrypted=None, kmsKeyId=None, deletionProtection=None),
    _table("table-protected", None),
    _table("table-aws-owned-key", "not encrypted with the project key", serverSideEncryption=None),
    _table("table-aws-managed-key", "not encrypted with the project key", serverSideEncryption={"enabled": True}),
    _table("table-encryption-off", "not encrypted with the project key", serverSideEncryption={"enabled": False, "kmsKeyArn": KEY_ARN}),
    _table("table-no-recovery", "point-in-time recovery is off", pointInTimeRecovery={"enabled": False}),
    _table("table-unprotected", "deletion protection is off", deletionProtectionEnabled=None),
]


@pytest.fixture(scope="module")
def db_result(pack):
    return analyze_cases(pack, DB_CASES)


@pytest.mark.parametrize("case", DB_CASES, ids=[c.id for c in DB_CASES])
def test_each_database_setting_is_required_on_its_own(db_result, case):
    result, urns = db_result
    message = assert_case(result, urns, case)
    if message is not None:  # one problem per case: only the setting the case breaks is reported
        assert message.count("\n  - ") == 1, message


# ---- tags -----------------------------------------------------------------------------------------


def test_the_pack_requires_the_five_common_tags_by_default(pack):
    """Judged with the pack's defaults (no policy config): each of the five tags is required."""
    stack = Stack()
    urns = {
        tag: stack.add("aws:sns/topic:Topic", f"without-{tag}", {"tags": {k: v for k, v in COMMON_TAGS.items() if k != tag}}, tagged=False)
        for tag in COMMON_TAGS
    }
    stack.add("aws:sns/topic:Topic", "all-five", {"tags": dict(COMMON_TAGS)}, tagged=False)
    result = analyze(pack, stack, config=None)
    assert sorted(v.urn for v in findings(result, "required-tags")) == sorted(urns.values())
    for tag, urn in urns.items():
        assert_fails(result, "required-tags", urn, f"is missing required tags: {tag}.")


def test_tags_all_computed_by_the_provider_is_what_aws_will_apply(pack):
    """In a real preview the provider's Check computes tagsAll (its default tags and the resource's
    own) into the inputs: it is read instead of recombining them, so a tag it lacks is missing
    whatever the defaults say."""
    stack = Stack()
    lacking = stack.add("aws:sns/topic:Topic", "lacking", {"tagsAll": {k: v for k, v in COMMON_TAGS.items() if k != "Owner"}})
    stack.add("aws:sns/topic:Topic", "complete", {"tagsAll": dict(COMMON_TAGS)}, tagged=False)
    blank = stack.add("aws:sns/topic:Topic", "blank-owner", {"tags": {"Owner": " "}})
    result = analyze(pack, stack)
    assert sorted(v.urn for v in findings(result, "required-tags")) == sorted([lacking, blank])  # not `complete`
    assert_fails(result, "required-tags", lacking, "is missing required tags: Owner.")


def test_each_finding_names_the_resource_the_problem_and_the_fix(pack):
    """The whole messages, as the preview prints them (the engine puts the policy's description first)."""
    stack = Stack()
    key = stack.add("aws:kms/key:Key", "key", {})
    plain = stack.add("aws:sns/topic:Topic", "plain", {})
    aws_key = stack.add("aws:sns/topic:Topic", "aws-key", {"kmsMasterKeyId": "alias/aws/sns"})
    logs = stack.add("aws:cloudwatch/logGroup:LogGroup", "logs", {})
    untagged = stack.add("aws:cloudwatch/logGroup:LogGroup", "untagged", {"retentionInDays": 30, "kmsKeyId": KEY_ARN}, tagged=False)
    db = stack.add(RDS_INSTANCE, "db", {"engine": "postgres", "publiclyAccessible": True, "skipFinalSnapshot": True})
    table = stack.add(TABLE, "features", {"hashKey": "id"})
    aurora = stack.add(RDS_CLUSTER, "aurora", {"engine": "aurora-postgresql", "storageEncrypted": True, "deletionProtection": True})
    result = analyze(pack, stack)
    assert assert_fails(result, "kms-key-rotation", key) == (
        "Customer-managed KMS keys rotate their key material.\n"
        "KMS key 'key' does not rotate. Set enable_key_rotation=True (KMS then rotates the key material every year; old data stays readable)."
    )
    sns = "SNS topics are encrypted with a customer-managed KMS key.\n"
    assert assert_fails(result, "sns-topic-encrypted", plain) == (
        f"{sns}SNS topic 'plain' is not encrypted. Set kms_master_key_id to the project KMS key (foundation.key_arn) so alarm "
        "payloads are encrypted at rest."
    )
    assert assert_fails(result, "sns-topic-encrypted", aws_key) == (
        f"{sns}SNS topic 'aws-key' uses the AWS-managed key alias/aws/sns, which CloudWatch alarms cannot use and the project "
        "cannot audit. Use the project KMS key (foundation.key_arn)."
    )
    assert assert_fails(result, "log-group-retention", logs) == (
        "CloudWatch log groups have a retention period.\n"
        "aws:cloudwatch/logGroup:LogGroup 'logs' keeps its events forever (no retention_in_days): logs with request data pile up "
        "and are billed indefinitely. Set retention_in_days (e.g. 30 in dev, 365 in prod)."
    )
    assert assert_fails(result, "log-group-encrypted", logs) == (
        "CloudWatch log groups are encrypted with a customer-managed KMS key.\n"
        "aws:cloudwatch/logGroup:LogGroup 'logs' is not encrypted with the project's KMS key. Set kms_key_id to the project KMS "
        "key ARN (its key policy lets logs.<region>.amazonaws.com use it for this account's log groups)."
    )
    assert assert_fails(result, "required-tags", untagged) == (
        "Every taggable AWS resource carries the required tags.\n"
        "aws:cloudwatch/logGroup:LogGroup 'untagged' is missing required tags: Project, Environment, Owner, CostCenter, ManagedBy. "
        "Give the resource the stack's aws provider (its default_tags carry the common tags) or set the tags on the resource."
    )
    assert assert_fails(result, "rds-protected", db) == (
        "RDS instances and Aurora clusters are encrypted with the project KMS key, private, deletion-protected and snapshotted on delete.\n"
        f"{RDS_INSTANCE} 'db' is not protected:\n"
        "  - storage is not encrypted (storage_encrypted is not True)\n"
        "  - it is publicly accessible (publicly_accessible=True)\n"
        "  - deletion protection is off (deletion_protection is not True)\n"
        "  - deleting it takes no final snapshot (skip_final_snapshot=True)\n"
        "Set storage_encrypted=True with kms_key_id=<the project KMS key ARN>, publicly_accessible=False (private subnets), "
        "deletion_protection=True and skip_final_snapshot=False with a final_snapshot_identifier."
    )
    assert assert_fails(result, "rds-protected", aurora).split("\n")[1:3] == [
        f"{RDS_CLUSTER} 'aurora' is not protected:",
        "  - storage is encrypted with the AWS-managed aws/rds key (no kms_key_id)",
    ]
    assert assert_fails(result, "dynamodb-table-protected", table) == (
        "DynamoDB tables are encrypted with the project KMS key, have point-in-time recovery and deletion protection.\n"
        f"{TABLE} 'features' is not protected:\n"
        "  - it is not encrypted with the project key (server_side_encryption enabled with kms_key_arn)\n"
        "  - point-in-time recovery is off: a bad write or delete cannot be undone\n"
        "  - deletion protection is off (deletion_protection_enabled is not True)\n"
        "Set server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True, kms_key_arn=<the project KMS "
        "key ARN>), point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True) and "
        "deletion_protection_enabled=True."
    )


def test_a_read_replica_says_why_it_is_not_judged(pack):
    stack = Stack()
    stack.add(RDS_INSTANCE, "replica", {"replicateSourceDb": "db", "instanceClass": "db.t3.medium"})
    assert not_applicable(analyze(pack, stack), "rds-protected") == [
        "a read replica inherits encryption and deletion settings from its source"
    ]
