"""How a new version of the prediction function reaches the `live` alias: CodeDeploy's predefined
Lambda configuration, its timing, and the application and deployment group with rollback on
failure and on alarms (used by CanaryApi; components/api/lambda_release.py starts the deployment)."""

from __future__ import annotations

from typing import NamedTuple, Sequence

import pulumi
import pulumi_aws as aws

from components.api.args import HOOK_TIMEOUT_BOUNDS_SECONDS, CanaryApiArgs
from components.api.deployment_config import traffic_shift_minutes
from components.config.api import LAMBDA_DEPLOYMENT_CONFIGS, codedeploy_config_name
from components.shared.iam import assume_role_policy, policy_document, statement

# AWSCodeDeployRoleForLambda lets CodeDeploy invoke only functions named CodeDeployHook_*.
CODEDEPLOY_LAMBDA_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda"
ROLLBACK_EVENTS = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]
TRIGGER_EVENTS = ["DeploymentSuccess", "DeploymentFailure", "DeploymentRollback"]
# Margin on top of traffic shifting and both hooks before the release gives up and rolls back.
RELEASE_MARGIN_MINUTES = 15


def codedeploy_application_name(name_prefix: str) -> str:
    return f"{name_prefix}-predict-api"


def release_timeout_seconds(deployment_config_name: str, hook_timeout_seconds: int) -> int:
    return (traffic_shift_minutes(deployment_config_name) + RELEASE_MARGIN_MINUTES) * 60 + 2 * hook_timeout_seconds


def longest_release_seconds() -> int:
    """The longest an API release may wait, over every `api.deploymentConfig` the stack schema accepts
    and the longest hooks CanaryApiArgs accepts. The CI job that applies a stack must outlive it
    (components/shared/apply_job.py)."""
    longest_hook = HOOK_TIMEOUT_BOUNDS_SECONDS[1]
    return max(release_timeout_seconds(codedeploy_config_name(name), longest_hook) for name in LAMBDA_DEPLOYMENT_CONFIGS)


class CodeDeployGroup(NamedTuple):
    application: aws.codedeploy.Application
    deployment_group: aws.codedeploy.DeploymentGroup
    role_policies: list[pulumi.Resource]
    """What the deployment group's role needs before a release may start."""


def codedeploy_group(
    name: str,
    args: CanaryApiArgs,
    application_name: str,
    deployment_group_name: str,
    alarms: Sequence[aws.cloudwatch.MetricAlarm],
    parent: pulumi.Resource,
) -> CodeDeployGroup:
    """The CodeDeploy application and deployment group that release a version to the alias:
    the configured traffic shifting, rollback on failure and on any of `alarms`."""
    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        f"{name}-codedeploy-role",
        name=f"{args.name_prefix}-predict-codedeploy",
        description="CodeDeploy shifts the prediction alias, invokes the CodeDeployHook_* functions, reads alarms, notifies",
        assume_role_policy=assume_role_policy("codedeploy.amazonaws.com"),
        opts=child,
    )
    managed = aws.iam.RolePolicyAttachment(
        f"{name}-codedeploy-managed", role=role.name, policy_arn=CODEDEPLOY_LAMBDA_POLICY_ARN, opts=child
    )
    # The managed policy allows sns:Publish; the topic is encrypted, so publishing also needs the key.
    notify = aws.iam.RolePolicy(
        f"{name}-codedeploy-notify",
        role=role.id,
        policy=policy_document(
            statement(
                ["kms:GenerateDataKey*", "kms:Decrypt"],
                [args.kms_key_arn],
                sid="PublishToEncryptedTopic",
                conditions={"StringEquals": {"kms:ViaService": f"sns.{args.region}.amazonaws.com"}},
            )
        ),
        opts=child,
    )
    application = aws.codedeploy.Application(f"{name}-codedeploy", name=application_name, compute_platform="Lambda", opts=child)
    group = aws.codedeploy.DeploymentGroup(
        f"{name}-deployment-group",
        app_name=application.name,
        deployment_group_name=deployment_group_name,
        service_role_arn=role.arn,
        deployment_config_name=args.deployment_config_name,
        deployment_style=aws.codedeploy.DeploymentGroupDeploymentStyleArgs(
            deployment_type="BLUE_GREEN", deployment_option="WITH_TRAFFIC_CONTROL"
        ),
        auto_rollback_configuration=aws.codedeploy.DeploymentGroupAutoRollbackConfigurationArgs(enabled=True, events=ROLLBACK_EVENTS),
        alarm_configuration=aws.codedeploy.DeploymentGroupAlarmConfigurationArgs(
            enabled=True,
            alarms=[alarm.name for alarm in alarms],
            # An alarm CodeDeploy cannot read must stop the release, not be skipped.
            ignore_poll_alarm_failure=False,
        ),
        trigger_configurations=[
            aws.codedeploy.DeploymentGroupTriggerConfigurationArgs(
                trigger_name=f"{args.name_prefix}-predict-releases",
                trigger_events=TRIGGER_EVENTS,
                trigger_target_arn=args.alarm_topic_arn,
            )
        ],
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[managed, notify]),
    )
    return CodeDeployGroup(application, group, [managed, notify])
