"""Deletion protection: what holds state survives a careless rename or `pulumi destroy`.

A rename replaces a resource (delete, then create); a destroy deletes it. Where AWS offers a switch
that refuses the delete (databases, clusters, load balancers, user pools, ledgers, policy stores,
EMR clusters), prod turns it on: the engine then stops instead of losing the data, the users or
the DNS name clients know (AWS Config rds-instance-deletion-protection-enabled,
elb-deletion-protection-enabled, dynamodb-table-deletion-protection-enabled; Checkov CKV_AWS_150,
CKV_AWS_139). Dev turns it off on purpose (policies/config/dev.json): its stacks are thrown away.
"""

from __future__ import annotations

from typing import Any, Callable

from pulumi_policy import ResourceValidationArgs

from guardrails import data_stores, logs
from guardrails.common import bullet_list, peek, truthy
from guardrails.schema_class import SchemaClass

# Property -> the value that protects (True, or the enum text some services use).
PROTECTING = {
    "deletionProtection": ("true", "ACTIVE"),
    "deletionProtectionEnabled": ("true",),
    "enableDeletionProtection": ("true",),
    "terminationProtection": ("true",),
}

PROTECTION = SchemaClass(
    PROTECTING,
    {
        data_stores.RDS_INSTANCE: "judged by rds-protected",
        data_stores.RDS_CLUSTER: "judged by rds-protected",
        data_stores.DYNAMODB_TABLE: "judged by dynamodb-table-protected",
        logs.LOG_GROUP: (
            "the program's log groups belong to a function or service and are replaced with it; their content is kept by "
            "retention (log-group-retention), not by refusing the delete"
        ),
    },
)


def _protected(prop: str, value: Any) -> bool:
    return truthy(value) or str(value) in PROTECTING[prop]


def _check(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    props = sorted(PROTECTION.member_properties(args.resource_type))
    values = {p: peek(args.props, p) for p in props}
    if any(_protected(p, v) for p, v in values.items()):
        return
    problems = [f"{p} is {v if v is not None else 'unset (off)'}" for p, v in values.items()]
    report(
        f"{args.resource_type} '{args.name}' can be deleted by a rename or a destroy:{bullet_list(problems)}\n"
        f"Set {props[0]} to {PROTECTING[props[0]][-1] if PROTECTING[props[0]][-1] != 'true' else 'True'}; turn it off in the "
        "same reviewed change that really retires the resource."
    )


deletion_protection = PROTECTION.policy(
    "deletion-protection",
    "Every pulumi-aws type with a deletion-protection switch (databases, clusters, load balancers, user pools, ...) has it on.",
    _check,
)

POLICIES = [deletion_protection]
