"""Guardrails in a first preview: a reference whose value is still unknown (the output of a resource
being created) is judged as set; a known unsafe value is still refused; a value whose content is the
verdict stays "can't run" (judged at `pulumi up`, docs/preview.md)."""

from __future__ import annotations

from policy_testkit import UNKNOWN, Stack, analyze, assert_fails, assert_passes, findings

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def cant_run(result, policy: str) -> list:
    return [v for v in findings(result, policy) if v.message.startswith(f"can't run policy '{policy}'") and v.level == "advisory"]


def test_unknown_key_references_are_the_projects_keys_and_aws_managed_aliases_are_not(pack):
    s = Stack()
    s.add(LOG_GROUP, "logs", {"retentionInDays": 30, "kmsKeyId": UNKNOWN})
    s.add("aws:sns/topic:Topic", "topic", {"kmsMasterKeyId": UNKNOWN})
    s.add("aws:ecr/repository:Repository", "repo", {"encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": UNKNOWN}]})
    result = analyze(pack, s)
    for policy in ("log-group-encrypted", "sns-topic-encrypted", "ecr-repository-encrypted"):
        assert_passes(result, policy)
    bad = Stack()
    urn = bad.add(LOG_GROUP, "logs", {"retentionInDays": 30, "kmsKeyId": "alias/aws/logs"})
    topic = bad.add("aws:sns/topic:Topic", "topic", {"kmsMasterKeyId": "alias/aws/sns"})
    result = analyze(pack, bad)
    assert_fails(result, "log-group-encrypted", urn, "is not encrypted with the project's KMS key")
    assert_fails(result, "sns-topic-encrypted", topic, "AWS-managed key alias/aws/sns")


def test_an_unknown_source_arn_restricts_a_service_principal(pack):
    s = Stack()
    s.add(
        "aws:lambda/permission:Permission",
        "invoke",
        {"action": "lambda:InvokeFunction", "function": UNKNOWN, "principal": "apigateway.amazonaws.com", "sourceArn": UNKNOWN},
    )
    assert_passes(analyze(pack, s), "lambda-permission-restricted")
    bad = Stack()
    urn = bad.add(
        "aws:lambda/permission:Permission",
        "invoke",
        {"action": "lambda:InvokeFunction", "function": UNKNOWN, "principal": "apigateway.amazonaws.com"},
    )
    assert_fails(analyze(pack, bad), "lambda-permission-restricted", urn, "no source_arn")


def test_a_policy_document_that_is_unknown_is_judged_only_at_up(pack):
    s = Stack()
    s.add("aws:iam/rolePolicy:RolePolicy", "policy", {"role": UNKNOWN, "policy": UNKNOWN})
    result = analyze(pack, s)
    assert cant_run(result, "iam-no-wildcard-admin") and cant_run(result, "iam-passrole-scoped")
    assert not [v for v in result.violations if v.level == "mandatory"]
