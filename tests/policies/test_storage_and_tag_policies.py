"""KMS, SNS, CloudWatch Logs, ECR and tag guardrails, both ways."""

from __future__ import annotations

from typing import Any

from policy_testkit import KEY_ARN, Stack, analyze, assert_fails, assert_passes


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
