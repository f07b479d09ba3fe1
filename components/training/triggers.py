"""What starts the training pipeline and whom it tells (used by TrainingPipeline): EventBridge rules
for its schedule, new data in the data bucket, the endpoint's drift alarm and consumer accounts'
drift alarms; and notices of failed runs and newly approved model versions to the alarm topic."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws

from components.shared.event_delivery import alarm_enters_alarm, dead_letter_queue, retrying_target
from components.shared.iam import assume_role_policy, policy_document, statement

if TYPE_CHECKING:
    from components.training.args import TrainingPipelineArgs, TrainingResources

INCOMING_PREFIX = "incoming/"
# Every stack's drift alarm is named <prefix>-endpoint-drift (components.endpoint.model_endpoint.drift_alarm_name):
# the owner retrains on a consumer account's drift alarm whatever that stack's prefix is.
DRIFT_ALARM_SUFFIX = "-endpoint-drift"


def trigger_rules(
    name: str, args: TrainingPipelineArgs, training: TrainingResources, child: pulumi.ResourceOptions
) -> dict[str, aws.cloudwatch.EventRule]:
    """The EventBridge rules that start a run, each delivered with retries and a dead-letter queue."""
    events_role = aws.iam.Role(
        f"{name}-events-role",
        name=f"{args.name_prefix}-start-training",
        description="EventBridge rules that start the training pipeline",
        assume_role_policy=assume_role_policy("events.amazonaws.com"),
        opts=child,
    )
    aws.iam.RolePolicy(
        f"{name}-events-policy",
        role=events_role.id,
        policy=policy_document(statement(["sagemaker:StartPipelineExecution"], [training.pipeline.arn], sid="StartThisPipelineOnly")),
        opts=child,
    )
    rules: dict[str, aws.cloudwatch.EventRule] = {
        "schedule": aws.cloudwatch.EventRule(
            f"{name}-schedule",
            name=f"{args.name_prefix}-training-schedule",
            description="Periodic retraining",
            schedule_expression=args.schedule,
            opts=child,
        ),
        "new-data": aws.cloudwatch.EventRule(
            f"{name}-new-data",
            name=f"{args.name_prefix}-training-new-data",
            description=f"New training data under s3://<data bucket>/{INCOMING_PREFIX}",
            event_pattern=pulumi.Output.json_dumps(
                {
                    "source": ["aws.s3"],
                    "detail-type": ["Object Created"],
                    "detail": {"bucket": {"name": [training.data_bucket.name]}, "object": {"key": [{"prefix": INCOMING_PREFIX}]}},
                }
            ),
            opts=child,
        ),
    }
    if args.drift_alarm_name:
        rules["drift"] = aws.cloudwatch.EventRule(
            f"{name}-drift",
            name=f"{args.name_prefix}-training-on-drift",
            description=f"Retrain when {args.drift_alarm_name} enters ALARM",
            event_pattern=alarm_enters_alarm(args.drift_alarm_name),
            opts=child,
        )
    if args.consumer_accounts:
        rules["consumer-drift"] = aws.cloudwatch.EventRule(
            f"{name}-consumer-drift",
            name=f"{args.name_prefix}-training-on-consumer-drift",
            description="Retrain when a consumer account's endpoint drift alarm enters ALARM",
            event_pattern=alarm_enters_alarm({"suffix": DRIFT_ALARM_SUFFIX}, account=list(args.consumer_accounts)),
            opts=child,
        )
    dead_letters = dead_letter_queue(
        f"{name}-trigger-dlq", f"{args.name_prefix}-training-trigger-dlq", args.kms_key_arn, list(rules.values()), child
    )
    for key, rule in rules.items():
        retrying_target(f"{name}-{key}-target", rule, training.pipeline.arn, events_role.arn, dead_letters, child)
    return rules


def notice_rules(name: str, args: TrainingPipelineArgs, training: TrainingResources, child: pulumi.ResourceOptions) -> None:
    """Failed runs and newly approved versions reach the alarm topic."""
    notices: dict[str, tuple[Any, str]] = {
        "failed": (
            {
                "source": ["aws.sagemaker"],
                "detail-type": ["SageMaker Model Building Pipeline Execution Status Change"],
                "detail": {"pipelineArn": [training.pipeline.arn], "currentPipelineExecutionStatus": ["Failed"]},
            },
            '"Training pipeline run <execution> failed. Open it in SageMaker Studio to see the failing step and its reason."',
        ),
        "approved": (
            {
                "source": ["aws.sagemaker"],
                "detail-type": ["SageMaker Model Package State Change"],
                "detail": {"ModelPackageGroupName": [training.model_package_group_name], "ModelApprovalStatus": ["Approved"]},
            },
            '"Model package <execution> was approved. Promote it with: python -m tools.promote --to dev --version <version>"',
        ),
    }
    paths = {
        "failed": {"execution": "$.detail.pipelineExecutionArn"},
        "approved": {"execution": "$.detail.ModelPackageArn", "version": "$.detail.ModelPackageVersion"},
    }
    for key, (pattern, template) in notices.items():
        rule = aws.cloudwatch.EventRule(
            f"{name}-{key}-notice",
            name=f"{args.name_prefix}-training-{key}",
            description=f"Notify the team: training {key}",
            event_pattern=pulumi.Output.json_dumps(pattern),
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-{key}-notice-target",
            rule=rule.name,
            arn=args.alarm_topic_arn,
            input_transformer=aws.cloudwatch.EventTargetInputTransformerArgs(input_paths=paths[key], input_template=template),
            opts=child,
        )
