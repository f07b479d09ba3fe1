"""What the Dashboard's Fargate task runs with: its health check (read from the Dockerfile), the
environment the Streamlit app reads, and its two roles (the ECS agent's and the app's).

Helpers of components/dashboard/streamlit_service.py: every resource they declare is a child of the Dashboard.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws

from components.shared.iam import assume_role_policy, ecr_pull_statements, policy_document, statement

if TYPE_CHECKING:
    from components.dashboard.args import DashboardArgs


def health_check_from_dockerfile(dockerfile: Path) -> dict[str, Any]:
    """The Dockerfile's HEALTHCHECK as an ECS container healthCheck (ECS ignores Docker's own), so
    the two can never drift apart."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip().upper().startswith("HEALTHCHECK ")]
    if len(lines) != 1:
        raise ValueError(f"{dockerfile}: expected exactly one HEALTHCHECK instruction, found {len(lines)}")
    options, _, command = lines[0][len("HEALTHCHECK ") :].partition("CMD ")
    if not command.strip().startswith("["):
        raise ValueError(f'{dockerfile}: HEALTHCHECK must use the exec form CMD ["..."] so ECS runs the same command')
    seconds = {}
    for option in shlex.split(options):
        key, _, value = option.lstrip("-").partition("=")
        seconds[key] = int(value.rstrip("s")) if value.endswith("s") else int(value)
    return {
        "command": ["CMD", *json.loads(command)],
        "interval": seconds.get("interval", 30),
        "timeout": seconds.get("timeout", 30),
        "retries": seconds.get("retries", 3),
        "startPeriod": seconds.get("start-period", 0),
    }


def app_environment(args: DashboardArgs) -> dict[str, pulumi.Input[str]]:
    """What containers/dashboard reads (mlops_dashboard/settings.py)."""
    env: dict[str, pulumi.Input[str]] = {"AWS_REGION": args.region, "MODEL_PACKAGE_GROUP": args.model_package_group_arn}
    if args.feature_names:
        env["FEATURE_NAMES"] = ",".join(args.feature_names)
    if args.endpoint is not None:
        env["ENDPOINT_NAME"] = args.endpoint.name
        if args.endpoint.drift_alarm is not None:
            env["DRIFT_ALARM_NAME"] = args.endpoint.drift_alarm.name
    if args.api is not None:
        env["PREDICTION_BACKEND"] = "api"
        env["API_URL"] = args.api.url
        env["API_AUTH"] = "iam"  # the route requires SigV4 in every stack: the app signs with the task role
    elif args.endpoint is not None:
        env["PREDICTION_BACKEND"] = "endpoint"
    return env


def _trust(args: DashboardArgs, account: pulumi.Input[str]) -> pulumi.Output[str]:
    # Only ECS tasks of this account and Region may assume the roles (confused-deputy guard).
    return assume_role_policy(
        "ecs-tasks.amazonaws.com",
        conditions={
            "StringEquals": {"aws:SourceAccount": account},
            "ArnLike": {"aws:SourceArn": pulumi.Output.format("arn:aws:ecs:{0}:{1}:*", args.region, account)},
        },
    )


def execution_role(
    name: str,
    args: DashboardArgs,
    account: pulumi.Input[str],
    repository_arn: pulumi.Input[str],
    log_group: aws.cloudwatch.LogGroup,
    parent: pulumi.Resource,
) -> aws.iam.Role:
    """What ECS needs to start the task: pull this image, write this log group."""
    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        f"{name}-execution-role",
        name=f"{args.name_prefix}-dashboard-execution",
        description="ECS agent for the dashboard tasks: image pull and logs",
        assume_role_policy=_trust(args, account),
        opts=child,
    )
    aws.iam.RolePolicy(
        f"{name}-execution-policy",
        role=role.id,
        policy=policy_document(
            *ecr_pull_statements(repository_arn, sid="PullDashboardImage"),
            statement(
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                [pulumi.Output.concat(log_group.arn, ":log-stream:*")],
                sid="WriteDashboardLogs",
            ),
        ),
        opts=child,
    )
    return role


def task_role(name: str, args: DashboardArgs, account: pulumi.Input[str], parent: pulumi.Resource) -> aws.iam.Role:
    """What the app calls (containers/dashboard), on this stack's resources only."""
    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        f"{name}-task-role",
        name=f"{args.name_prefix}-dashboard-task",
        description="The Streamlit dashboard: read the registry, metrics and alarms; request predictions",
        assume_role_policy=_trust(args, account),
        opts=child,
    )

    group = pulumi.Output.from_input(args.model_package_group_name).apply(str.lower)  # SageMaker lower-cases group names in ARNs
    statements = [
        # ListModelPackages has no resource-level permissions: AWS only accepts "*".
        statement(["sagemaker:ListModelPackages"], ["*"], sid="ListModelVersions"),
        statement(
            ["sagemaker:DescribeModelPackage"],
            [
                pulumi.Output.format(
                    "arn:aws:sagemaker:{0}:{1}:model-package/{2}/*", args.region, args.registry_account_id or account, group
                )
            ],
            sid="ReadModelVersions",
        ),
        statement(
            ["s3:GetObject"],
            [pulumi.Output.format("{0}/pipelines/{1}/*/evaluation/evaluation.json", args.artifact_bucket_arn, args.pipeline_name)],
            sid="ReadEvaluationReports",
        ),
        statement(
            ["kms:Decrypt"],
            [args.registry_kms_key_arn or args.kms_key_arn],
            sid="DecryptEvaluationReports",
            conditions={"StringEquals": {"kms:ViaService": f"s3.{args.region}.amazonaws.com"}},
        ),
        # GetMetricData has no resource-level permissions: AWS only accepts "*".
        statement(["cloudwatch:GetMetricData"], ["*"], sid="ReadMetrics"),
    ]
    if args.endpoint is not None:
        statements.append(statement(["sagemaker:DescribeEndpoint"], [args.endpoint.arn], sid="DescribeEndpoint"))
        if args.endpoint.drift_alarm is not None:
            statements.append(statement(["cloudwatch:DescribeAlarms"], [args.endpoint.drift_alarm.arn], sid="ReadDriftAlarm"))
        if args.api is None:
            statements.append(statement(["sagemaker:InvokeEndpoint"], [args.endpoint.arn], sid="PredictFromEndpoint"))
    if args.api is not None:
        statements.append(statement(["execute-api:Invoke"], [args.api.invoke_arn], sid="PredictThroughApi"))
    aws.iam.RolePolicy(f"{name}-task-policy", role=role.id, policy=policy_document(*statements), opts=child)
    return role
