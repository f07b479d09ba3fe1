"""no-public-exposure, deletion-protection, iam-no-users and iam-no-privilege-escalation at their
edges, each a table of resources judged in one engine session; and each class read from the
provider's schema (types the program never declares are members)."""

from __future__ import annotations

import sys

import pytest
from policy_testkit import (
    PACK_DIR,
    UNKNOWN,
    Case,
    Stack,
    analyze,
    analyze_cases,
    assert_case,
    assert_passes,
    findings,
    policy_document,
    statement,
)

sys.path.insert(0, str(PACK_DIR))
from guardrails import deletion_protection, identities, public_exposure, transport
from guardrails.provider_schema import all_resource_types

EXPOSURE, DELETION, USERS, ESCALATION = "no-public-exposure", "deletion-protection", "iam-no-users", "iam-no-privilege-escalation"
TRANSIT = "encryption-in-transit"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
CASES = [
    Case(EXPOSURE, "redshift-public", "aws:redshift/cluster:Cluster", {"publiclyAccessible": True}, "publiclyAccessible is True"),
    Case(EXPOSURE, "redshift-private", "aws:redshift/cluster:Cluster", {"publiclyAccessible": False}, None),
    Case(EXPOSURE, "dms-public", "aws:dms/replicationInstance:ReplicationInstance", {"publiclyAccessible": "true"}, "publiclyAccessible"),
    Case(EXPOSURE, "broker-public", "aws:mq/broker:Broker", {"publiclyAccessible": True}, "publiclyAccessible"),
    Case(
        EXPOSURE, "subnet-public-ips", "aws:ec2/subnet:Subnet", {"vpcId": "v", "mapPublicIpOnLaunch": True}, "mapPublicIpOnLaunch is True"
    ),
    Case(EXPOSURE, "subnet-private", "aws:ec2/subnet:Subnet", {"vpcId": "v", "mapPublicIpOnLaunch": False}, None),
    Case(
        EXPOSURE,
        "launch-config-public",
        "aws:ec2/launchConfiguration:LaunchConfiguration",
        {"associatePublicIpAddress": True},
        "associatePublicIpAddress",
    ),
    Case(
        EXPOSURE,
        "notebook-default",
        "aws:sagemaker/notebookInstance:NotebookInstance",
        {"instanceType": "ml.t3.medium"},
        "unset, which defaults to Enabled",
    ),
    Case(EXPOSURE, "notebook-disabled", "aws:sagemaker/notebookInstance:NotebookInstance", {"directInternetAccess": "Disabled"}, None),
    Case(EXPOSURE, "unknown-switch", "aws:redshift/cluster:Cluster", {"publiclyAccessible": UNKNOWN}, None),
    Case(
        DELETION,
        "alb-unprotected",
        "aws:lb/loadBalancer:LoadBalancer",
        {"enableDeletionProtection": False},
        "enableDeletionProtection is False",
    ),
    Case(DELETION, "alb-default", "aws:alb/loadBalancer:LoadBalancer", {}, "unset (off)"),
    Case(DELETION, "alb-protected", "aws:lb/loadBalancer:LoadBalancer", {"enableDeletionProtection": True}, None),
    Case(DELETION, "pool-inactive", "aws:cognito/userPool:UserPool", {"deletionProtection": "INACTIVE"}, "deletionProtection is INACTIVE"),
    Case(DELETION, "pool-active", "aws:cognito/userPool:UserPool", {"deletionProtection": "ACTIVE"}, None),
    Case(DELETION, "docdb-off", "aws:docdb/cluster:Cluster", {"deletionProtection": False}, "deletionProtection"),
    Case(DELETION, "neptune-on", "aws:neptune/cluster:Cluster", {"deletionProtection": True}, None),
    Case(DELETION, "emr-off", "aws:emr/cluster:Cluster", {"terminationProtection": False}, "terminationProtection"),
    Case(USERS, "user", "aws:iam/user:User", {"name": "deployer"}, "creates or equips an IAM user"),
    Case(USERS, "access-key", "aws:iam/accessKey:AccessKey", {"user": "deployer"}, "creates or equips an IAM user"),
    Case(USERS, "login-profile", "aws:iam/userLoginProfile:UserLoginProfile", {"user": "deployer"}, "IAM user"),
    Case(USERS, "ssh-key", "aws:iam/sshKey:SshKey", {"username": "deployer", "encoding": "SSH", "publicKey": "k"}, "IAM user"),
    Case(USERS, "attachment-to-users", "aws:iam/policyAttachment:PolicyAttachment", {"policyArn": "p", "users": ["deployer"]}, "IAM user"),
    Case(USERS, "attachment-to-roles-only", "aws:iam/policyAttachment:PolicyAttachment", {"policyArn": "p", "roles": ["app"]}, None),
    Case(
        USERS,
        "role-is-fine",
        "aws:iam/role:Role",
        {
            "assumeRolePolicy": policy_document(
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            )
        },
        None,
    ),
    Case(
        ESCALATION,
        "put-role-policy-any",
        ROLE_POLICY,
        {"role": "r", "policy": policy_document(statement("iam:PutRolePolicy", "*"))},
        "iam:PutRolePolicy on every",
    ),
    Case(
        ESCALATION,
        "iam-wildcard-roles",
        ROLE_POLICY,
        {"role": "r", "policy": policy_document(statement("iam:Attach*", "arn:aws:iam::123456789012:role/*"))},
        "iam:AttachRolePolicy",
    ),
    Case(
        ESCALATION,
        "not-action-any",
        ROLE_POLICY,
        {"role": "r", "policy": policy_document({"Effect": "Allow", "NotAction": ["s3:*"], "Resource": "*"})},
        "iam:CreatePolicyVersion",
    ),
    Case(
        ESCALATION,
        "not-action-excluding-iam",
        ROLE_POLICY,
        {"role": "r", "policy": policy_document({"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"})},
        None,
    ),
    Case(
        ESCALATION,
        "scoped-to-one-role",
        ROLE_POLICY,
        {"role": "r", "policy": policy_document(statement("iam:PutRolePolicy", "arn:aws:iam::123456789012:role/app"))},
        None,
    ),
    Case(ESCALATION, "deny-any", ROLE_POLICY, {"role": "r", "policy": policy_document(statement("iam:*", "*", effect="Deny"))}, None),
    Case(
        ESCALATION,
        "read-only",
        ROLE_POLICY,
        {"role": "r", "policy": policy_document(statement(["iam:GetRole", "iam:ListRoles"], "*"))},
        None,
    ),
    Case(
        TRANSIT,
        "cache-plain",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        {"description": "d"},
        "transit_encryption_enabled is unset (off)",
    ),
    Case(
        TRANSIT,
        "cache-off",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        {"description": "d", "transitEncryptionEnabled": False},
        "is False",
    ),
    Case(
        TRANSIT,
        "cache-tls",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        {"description": "d", "transitEncryptionEnabled": True},
        None,
    ),
    Case(TRANSIT, "memorydb-default", "aws:memorydb/cluster:Cluster", {"nodeType": "db.t4g.small", "aclName": "a"}, None),
    Case(
        TRANSIT,
        "memorydb-off",
        "aws:memorydb/cluster:Cluster",
        {"nodeType": "db.t4g.small", "aclName": "a", "tlsEnabled": False},
        "tls_enabled is False",
    ),
    Case(TRANSIT, "search-http", "aws:opensearch/domain:Domain", {"nodeToNodeEncryption": {"enabled": True}}, "enforce_https is not True"),
    Case(
        TRANSIT,
        "search-plain-nodes",
        "aws:opensearch/domain:Domain",
        {"domainEndpointOptions": {"enforceHttps": True}, "nodeToNodeEncryption": {"enabled": False}},
        "node_to_node_encryption",
    ),
    Case(
        TRANSIT,
        "search-tls",
        "aws:opensearch/domain:Domain",
        {"domainEndpointOptions": {"enforceHttps": True}, "nodeToNodeEncryption": {"enabled": True}},
        None,
    ),
    Case(
        TRANSIT,
        "api-domain-tls10",
        "aws:apigateway/domainName:DomainName",
        {"domainName": "api.example.com", "securityPolicy": "TLS_1_0"},
        "TLS_1_0",
    ),
    Case(
        TRANSIT,
        "api-domain-tls12",
        "aws:apigateway/domainName:DomainName",
        {"domainName": "api.example.com", "securityPolicy": "TLS_1_2"},
        None,
    ),
]


@pytest.fixture(scope="module")
def table_result(pack):
    return analyze_cases(pack, CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_resource_is_judged_by_its_class(table_result, case):
    assert_case(*table_result, case)


def test_stacks_that_follow_each_class_pass(pack):
    stack = Stack()
    for case in CASES:
        if case.denied is None:
            stack.add(case.type, case.id, case.inputs)
    result = analyze(pack, stack)
    for policy in (EXPOSURE, DELETION, USERS, ESCALATION, TRANSIT):
        assert_passes(result, policy)


def test_deletion_protection_is_off_in_dev_on_purpose(pack):
    stack = Stack("dev")
    stack.add("aws:lb/loadBalancer:LoadBalancer", "alb", {"enableDeletionProtection": False})
    assert not findings(analyze(pack, stack), DELETION)


def test_each_class_is_read_from_the_schema():
    everything = all_resource_types()
    exposure = set(public_exposure.EXPOSURE.types_covered(everything))
    assert {"aws:redshift/cluster:Cluster", "aws:ec2/subnet:Subnet", "aws:sagemaker/notebookInstance:NotebookInstance"} <= exposure
    assert "aws:rds/instance:Instance" not in exposure  # rds-protected owns it
    protection = set(deletion_protection.PROTECTION.types_covered(everything))
    assert {"aws:lb/loadBalancer:LoadBalancer", "aws:cognito/userPool:UserPool", "aws:emr/cluster:Cluster"} <= protection
    transit = set(transport.TRANSPORT.types_covered(everything))
    assert {"aws:elasticache/replicationGroup:ReplicationGroup", "aws:opensearch/domain:Domain", "aws:memorydb/cluster:Cluster"} <= transit
    users = set(identities.types_covered(everything))
    assert {"aws:iam/user:User", "aws:iam/accessKey:AccessKey", "aws:iam/userLoginProfile:UserLoginProfile"} <= users
    assert "aws:iam/role:Role" not in users
