"""data-at-rest-project-key at its edges: stores the program does not declare yet (queue, file
system, volume, secret, cache, search domain, stream, delivery stream, warehouse, graph and document
databases), each with the project key, an AWS-managed key, no key and encryption switched off, plus
an unknown key reference of a first preview; and the class read from the provider's schema."""

from __future__ import annotations

import sys
from typing import Any, Optional

import pytest
from policy_testkit import KEY_ARN, PACK_DIR, UNKNOWN, Stack, analyze, analyze_cases, assert_case, assert_passes
from policy_testkit import Case as TableCase

sys.path.insert(0, str(PACK_DIR))
from guardrails import data_at_rest
from guardrails.provider_schema import all_resource_types

POLICY = "data-at-rest-project-key"


def Case(id_: str, type_: str, inputs: dict[str, Any], denied: Optional[str]) -> TableCase:
    return TableCase(POLICY, id_, type_, inputs, denied)


def store(id_: str, type_: str, with_key: dict[str, Any], aws_managed: dict[str, Any], base: Optional[dict[str, Any]] = None) -> list[Case]:
    """The same store with the project key (passes), an AWS-managed key and no key (both refused)."""
    base = base or {}
    return [
        Case(f"{id_}-project-key", type_, {**base, **with_key}, None),
        Case(f"{id_}-aws-managed", type_, {**base, **aws_managed}, "AWS-managed key"),
        Case(f"{id_}-no-key", type_, dict(base), "names no customer-managed KMS key"),
    ]


CASES = [
    *store("queue", "aws:sqs/queue:Queue", {"kmsMasterKeyId": KEY_ARN}, {"kmsMasterKeyId": "alias/aws/sqs"}),
    Case("queue-sse-sqs", "aws:sqs/queue:Queue", {"sqsManagedSseEnabled": True}, "names no customer-managed KMS key"),
    *store(
        "efs",
        "aws:efs/fileSystem:FileSystem",
        {"encrypted": True, "kmsKeyId": KEY_ARN},
        {"encrypted": True, "kmsKeyId": "alias/aws/elasticfilesystem"},
    ),
    Case("efs-switched-off", "aws:efs/fileSystem:FileSystem", {"encrypted": False, "kmsKeyId": KEY_ARN}, "switched off (encrypted)"),
    *store(
        "volume",
        "aws:ebs/volume:Volume",
        {"encrypted": True, "kmsKeyId": KEY_ARN},
        {"encrypted": True, "kmsKeyId": "alias/aws/ebs"},
        {"availabilityZone": "us-east-1a", "size": 10},
    ),
    *store("secret", "aws:secretsmanager/secret:Secret", {"kmsKeyId": KEY_ARN}, {"kmsKeyId": "alias/aws/secretsmanager"}),
    *store(
        "cache",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        {"atRestEncryptionEnabled": True, "kmsKeyId": KEY_ARN},
        {"atRestEncryptionEnabled": True, "kmsKeyId": "alias/aws/elasticache"},
        {"description": "d"},
    ),
    Case(
        "cache-switched-off",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        {"description": "d", "atRestEncryptionEnabled": False, "kmsKeyId": KEY_ARN},
        "atRestEncryptionEnabled",
    ),
    *store(
        "search",
        "aws:opensearch/domain:Domain",
        {"encryptAtRest": {"enabled": True, "kmsKeyId": KEY_ARN}},
        {"encryptAtRest": {"enabled": True, "kmsKeyId": "alias/aws/es"}},
    ),
    Case(
        "search-switched-off",
        "aws:opensearch/domain:Domain",
        {"encryptAtRest": {"enabled": False, "kmsKeyId": KEY_ARN}},
        "encryptAtRest.enabled",
    ),
    *store(
        "stream",
        "aws:kinesis/stream:Stream",
        {"encryptionType": "KMS", "kmsKeyId": KEY_ARN},
        {"encryptionType": "KMS", "kmsKeyId": "alias/aws/kinesis"},
    ),
    *store(
        "firehose",
        "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
        {"serverSideEncryption": {"enabled": True, "keyType": "CUSTOMER_MANAGED_CMK", "keyArn": KEY_ARN}},
        {"serverSideEncryption": {"enabled": True, "keyType": "AWS_OWNED_CMK", "keyArn": "alias/aws/firehose"}},
        {"destination": "extended_s3"},
    ),
    *store(
        "redshift",
        "aws:redshift/cluster:Cluster",
        {"encrypted": "true", "kmsKeyId": KEY_ARN},
        {"encrypted": "true", "kmsKeyId": "alias/aws/redshift"},
        {"clusterIdentifier": "c", "nodeType": "ra3.xlplus"},
    ),
    *store(
        "docdb",
        "aws:docdb/cluster:Cluster",
        {"storageEncrypted": True, "kmsKeyId": KEY_ARN},
        {"storageEncrypted": True, "kmsKeyId": "alias/aws/rds"},
    ),
    *store(
        "neptune",
        "aws:neptune/cluster:Cluster",
        {"storageEncrypted": True, "kmsKeyArn": KEY_ARN},
        {"storageEncrypted": True, "kmsKeyArn": "alias/aws/rds"},
    ),
    *store(
        "memorydb",
        "aws:memorydb/cluster:Cluster",
        {"kmsKeyArn": KEY_ARN},
        {"kmsKeyArn": "alias/aws/memorydb"},
        {"nodeType": "db.t4g.small", "aclName": "open-access"},
    ),
    # A key being created is unknown in a first preview: it is the project's key, not an AWS alias.
    Case("queue-unknown-key", "aws:sqs/queue:Queue", {"kmsMasterKeyId": UNKNOWN}, None),
    # Judged elsewhere (one way to do each thing): a dedicated guardrail owns these types.
    Case("log-group-owned-elsewhere", "aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": 30, "kmsKeyId": "alias/aws/logs"}, None),
]


@pytest.fixture(scope="module")
def table_result(pack):
    return analyze_cases(pack, CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_store_is_encrypted_with_a_customer_managed_key(table_result, case):
    assert_case(*table_result, case, *(["foundation.key_arn"] if case.denied else []))


def test_the_class_is_every_type_whose_schema_takes_a_key():
    everything = all_resource_types()
    covered = set(data_at_rest.types_covered(everything))
    assert len(covered) > 100
    stores = (
        "aws:sqs/queue:Queue",
        "aws:efs/fileSystem:FileSystem",
        "aws:ebs/volume:Volume",
        "aws:secretsmanager/secret:Secret",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "aws:opensearch/domain:Domain",
        "aws:kinesis/stream:Stream",
        "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
        "aws:redshift/cluster:Cluster",
        "aws:docdb/cluster:Cluster",
        "aws:neptune/cluster:Cluster",
        "aws:fsx/lustreFileSystem:LustreFileSystem",
        "aws:backup/vault:Vault",
    )
    assert set(stores) <= covered
    assert not covered & set(data_at_rest.NOT_JUDGED_HERE)
    keyed = {t for t, props in everything.items() if props & (data_at_rest.KEY_PROPERTIES | data_at_rest.ENCRYPTION_BLOCKS)}
    assert covered == keyed - set(data_at_rest.NOT_JUDGED_HERE)


def test_a_stack_of_stores_with_the_project_key_passes(pack):
    stack = Stack()
    for case in CASES:
        if case.denied is None:
            stack.add(case.type, case.id, case.inputs)
    assert_passes(analyze(pack, stack), POLICY)
