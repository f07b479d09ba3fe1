"""RetrainOnDrift: a consumer stack's drift alarm starts the registry owner's training pipeline.

Same account: an EventBridge rule on this account's default bus targets the owner's pipeline, with
a role allowed only `sagemaker:StartPipelineExecution` on it. Another account: the documented
cross-account route: the rule targets the owner's default event bus (a role allowed only
`events:PutEvents` on it); the owner's bus policy admits this account and the owner's own rule
starts the pipeline (TrainingPipelineArgs.consumer_accounts). Either way the same four resources
are declared; which target they name follows from the two account ids.
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_aws as aws

from components.shared.event_delivery import alarm_enters_alarm, dead_letter_queue, retrying_target
from components.shared.iam import assume_role_policy, policy_document
from components.training.args import RetrainOnDriftArgs as RetrainOnDriftArgs


def retraining_target(account_id: str, registry_account_id: str, region: str, pipeline_arn: str) -> tuple[str, str]:
    """(target ARN, the one action the rule's role needs on it)."""
    if account_id == registry_account_id:
        return pipeline_arn, "sagemaker:StartPipelineExecution"
    return f"arn:aws:events:{region}:{registry_account_id}:event-bus/default", "events:PutEvents"


class RetrainOnDrift(pulumi.ComponentResource):
    rule: aws.cloudwatch.EventRule
    target_arn: pulumi.Output[str]

    def __init__(self, name: str, args: RetrainOnDriftArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("sagemaker-mlops:retraining:RetrainOnDrift", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        target = pulumi.Output.all(account, args.registry_account_id, args.pipeline_arn).apply(
            lambda v: retraining_target(v[0], v[1], args.region, v[2])
        )
        self.target_arn = target[0]

        role = aws.iam.Role(
            f"{name}-role",
            name=f"{args.name_prefix}-retrain-on-drift",
            description="EventBridge: the drift alarm starts the registry owner's training pipeline",
            assume_role_policy=assume_role_policy("events.amazonaws.com"),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-role-policy",
            role=role.id,
            # One action on one resource, both known only once the two account ids are.
            policy=policy_document({"Effect": "Allow", "Action": [target[1]], "Resource": [target[0]], "Sid": "StartOwnersPipelineOnly"}),
            opts=child,
        )
        self.rule = aws.cloudwatch.EventRule(
            f"{name}-rule",
            name=f"{args.name_prefix}-retrain-on-drift",
            description=f"Retrain in the registry's pipeline when {args.drift_alarm_name} enters ALARM",
            event_pattern=alarm_enters_alarm(args.drift_alarm_name),
            opts=child,
        )
        dead_letters = dead_letter_queue(f"{name}-dlq", f"{args.name_prefix}-retrain-on-drift-dlq", args.kms_key_arn, [self.rule], child)
        retrying_target(f"{name}-target", self.rule, self.target_arn, role.arn, dead_letters, child)
        self.register_outputs({"rule_arn": self.rule.arn, "target_arn": self.target_arn})
