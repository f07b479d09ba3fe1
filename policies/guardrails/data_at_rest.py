"""Data at rest: every store pulumi-aws can declare is encrypted with a customer-managed key.

A queue, file system, volume, secret, cache, search domain, stream, delivery stream, warehouse or
database a change adds holds the same customer data the buckets do. Left to its default it is
unencrypted or encrypted with an AWS-managed key that the project's key policy, rotation and audit
do not govern. The class is every pulumi-aws type whose schema takes a KMS key (provider_schema):
a type the program adds later is judged the day it appears. Types a dedicated guardrail already
judges, or whose key encrypts no stored data, are listed in NOT_JUDGED_HERE with the reason.

The verdict: somewhere in its inputs (a top-level key or an encryption block) the resource names a
customer-managed key (any key but `alias/aws/...`; a key being created, unknown in a first preview,
counts), and no encryption switch in its inputs is off.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Callable, Iterable

from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy

from guardrails import data_stores, ecr, logs, network, sns
from guardrails.common import bullet_list, is_customer_managed_key, is_unknown, peek
from guardrails.provider_schema import input_properties
from guardrails.sagemaker_endpoint import ENDPOINT_CONFIG
from guardrails.sagemaker_jobs import DATA_QUALITY_JOB, PIPELINE

# Top-level inputs that name the key, and blocks that hold the key and the switch.
KEY_PROPERTIES = frozenset(
    {
        "kmsKeyId",
        "kmsKeyArn",
        "kmsMasterKeyId",
        "kmsKey",
        "kmsKeyIdentifier",
        "kmsArn",
        "encryptionKey",
        "encryptionKeyArn",
        "customerEncryptionKeyArn",
        "kmsEncryptionKey",
    }
)
ENCRYPTION_BLOCKS = frozenset(
    {
        "encryptAtRest",
        "serverSideEncryption",
        "encryptionConfiguration",
        "encryptionConfigurations",
        "encryptionConfig",
        "encryptionAtRestOptions",
        "encryptionInfo",
        "encryptionOptions",
        "kmsServerSideEncryption",
        "encryptionSpecification",
    }
)
# A property in these names a key: kmsKeyId, keyArn, kmsMasterKeyId, encryptionKey, kmsKey, ...
_KEY_NAME = re.compile(r"(kms.*(key|arn|id)|encryptionkey|^keyarn$|^keyid$|^kmskey$)", re.IGNORECASE)
# Switches that turn encryption off when false.
SWITCHES = frozenset({"encrypted", "storageEncrypted", "atRestEncryptionEnabled", "kmsEncrypted", "enabled", "encryptionEnabled"})

NOT_JUDGED_HERE: dict[str, str] = {
    **dict.fromkeys([logs.LOG_GROUP], "judged by log-group-encrypted"),
    **dict.fromkeys([sns.TOPIC], "judged by sns-topic-encrypted"),
    **dict.fromkeys([ecr.REPOSITORY], "judged by ecr-repository-encrypted"),
    **dict.fromkeys([data_stores.RDS_INSTANCE, data_stores.RDS_CLUSTER], "judged by rds-protected"),
    **dict.fromkeys([data_stores.DYNAMODB_TABLE], "judged by dynamodb-table-protected"),
    **dict.fromkeys([ENDPOINT_CONFIG, PIPELINE, DATA_QUALITY_JOB], "judged by sagemaker-kms-encryption"),
    **dict.fromkeys([network.INSTANCE], "judged by ec2-instance-hardened"),
    "aws:lambda/function:Function": (
        "kms_key_arn encrypts only environment variables, which Lambda encrypts at rest anyway and which hold no secrets "
        "here (secrets live in Secrets Manager, judged by this class)"
    ),
}


def _schema_key_properties(resource_type: str) -> frozenset[str]:
    properties = input_properties(resource_type) or frozenset()
    return properties & (KEY_PROPERTIES | ENCRYPTION_BLOCKS)


def judged(resource_type: str) -> bool:
    return resource_type not in NOT_JUDGED_HERE and bool(_schema_key_properties(resource_type))


def _keys_and_switches(value: Any, path: str = "") -> tuple[list[Any], list[str]]:
    """Every key reference under `value` and the path of every encryption switch that is off."""
    keys: list[Any] = []
    off: list[str] = []
    if isinstance(value, Mapping):
        for name in value:
            child = peek(value, name)
            where = f"{path}.{name}" if path else str(name)
            if _KEY_NAME.search(str(name)) and isinstance(child, str):
                keys.append(child)
            elif str(name) in SWITCHES and (child is False or (isinstance(child, str) and child.lower() == "false")):
                off.append(where)
            elif isinstance(child, (Mapping, list, tuple)):
                more_keys, more_off = _keys_and_switches(child, where)
                keys += more_keys
                off += more_off
    elif isinstance(value, (list, tuple)):
        for i, child in enumerate(value):
            more_keys, more_off = _keys_and_switches(child, f"{path}[{i}]")
            keys += more_keys
            off += more_off
    return keys, off


def encryption_problems(props: Mapping[str, Any], properties: Iterable[str]) -> list[str]:
    problems = []
    scope = {p: peek(props, p) for p in properties}
    top_switches = {s: peek(props, s) for s in SWITCHES if s != "enabled"}
    keys, off = _keys_and_switches({**scope, **{k: v for k, v in top_switches.items() if v is not None}})
    if off:
        problems.append(f"encryption is switched off ({', '.join(off)})")
    customer = [k for k in keys if is_unknown(k) or is_customer_managed_key(k)]
    if not customer:
        managed = [k for k in keys if isinstance(k, str) and k]
        problems.append(
            f"its data is encrypted with an AWS-managed key ({', '.join(managed)})"
            if managed
            else f"it names no customer-managed KMS key (none of {', '.join(sorted(properties))} is set to one)"
        )
    return problems


def _check(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    properties = _schema_key_properties(args.resource_type)
    problems = encryption_problems(args.props, properties)
    if problems:
        report(
            f"{args.resource_type} '{args.name}' is not encrypted at rest with the project's KMS key:{bullet_list(problems)}\n"
            f"Set {_hint(properties)} to the project KMS key (foundation.key_arn) and leave encryption on: an AWS-managed or "
            "AWS-owned key is outside the project's key policy, rotation and audit."
        )


def _hint(properties: Iterable[str]) -> str:
    ordered = sorted(properties, key=lambda p: (p not in KEY_PROPERTIES, p))
    return ordered[0] if ordered else "the key property"


def types_covered(all_types: Iterable[str]) -> list[str]:
    return sorted(t for t in all_types if judged(t))


# Selected by schema as each type arrives, not by a fixed list (common.resource_policy).
data_at_rest_project_key = ResourceValidationPolicy(
    name="data-at-rest-project-key",
    description="Every store pulumi-aws can declare (every type whose schema takes a KMS key) is encrypted with a customer-managed key.",
    validate=lambda args, report: _check(args, lambda message: report(message, None)) if judged(args.resource_type) else None,
)

POLICIES = [data_at_rest_project_key]
