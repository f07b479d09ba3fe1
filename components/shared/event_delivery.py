"""EventBridge targets that retry and keep what they could not deliver (one helper for every rule)."""

from __future__ import annotations

import json
from typing import Any, Sequence

import pulumi
import pulumi_aws as aws

from components.shared.iam import policy_document, statement


def alarm_enters_alarm(alarm_name: Any, **match: Any) -> str:
    """The event pattern of a CloudWatch alarm entering ALARM (`alarm_name`: a name or an
    EventBridge content filter such as {"suffix": …}); `match` adds top-level keys, e.g. account."""
    return json.dumps(
        {
            **match,
            "source": ["aws.cloudwatch"],
            "detail-type": ["CloudWatch Alarm State Change"],
            "detail": {"alarmName": [alarm_name], "state": {"value": ["ALARM"]}},
        }
    )


def dead_letter_queue(
    name: str, queue_name: str, kms_key_arn: pulumi.Input[str], rules: Sequence[aws.cloudwatch.EventRule], opts: pulumi.ResourceOptions
) -> aws.sqs.Queue:
    """An encrypted queue that only these rules' failed deliveries may reach."""
    queue = aws.sqs.Queue(name, name=queue_name, kms_master_key_id=kms_key_arn, message_retention_seconds=14 * 24 * 3600, opts=opts)
    aws.sqs.QueuePolicy(
        f"{name}-policy",
        queue_url=queue.url,
        policy=policy_document(
            statement(
                ["sqs:SendMessage"],
                [queue.arn],
                sid="EventBridgeDeadLetters",
                principals={"Service": "events.amazonaws.com"},
                conditions={"ArnEquals": {"aws:SourceArn": [r.arn for r in rules]}},
            )
        ),
        opts=opts,
    )
    return queue


def retrying_target(
    name: str,
    rule: aws.cloudwatch.EventRule,
    arn: pulumi.Input[str],
    role_arn: pulumi.Input[str],
    dead_letters: aws.sqs.Queue,
    opts: pulumi.ResourceOptions,
) -> aws.cloudwatch.EventTarget:
    """Retries for an hour, then parks the event in the dead-letter queue."""
    return aws.cloudwatch.EventTarget(
        name,
        rule=rule.name,
        arn=arn,
        role_arn=role_arn,
        dead_letter_config=aws.cloudwatch.EventTargetDeadLetterConfigArgs(arn=dead_letters.arn),
        retry_policy=aws.cloudwatch.EventTargetRetryPolicyArgs(maximum_event_age_in_seconds=3600, maximum_retry_attempts=3),
        opts=opts,
    )
