"""SNS: topics are encrypted with a customer-managed KMS key."""

from pulumi_policy import ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from guardrails.common import peek

AWS_MANAGED_SNS_KEY = "alias/aws/sns"
TOPIC = "aws:sns/topic:Topic"


def _topic_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != TOPIC:
        return
    key = peek(args.props, "kmsMasterKeyId")
    if not key:
        report(
            f"SNS topic '{args.name}' is not encrypted. Set kms_master_key_id to the project KMS key "
            "(foundation.key_arn) so alarm payloads are encrypted at rest."
        )
    elif key == AWS_MANAGED_SNS_KEY:
        report(
            f"SNS topic '{args.name}' uses the AWS-managed key {AWS_MANAGED_SNS_KEY}, which CloudWatch "
            "alarms cannot use and the project cannot audit. Use the project KMS key (foundation.key_arn)."
        )


sns_topic_encrypted = ResourceValidationPolicy(
    name="sns-topic-encrypted",
    description="SNS topics are encrypted with a customer-managed KMS key.",
    validate=_topic_encrypted,
)

POLICIES = [sns_topic_encrypted]
