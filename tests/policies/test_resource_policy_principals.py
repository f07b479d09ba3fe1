"""resource-policy-trusted-principals at its edges: a table of statements (Allow/Deny, Principal
forms, NotPrincipal, NotAction, conditions that narrow and ones that do not, statements as a dict or
a list, documents as text or objects), each on a type the class finds in the provider's schema, all
judged in one engine session; plus property tests of the statement logic and the schema selection."""

from __future__ import annotations

import json
import sys
from typing import Any, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from policy_testkit import (
    ACCOUNT,
    PACK_DIR,
    PROJECT,
    UNKNOWN,
    Stack,
    analyze,
    analyze_cases,
    assert_case,
    assert_fails,
    assert_passes,
    findings,
)
from policy_testkit import Case as TableCase

sys.path.insert(0, str(PACK_DIR))
from guardrails import resource_policies
from guardrails.provider_schema import all_resource_types

from tools.docs import guardrails as docs_guardrails
from tools.offline.analyzer import PolicyPackProcess

POLICY = "resource-policy-trusted-principals"
OTHER = "999988887777"
QUEUE_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs"


def doc(*statements: dict[str, Any], as_text: bool = True, single: bool = False) -> Any:
    document = {"Version": "2012-10-17", "Statement": statements[0] if single else list(statements)}
    return json.dumps(document) if as_text else document


def allow(principal: Any, condition: Optional[dict] = None, key: str = "Principal", **extra: Any) -> dict[str, Any]:
    statement = {"Effect": "Allow", key: principal, "Action": "sqs:SendMessage", "Resource": QUEUE_ARN, **extra}
    if condition:
        statement["Condition"] = condition
    return statement


def Case(id_: str, type_: str, inputs: dict[str, Any], denied: Optional[str]) -> TableCase:
    return TableCase(POLICY, id_, type_, inputs, denied)


QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
BUCKET_KEYS = "arn:aws:s3:::b/*"  # an S3 ARN names no account
SAML_PROVIDER = f"arn:aws:iam::{ACCOUNT}:saml-provider/corporate"
# A value of each narrowing key that ties the caller to the stack's account or the organisation.
NARROWING_EXAMPLES = [
    ("aws:SourceArn", f"arn:aws:sns:us-east-1:{ACCOUNT}:topic"),
    ("aws:SourceAccount", ACCOUNT),
    ("aws:SourceOwner", ACCOUNT),
    ("aws:PrincipalAccount", ACCOUNT),
    ("aws:PrincipalArn", f"arn:aws:iam::{ACCOUNT}:role/r"),
    ("aws:PrincipalOrgID", "o-1"),
    ("aws:PrincipalOrgPaths", "o-1/r-ab12/ou-ab12-11111111/"),
    ("aws:SourceOrgID", "o-1"),
    ("aws:SourceOrgPaths", "o-1/r-ab12/ou-ab12-11111111/"),
    ("aws:SourceVpce", "vpce-0123"),
    ("aws:SourceVpc", "vpc-0123"),
    ("kms:CallerAccount", ACCOUNT),
]
FOREIGN_EXAMPLES = [
    ("aws:SourceArn", f"arn:aws:sns:us-east-1:{OTHER}:topic"),
    ("aws:SourceAccount", OTHER),
    ("aws:SourceOwner", OTHER),
    ("aws:PrincipalAccount", OTHER),
    ("aws:PrincipalArn", f"arn:aws:iam::{OTHER}:role/r"),
    ("kms:CallerAccount", OTHER),
]
CASES = [
    # Principal forms
    Case("star-string", QUEUE_POLICY, {"policy": doc(allow("*"))}, "allows any principal ('*')"),
    Case("star-aws", QUEUE_POLICY, {"policy": doc(allow({"AWS": "*"}))}, "allows any principal"),
    Case("star-in-list", QUEUE_POLICY, {"policy": doc(allow({"AWS": [f"arn:aws:iam::{ACCOUNT}:root", "*"]}))}, "allows any principal"),
    Case("own-account-root", QUEUE_POLICY, {"policy": doc(allow({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))}, None),
    Case("own-account-bare-id", QUEUE_POLICY, {"policy": doc(allow({"AWS": ACCOUNT}))}, None),
    Case("foreign-account-root", QUEUE_POLICY, {"policy": doc(allow({"AWS": f"arn:aws:iam::{OTHER}:root"}))}, f"account {OTHER}"),
    Case("foreign-account-id", QUEUE_POLICY, {"policy": doc(allow({"AWS": OTHER}))}, f"account {OTHER}"),
    Case("foreign-role", QUEUE_POLICY, {"policy": doc(allow({"AWS": f"arn:aws:iam::{OTHER}:role/x"}))}, f"account {OTHER}"),
    Case("foreign-assumed-role", QUEUE_POLICY, {"policy": doc(allow({"AWS": f"arn:aws:sts::{OTHER}:assumed-role/r/s"}))}, OTHER),
    Case("canonical-user", QUEUE_POLICY, {"policy": doc(allow({"CanonicalUser": "79a59df900b949e55d96a1e698fbaced"}))}, "CanonicalUser"),
    Case("unique-id", QUEUE_POLICY, {"policy": doc(allow({"AWS": "AIDAJQABLZS4A3QDU576Q"}))}, "cannot be attributed"),
    Case("service", QUEUE_POLICY, {"policy": doc(allow({"Service": "events.amazonaws.com"}))}, None),
    # Effect, NotPrincipal, NotAction
    Case("deny-star", QUEUE_POLICY, {"policy": doc({**allow("*"), "Effect": "Deny"})}, None),
    Case(
        "not-principal-allow",
        QUEUE_POLICY,
        {"policy": doc(allow({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, key="NotPrincipal"))},
        "NotPrincipal",
    ),
    Case(
        "not-principal-deny",
        QUEUE_POLICY,
        {"policy": doc({**allow({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, key="NotPrincipal"), "Effect": "Deny"})},
        None,
    ),
    Case(
        "not-action-star",
        QUEUE_POLICY,
        {"policy": doc({"Effect": "Allow", "Principal": "*", "NotAction": "sqs:DeleteQueue", "Resource": QUEUE_ARN})},
        "any principal",
    ),
    # Conditions that narrow, and ones that do not
    Case("org-id", QUEUE_POLICY, {"policy": doc(allow("*", {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}))}, None),
    Case("source-account-own", QUEUE_POLICY, {"policy": doc(allow("*", {"StringEquals": {"aws:SourceAccount": ACCOUNT}}))}, None),
    Case(
        "source-account-foreign", QUEUE_POLICY, {"policy": doc(allow("*", {"StringEquals": {"aws:SourceAccount": OTHER}}))}, "any principal"
    ),
    Case(
        "source-arn-own",
        QUEUE_POLICY,
        {"policy": doc(allow("*", {"ArnLike": {"aws:SourceArn": f"arn:aws:events:us-east-1:{ACCOUNT}:rule/*"}}))},
        None,
    ),
    Case(
        "source-arn-any-account",
        QUEUE_POLICY,
        {"policy": doc(allow("*", {"ArnLike": {"aws:SourceArn": "arn:aws:events:us-east-1:*:rule/*"}}))},
        "any principal",
    ),
    Case("source-vpce", QUEUE_POLICY, {"policy": doc(allow("*", {"StringEquals": {"aws:SourceVpce": "vpce-0123"}}))}, None),
    Case(
        "negated-operator",
        QUEUE_POLICY,
        {"policy": doc(allow("*", {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}))},
        "any principal",
    ),
    Case(
        "if-exists",
        QUEUE_POLICY,
        {"policy": doc(allow("*", {"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"}}))},
        "any principal",
    ),
    Case("wildcard-value", QUEUE_POLICY, {"policy": doc(allow("*", {"StringLike": {"aws:PrincipalOrgID": "*"}}))}, "any principal"),
    Case("unrelated-key", QUEUE_POLICY, {"policy": doc(allow("*", {"Bool": {"aws:SecureTransport": "true"}}))}, "any principal"),
    Case("null-operator", QUEUE_POLICY, {"policy": doc(allow("*", {"Null": {"aws:PrincipalOrgID": "false"}}))}, "any principal"),
    Case(
        "unrelated-key-positive-operator",
        QUEUE_POLICY,
        {"policy": doc(allow("*", {"StringEquals": {"aws:UserAgent": "curl"}}))},
        "any principal",
    ),
    # A narrowing test next to others: every operator and key of the Condition is read.
    Case(
        "tls-then-org",
        QUEUE_POLICY,
        {"policy": doc(allow("*", {"Bool": {"aws:SecureTransport": "true"}, "StringEquals": {"aws:PrincipalOrgID": "o-1"}}))},
        None,
    ),
    Case(
        "other-key-then-org",
        QUEUE_POLICY,
        {"policy": doc(allow("*", {"StringEquals": {"aws:UserAgent": "x", "aws:PrincipalOrgID": "o-1"}}))},
        None,
    ),
    Case(
        "foreign-then-org",
        QUEUE_POLICY,
        {"policy": doc(allow("*", {"StringEquals": {"aws:SourceAccount": OTHER, "aws:PrincipalOrgID": "o-1"}}))},
        None,
    ),
    # Document shapes
    Case("statement-dict", QUEUE_POLICY, {"policy": doc(allow("*"), single=True)}, "any principal"),
    Case("document-object", QUEUE_POLICY, {"policy": doc(allow("*"), as_text=False)}, "any principal"),
    Case("not-json", QUEUE_POLICY, {"policy": "not a document"}, "cannot be judged"),
    # The types the issue found open, and types the program does not declare
    Case("bucket", "aws:s3/bucketPolicy:BucketPolicy", {"bucket": "b", "policy": doc(allow("*"))}, "any principal"),
    Case("kms-key", "aws:kms/key:Key", {"enableKeyRotation": True, "policy": doc(allow("*"))}, "any principal"),
    Case(
        "kms-key-policy", "aws:kms/keyPolicy:KeyPolicy", {"keyId": "k", "policy": doc(allow({"AWS": f"arn:aws:iam::{OTHER}:root"}))}, OTHER
    ),
    Case("topic", "aws:sns/topicPolicy:TopicPolicy", {"arn": "t", "policy": doc(allow("*"))}, "any principal"),
    Case("ecr", "aws:ecr/repositoryPolicy:RepositoryPolicy", {"repository": "r", "policy": doc(allow("*"))}, "any principal"),
    Case("ecr-registry", "aws:ecr/registryPolicy:RegistryPolicy", {"policy": doc(allow({"AWS": OTHER}))}, OTHER),
    Case(
        "model-package-group",
        "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy",
        {"modelPackageGroupName": "g", "resourcePolicy": doc(allow("*"))},
        "any principal",
    ),
    Case("secret", "aws:secretsmanager/secretPolicy:SecretPolicy", {"secretArn": "s", "policy": doc(allow("*"))}, "any principal"),
    Case("event-bus", "aws:cloudwatch/eventBusPolicy:EventBusPolicy", {"policy": doc(allow("*"))}, "any principal"),
    Case("rest-api", "aws:apigateway/restApiPolicy:RestApiPolicy", {"restApiId": "a", "policy": doc(allow("*"))}, "any principal"),
    Case("efs", "aws:efs/fileSystemPolicy:FileSystemPolicy", {"fileSystemId": "f", "policy": doc(allow("*"))}, "any principal"),
    Case("opensearch", "aws:opensearch/domainPolicy:DomainPolicy", {"domainName": "d", "accessPolicies": doc(allow("*"))}, "any principal"),
    Case("glacier", "aws:glacier/vault:Vault", {"accessPolicy": doc(allow("*"))}, "any principal"),
    Case("backup", "aws:backup/vaultPolicy:VaultPolicy", {"backupVaultName": "v", "policy": doc(allow("*"))}, "any principal"),
    Case("queue-inline", "aws:sqs/queue:Queue", {"kmsMasterKeyId": "k", "policy": doc(allow("*"))}, "any principal"),
    Case("trust-foreign", "aws:iam/role:Role", {"assumeRolePolicy": doc(allow({"AWS": f"arn:aws:iam::{OTHER}:root"}))}, OTHER),
    Case("trust-service", "aws:iam/role:Role", {"assumeRolePolicy": doc(allow({"Service": "lambda.amazonaws.com"}))}, None),
    Case(
        "trust-github-any-repo",
        "aws:iam/role:Role",
        {"assumeRolePolicy": doc(allow({"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"}))},
        "token.actions.githubusercontent.com:sub",
    ),
    Case(
        "trust-github-one-repo",
        "aws:iam/role:Role",
        {
            "assumeRolePolicy": doc(
                allow(
                    {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"},
                    {"StringEquals": {"token.actions.githubusercontent.com:sub": "repo:org/repo:environment:prod"}},
                )
            )
        },
        None,
    ),
    # Types that grant one principal through properties
    Case(
        "lambda-star",
        "aws:lambda/permission:Permission",
        {"action": "lambda:InvokeFunction", "function": "f", "principal": "*"},
        "principal is '*'",
    ),
    Case(
        "lambda-star-org",
        "aws:lambda/permission:Permission",
        {"action": "lambda:InvokeFunction", "function": "f", "principal": "*", "principalOrgId": "o-1"},
        None,
    ),
    Case(
        "lambda-foreign",
        "aws:lambda/permission:Permission",
        {"action": "lambda:InvokeFunction", "function": "f", "principal": OTHER},
        OTHER,
    ),
    Case(
        "layer-star",
        "aws:lambda/layerVersionPermission:LayerVersionPermission",
        {"action": "lambda:GetLayerVersion", "layerName": "l", "versionNumber": 1, "principal": "*", "statementId": "s"},
        "principal is '*'",
    ),
    Case(
        "layer-org",
        "aws:lambda/layerVersionPermission:LayerVersionPermission",
        {
            "action": "lambda:GetLayerVersion",
            "layerName": "l",
            "versionNumber": 1,
            "principal": "*",
            "organizationId": "o-1",
            "statementId": "s",
        },
        None,
    ),
    # Endpoint policies filter callers inside the VPC: '*' is their norm
    Case(
        "vpc-endpoint",
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        {"vpcId": "v", "serviceName": "com.amazonaws.us-east-1.s3", "policy": doc(allow("*"))},
        None,
    ),
    # Identity policies have no principals: the iam-* guardrails judge them (not even an unreadable one here)
    *(
        Case(f"identity-{t.rpartition(':')[2]}", t, {"policy": "not a document", **extra}, None)
        for t, extra in (
            ("aws:iam/policy:Policy", {}),
            ("aws:iam/rolePolicy:RolePolicy", {"role": "r"}),
            ("aws:iam/userPolicy:UserPolicy", {"user": "u"}),
            ("aws:iam/groupPolicy:GroupPolicy", {"group": "g"}),
            ("aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy", {"vpcEndpointId": "e"}),
        )
    ),
    # Every narrowing key, with a value that ties the caller to a trusted account (or an id/path)
    *(
        Case(f"narrowed-by-{key}", QUEUE_POLICY, {"policy": doc(allow("*", {"StringEquals": {key: value}}))}, None)
        for key, value in NARROWING_EXAMPLES
    ),
    # Account and ARN keys narrow only to trusted accounts
    *(
        Case(f"foreign-{key}", QUEUE_POLICY, {"policy": doc(allow("*", {"StringEquals": {key: value}}))}, "any principal")
        for key, value in FOREIGN_EXAMPLES
    ),
    Case(
        "for-any-value-org", QUEUE_POLICY, {"policy": doc(allow("*", {"ForAnyValue:StringEquals": {"aws:PrincipalOrgID": ["o-1"]}}))}, None
    ),
    Case("empty-document", QUEUE_POLICY, {"policy": ""}, None),
    # ELB's log delivery accounts are trusted on bucket policies (access logs), nowhere else
    Case(
        "elb-logs-bucket-policy",
        "aws:s3/bucketPolicy:BucketPolicy",
        {"bucket": "b", "policy": doc(allow({"AWS": "arn:aws:iam::127311923021:root"}, Resource=f"arn:aws:s3:::b/AWSLogs/{ACCOUNT}/*"))},
        None,
    ),
    Case(
        "elb-account-on-a-queue",
        QUEUE_POLICY,
        {"policy": doc(allow({"AWS": "arn:aws:iam::127311923021:root"}))},
        "lets account 127311923021 in",
    ),
    Case(
        "own-account-named-by-a-service-source-arn",
        "aws:s3/bucketPolicy:BucketPolicy",
        {
            "bucket": "b",
            "policy": doc(
                allow(
                    {"Service": "delivery.logs.amazonaws.com"},
                    {"ArnLike": {"aws:SourceArn": f"arn:aws:logs:us-east-1:{ACCOUNT}:*"}},
                    Resource=BUCKET_KEYS,
                ),
                allow({"AWS": f"arn:aws:iam::{ACCOUNT}:role/reader"}, Resource=BUCKET_KEYS),
            ),
        },
        None,
    ),
    # Every key of an operator is read past one that does not narrow
    Case(
        "foreign-arn-then-org",
        QUEUE_POLICY,
        {"policy": doc(allow("*", {"StringEquals": {"aws:SourceArn": f"arn:aws:sns:us-east-1:{OTHER}:t", "aws:PrincipalOrgID": "o-1"}}))},
        None,
    ),
    # The own account is named by any statement's Resource, or by a service's positive source condition
    Case(
        "own-account-named-by-another-statement",
        QUEUE_POLICY,
        {"policy": doc(allow({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}), allow({"Service": "sns.amazonaws.com"}, Resource="*"))},
        None,
    ),
    Case(
        "own-account-named-by-a-service-condition",
        "aws:s3/bucketPolicy:BucketPolicy",
        {
            "bucket": "b",
            "policy": doc(
                allow({"Service": "logging.s3.amazonaws.com"}, {"StringEquals": {"aws:SourceAccount": ACCOUNT}}, Resource=BUCKET_KEYS),
                allow({"AWS": f"arn:aws:iam::{ACCOUNT}:role/reader"}, Resource=BUCKET_KEYS),
            ),
        },
        None,
    ),
    Case(
        "a-negated-service-condition-names-no-account",
        "aws:s3/bucketPolicy:BucketPolicy",
        {
            "bucket": "b",
            "policy": doc(
                allow({"Service": "logging.s3.amazonaws.com"}, {"StringNotEquals": {"aws:SourceAccount": OTHER}}, Resource=BUCKET_KEYS),
                allow({"AWS": f"arn:aws:iam::{OTHER}:role/reader"}, Resource=BUCKET_KEYS),
            ),
        },
        f"lets account {OTHER} in",
    ),
    # Every principal of a statement is read, a service's among them
    Case("service-and-foreign-account", QUEUE_POLICY, {"policy": doc(allow({"Service": "sns.amazonaws.com", "AWS": OTHER}))}, OTHER),
    Case(
        "federated-and-foreign-account",
        "aws:iam/role:Role",
        {
            "assumeRolePolicy": doc(
                allow({"Federated": SAML_PROVIDER, "AWS": OTHER}, {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}})
            )
        },
        OTHER,
    ),
    Case(
        "narrowed-star-and-foreign-account",
        QUEUE_POLICY,
        {"policy": doc(allow({"AWS": ["*", f"arn:aws:iam::{OTHER}:root"]}, {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}))},
        f"lets account {OTHER} in",
    ),
    Case(
        "principal-string-not-star",
        QUEUE_POLICY,
        {"policy": doc(allow("AIDAJQABLZS4A3QDU576Q"))},
        "names AWS principal 'AIDAJQABLZS4A3QDU576Q'",
    ),
    # SAML: the claims are SAML:aud/sub whatever the provider is called
    Case("saml-any-user", "aws:iam/role:Role", {"assumeRolePolicy": doc(allow({"Federated": SAML_PROVIDER}))}, "(SAML:sub or :aud)"),
    Case(
        "saml-audience",
        "aws:iam/role:Role",
        {
            "assumeRolePolicy": doc(
                allow({"Federated": SAML_PROVIDER}, {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}})
            )
        },
        None,
    ),
    Case(
        "foreign-identity-provider",
        "aws:iam/role:Role",
        {"assumeRolePolicy": doc(allow({"Federated": f"arn:aws:iam::{OTHER}:oidc-provider/token.actions.githubusercontent.com"}))},
        f"trusts identity provider arn:aws:iam::{OTHER}:oidc-provider/token.actions.githubusercontent.com of account {OTHER}",
    ),
    # A service principal or none on a permission: lambda-permission-restricted's concern
    Case(
        "lambda-service",
        "aws:lambda/permission:Permission",
        {"action": "lambda:InvokeFunction", "function": "f", "principal": "s3.amazonaws.com"},
        None,
    ),
    Case("lambda-no-principal", "aws:lambda/permission:Permission", {"action": "lambda:InvokeFunction", "function": "f"}, None),
    Case(
        "lambda-own-account-of-source",
        "aws:lambda/permission:Permission",
        {"action": "lambda:InvokeFunction", "function": "f", "principal": ACCOUNT, "sourceArn": f"arn:aws:s3:us-east-1:{ACCOUNT}:x"},
        None,
    ),
    Case(
        "lambda-unattributable",
        "aws:lambda/permission:Permission",
        {"action": "lambda:InvokeFunction", "function": "f", "principal": "AIDAJQABLZS4A3QDU576Q"},
        "principal 'AIDAJQABLZS4A3QDU576Q' cannot be attributed",
    ),
    Case(
        "event-bus-star",
        "aws:cloudwatch/eventPermission:EventPermission",
        {"principal": "*", "statementId": "s"},
        "principal is '*' and none of condition narrows it",
    ),
    Case(
        "event-bus-org",
        "aws:cloudwatch/eventPermission:EventPermission",
        {"principal": "*", "statementId": "s", "condition": {"key": "aws:PrincipalOrgID", "type": "StringEquals", "value": "o-1"}},
        None,
    ),
]


@pytest.fixture(scope="module")
def table_result(pack):
    return analyze_cases(pack, CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_statement_form_is_judged_as_aws_would_let_it_in(table_result, case):
    message = assert_case(*table_result, case)
    if message is not None:  # the remediation names the config, unless the document is unreadable
        assert "cannot be judged" in message or "registry.consumerAccounts" in message


def test_configured_accounts_are_trusted(pack):
    stack = Stack()
    urn = stack.add(QUEUE_POLICY, "partner", {"policy": doc(allow({"AWS": f"arn:aws:iam::{OTHER}:root"}))})
    assert_fails(analyze(pack, stack), POLICY, urn, OTHER)
    config = {"all": "mandatory", POLICY: {"trustedAccounts": [OTHER]}}
    assert_passes(analyze(pack, stack, config), POLICY)


def test_an_unknown_document_is_reported_as_unjudgeable_not_passed(pack):
    stack = Stack()
    stack.add(QUEUE_POLICY, "computed", {"queueUrl": UNKNOWN, "policy": UNKNOWN})
    result = analyze(pack, stack)
    cant = [v for v in findings(result, POLICY) if v.message.startswith(f"can't run policy '{POLICY}'")]
    assert cant and all(v.level == "advisory" for v in cant)


def test_the_class_is_every_type_with_a_policy_document_in_the_schema():
    everything = all_resource_types()
    covered = set(resource_policies.types_covered(everything))
    assert len(covered) > 80
    for type_ in ("aws:sqs/queuePolicy:QueuePolicy", "aws:glacier/vault:Vault", "aws:xray/resourcePolicy:ResourcePolicy"):
        assert type_ in covered
    # A type with a document property that the program never declares is selected by the schema alone.
    with_documents = {t for t, props in everything.items() if props & set(resource_policies.DOCUMENT_PROPERTIES)}
    assert covered == (with_documents - set(resource_policies.NOT_RESOURCE_POLICIES)) | set(resource_policies.PRINCIPAL_PROPERTY_TYPES)


PRINCIPALS = st.one_of(
    st.just("*"),
    st.sampled_from([ACCOUNT, OTHER]).map(lambda a: {"AWS": f"arn:aws:iam::{a}:root"}),
    st.sampled_from([ACCOUNT, OTHER]),
    st.just({"Service": "sns.amazonaws.com"}),
)
CONDITIONS = st.one_of(
    st.none(),
    st.just({"StringEquals": {"aws:PrincipalOrgID": "o-1"}}),
    st.just({"StringNotEquals": {"aws:PrincipalOrgID": "o-1"}}),
    st.sampled_from([ACCOUNT, OTHER]).map(lambda a: {"StringEquals": {"aws:SourceAccount": a}}),
)


@settings(max_examples=200, deadline=None)
@given(principal=PRINCIPALS, condition=CONDITIONS, effect=st.sampled_from(["Allow", "Deny"]))
def test_a_statement_is_refused_exactly_when_it_lets_in_someone_untrusted(principal, condition, effect):
    statement = {**allow(principal, condition), "Effect": effect}
    problems = resource_policies.statement_problems(statement, 0, {ACCOUNT})
    names = principal if isinstance(principal, str) else next(iter(principal.values()))
    untrusted = names == "*" or OTHER in names
    service = isinstance(principal, dict) and "Service" in principal
    narrowed = condition is not None and (
        condition.get("StringEquals", {}).get("aws:PrincipalOrgID") or condition.get("StringEquals", {}).get("aws:SourceAccount") == ACCOUNT
    )
    wildcard = names == "*"
    expected = effect == "Allow" and not service and untrusted and not (wildcard and narrowed)
    assert bool(problems) is bool(expected), (statement, problems)


def test_the_message_names_each_statement_and_the_ways_to_trust_a_caller(pack):
    """The whole finding as the preview prints it (the engine puts the policy's description first):
    statements by Sid or by position, every problem, the fix."""
    stack = Stack()
    queue = stack.add(
        QUEUE_POLICY,
        "open",
        {
            "policy": doc(
                {**allow("*"), "Sid": "Public"},
                allow({"AWS": f"arn:aws:iam::{OTHER}:root"}),
                allow({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, key="NotPrincipal"),
            )
        },
    )
    permission = stack.add(
        "aws:lambda/permission:Permission", "any", {"action": "lambda:InvokeFunction", "function": "f", "principal": "*"}
    )
    unattributed = stack.add(
        "aws:lambda/permission:Permission",
        "unattributed",
        {"action": "lambda:InvokeFunction", "function": "f", "principal": "AIDAJQABLZS4A3QDU576Q"},
    )
    unreadable = stack.add(QUEUE_POLICY, "unreadable", {"policy": "[1, 2]"})
    result = analyze(pack, stack)
    description = (
        "Resource-based policies (every pulumi-aws type carrying one) let in no '*' or foreign-account principal without "
        "a narrowing condition; accounts only when the stack's own or configured.\n"
    )
    fix = (
        "Name the caller: a service principal with an aws:SourceArn/aws:SourceAccount condition, or an account that is "
        "the stack's own, listed in registry.consumerAccounts (Pulumi.<stack>.yaml) or in this policy's trustedAccounts "
        "(policies/config/<stack>.json); narrow a '*' principal with StringEquals aws:PrincipalOrgID or aws:SourceVpce."
    )
    assert assert_fails(result, POLICY, queue) == (
        f"{description}{QUEUE_POLICY} 'open' lets in principals outside the trusted accounts:\n"
        "  - statement 'Public' allows any principal ('*') and no condition narrows it to a known caller "
        "(aws:SourceArn, aws:SourceAccount, aws:PrincipalOrgID, aws:SourceVpce ... with StringEquals/ArnLike)\n"
        f"  - statement 2 lets account {OTHER} in (arn:aws:iam::{OTHER}:root), which is not the stack's account or a configured one\n"
        f"  - statement 3 allows everyone except {{'AWS': 'arn:aws:iam::{ACCOUNT}:root'}} (Allow with NotPrincipal) and no condition narrows it\n"
        f"{fix}"
    )
    assert assert_fails(result, POLICY, permission) == (
        f"{description}aws:lambda/permission:Permission 'any' lets in principals outside the trusted accounts:\n"
        "  - principal is '*' and none of sourceArn, sourceAccount, principalOrgId narrows it\n"
        f"{fix}"
    )
    assert assert_fails(result, POLICY, unattributed) == (
        f"{description}aws:lambda/permission:Permission 'unattributed' lets in principals outside the trusted accounts:\n"
        "  - principal 'AIDAJQABLZS4A3QDU576Q' cannot be attributed to a trusted account\n"
        f"{fix}"
    )
    assert assert_fails(result, POLICY, unreadable) == (
        f"{description}{QUEUE_POLICY} 'unreadable''s policy cannot be judged: the document is not a JSON object. "
        "Write it as an IAM policy document (JSON)."
    )


def test_the_registry_consumers_and_the_allowed_accounts_of_the_stack_config_are_trusted():
    """The engine hands the pack the stack's config (PULUMI_CONFIG): registry.consumerAccounts and
    aws:allowedAccountIds are trusted; an account in neither is not."""
    consumer, allowed, stranger = "210987654321", "345678901234", "456789012345"
    engine = {
        "aws:region": "us-east-1",
        f"{PROJECT}:registry": json.dumps({"consumerAccounts": [consumer]}),
        "aws:allowedAccountIds": json.dumps([allowed]),
    }
    stack = Stack()
    urns = {
        a: stack.add(QUEUE_POLICY, f"to-{a}", {"policy": doc(allow({"AWS": f"arn:aws:iam::{a}:root"}))})
        for a in (consumer, allowed, stranger)
    }
    with PolicyPackProcess(PACK_DIR, PROJECT, "prod", engine) as configured:
        result = analyze(configured, stack)
    assert [v.urn for v in findings(result, POLICY)] == [urns[stranger]]


def test_the_docs_list_the_types_left_to_other_checks_with_the_reasons():
    """docs/policies.md's class table (generated) says why each type with a document is not judged here."""
    assert docs_guardrails.class_table() in (PACK_DIR.parent / "docs" / "policies.md").read_text()
