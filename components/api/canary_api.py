"""CanaryApi: `POST /predict` on an HTTP API, served by a Lambda alias that CodeDeploy moves.

The prediction function (code from `containers/api`) is published on every change; the `live`
alias is created once and afterwards moved only by CodeDeploy, through the LambdaCanaryRelease
resource (deployment group config, pre/post-traffic hooks, rollback on alarms). API Gateway and
its Lambda permission target the alias, never the function or a version.

This module declares the functions, the alias, the alarms and the release; components/api/http_api.py
the HTTP API, components/api/codedeploy_group.py the CodeDeploy deployment group, components/api/function_package.py
the code archive and its layer. All of them are children of the CanaryApi component.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple, Optional

import pulumi
import pulumi_aws as aws

from components.api.args import LOG_RETENTION_DAYS as LOG_RETENTION_DAYS
from components.api.args import CanaryApiArgs
from components.api.codedeploy_group import codedeploy_application_name, codedeploy_group, release_timeout_seconds
from components.api.function_package import (
    ARCHITECTURE,
    RUNTIME,
    described,
    pinned_powertools_version,
    powertools_layer_parameter,
    source_archive,
    source_digest,
)
from components.api.http_api import http_api
from components.api.lambda_release import ALIAS_IGNORE_CHANGES, LambdaCanaryRelease, LambdaCanaryReleaseArgs
from components.shared.iam import assume_role_policy, policy_document, statement

ALIAS_NAME = "live"
METRICS_NAMESPACE = "SageMakerMLOps/PredictApi"  # containers/api/predict.py's EMF namespace
SERVICE_NAME = "predict-api"
HOOK_SERVICE_NAME = "predict-api-hooks"
HOOK_NAME_PREFIX = "CodeDeployHook_"
HOOKS = {"pre-traffic": "hooks.pre_traffic.handler", "post-traffic": "hooks.post_traffic.handler"}
PREDICT_SUMMARY = "POST /predict: validates the request and calls the SageMaker endpoint"


def api_function_name(name_prefix: str) -> str:
    return f"{name_prefix}-predict"


def deployment_group_name(name_prefix: str) -> str:
    return f"{name_prefix}-predict-live"


def hook_function_name(name_prefix: str, phase: str) -> str:
    return f"{HOOK_NAME_PREFIX}{api_function_name(name_prefix)}-{phase}"


def lambda_log_group_name(function_name: str) -> str:
    """The log group Lambda writes to unless told otherwise; created here first, encrypted."""
    return f"/aws/lambda/{function_name}"


class _Hook(NamedTuple):
    function: aws.lambda_.Function
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup


class CanaryApi(pulumi.ComponentResource):
    function: aws.lambda_.Function
    alias: aws.lambda_.Alias
    release: LambdaCanaryRelease
    deployment_group: aws.codedeploy.DeploymentGroup
    alarms: dict[str, aws.cloudwatch.MetricAlarm]
    api: aws.apigatewayv2.Api
    function_name: str
    application_name: str
    deployment_group_name: str
    api_url: pulumi.Output[str]
    alias_arn: pulumi.Output[str]
    execute_api_arn: pulumi.Output[str]
    """`arn:aws:execute-api:<region>:<account>:<api>/*/POST/predict`: grant execute-api:Invoke on it."""

    def __init__(self, name: str, args: CanaryApiArgs, opts: Optional[pulumi.ResourceOptions] = None):
        # RunError: Pulumi prints the message without a stack trace.
        problems = args.problems()
        if problems:
            raise pulumi.RunError("invalid CanaryApi arguments: " + "; ".join(problems))
        try:
            code = source_archive(args.source_dir)
            description = described(PREDICT_SUMMARY, source_digest(Path(args.source_dir)))
            version = pinned_powertools_version(Path(args.source_dir) / "requirements.txt")
        except ValueError as exc:
            raise pulumi.RunError(f"CanaryApi cannot package the API: {exc}") from None
        super().__init__("sagemaker-mlops:api:CanaryApi", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.function_name = api_function_name(args.name_prefix)
        self.application_name = codedeploy_application_name(args.name_prefix)
        self.deployment_group_name = deployment_group_name(args.name_prefix)
        # insecure_value: the parameter is a public String, and `value` would mark the layer secret.
        powertools_layer = aws.ssm.get_parameter_output(
            name=powertools_layer_parameter(version), opts=pulumi.InvokeOutputOptions(parent=self)
        ).insecure_value

        self.function, self.alias = self._prediction_function(name, args, code, description, powertools_layer)
        hooks = {phase: self._hook_function(name, args, phase, handler, code, powertools_layer) for phase, handler in HOOKS.items()}
        # /aws/vendedlogs/: API Gateway delivers access logs through CloudWatch Logs' log delivery,
        # whose account-wide resource policy stays small for groups under this prefix.
        access_logs = self._log_group(f"{name}-access-logs", args, f"/aws/vendedlogs/apigateway/{args.name_prefix}-predict-access")
        self.api, stage, self.execute_api_arn = http_api(name, args, self.function, self.alias, access_logs, self)
        self.alarms = self._alarms(name, args, stage, child)
        application, self.deployment_group, codedeploy_policies = codedeploy_group(
            name, args, self.application_name, self.deployment_group_name, list(self.alarms.values()), self
        )
        hook_policies = [self._hook_policy(name, args, phase, hook) for phase, hook in hooks.items()]

        self.release = LambdaCanaryRelease(
            f"{name}-release",
            LambdaCanaryReleaseArgs(
                application_name=application.name,
                deployment_group_name=self.deployment_group.deployment_group_name,
                function_name=self.function.name,
                alias_name=self.alias.name,
                target_version=self.function.version,
                region=args.region,
                before_allow_traffic_hook=hooks["pre-traffic"].function.name,
                after_allow_traffic_hook=hooks["post-traffic"].function.name,
                timeout_seconds=release_timeout_seconds(args.deployment_config_name, args.hook_timeout_seconds),
            ),
            # The alarms must watch the new version, and the hooks be able to act, before any
            # traffic moves.
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[*self.alarms.values(), *(hook.function for hook in hooks.values()), *hook_policies, *codedeploy_policies],
            ),
        )

        self.api_url = pulumi.Output.concat(self.api.api_endpoint, "/predict")
        self.alias_arn = self.alias.arn
        self.register_outputs(
            {
                "api_url": self.api_url,
                "function_name": self.function_name,
                "alias_arn": self.alias_arn,
                "application_name": self.application_name,
                "deployment_group_name": self.deployment_group_name,
                "execute_api_arn": self.execute_api_arn,
                "released_version": self.release.released_version,
            }
        )

    # ---- functions -------------------------------------------------------------------------------
    def _log_group(self, name: str, args: CanaryApiArgs, log_group_name: str) -> aws.cloudwatch.LogGroup:
        return aws.cloudwatch.LogGroup(
            name,
            name=log_group_name,
            retention_in_days=args.log_retention_days,
            kms_key_id=args.kms_key_arn,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _lambda_role(self, name: str, role_name: str, description: str) -> aws.iam.Role:
        return aws.iam.Role(
            name,
            name=role_name,
            description=description,
            assume_role_policy=assume_role_policy("lambda.amazonaws.com"),
            opts=pulumi.ResourceOptions(parent=self),
        )

    @staticmethod
    def _telemetry_statements(log_group: aws.cloudwatch.LogGroup) -> list[dict]:
        return [
            statement(["logs:CreateLogStream", "logs:PutLogEvents"], [pulumi.Output.concat(log_group.arn, ":*")], sid="WriteOwnLogs"),
            # X-Ray accepts trace data only with Resource "*" (no resource-level permissions).
            statement(["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"], sid="WriteTraces"),
        ]

    def _prediction_function(self, name: str, args: CanaryApiArgs, code: pulumi.Archive, description: str, layer: pulumi.Output[str]):
        log_group = self._log_group(f"{name}-logs", args, lambda_log_group_name(self.function_name))
        role = self._lambda_role(
            f"{name}-role", f"{self.function_name}-lambda", "Prediction Lambda of sagemaker-mlops: invokes the endpoint"
        )
        policy = aws.iam.RolePolicy(
            f"{name}-role-policy",
            role=role.id,
            policy=policy_document(
                statement(["sagemaker:InvokeEndpoint"], [args.endpoint_arn], sid="InvokeThisEndpoint"),
                *self._telemetry_statements(log_group),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        function = aws.lambda_.Function(
            f"{name}-function",
            name=self.function_name,
            # Names the archive's code digest: the version an alias serves says which code it runs
            # (tools.promote --restore finds it in Git). It changes only with the code.
            description=description,
            role=role.arn,
            runtime=RUNTIME,
            architectures=[ARCHITECTURE],
            handler="predict.handler",
            code=code,
            layers=[layer],
            memory_size=args.memory_mb,
            timeout=args.timeout_seconds,
            # Every code or configuration change publishes a version for CodeDeploy to shift to.
            publish=True,
            reserved_concurrent_executions=args.reserved_concurrency,
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="Text", log_group=log_group.name),
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={
                    "ENDPOINT_NAME": args.endpoint_name,
                    "FEATURE_NAMES": ",".join(args.feature_names),
                    # No model version here: the API reports the one the answering model names
                    # (CustomAttributes), so a promotion publishes no Lambda version and a Lambda
                    # rollback cannot make the API misreport the endpoint's model.
                    "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
                    "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                }
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        # Created once on the first version; afterwards only CodeDeploy moves it (see
        # components/api/lambda_release.py): Pulumi must not undo a shift or a rollback.
        alias = aws.lambda_.Alias(
            f"{name}-alias",
            name=ALIAS_NAME,
            description="The version API Gateway serves; moved by CodeDeploy releases",
            function_name=function.name,
            function_version=function.version,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=ALIAS_IGNORE_CHANGES),
        )
        return function, alias

    def _hook_function(
        self, name: str, args: CanaryApiArgs, phase: str, handler: str, code: pulumi.Archive, layer: pulumi.Output[str]
    ) -> _Hook:
        function_name = hook_function_name(args.name_prefix, phase)
        log_group = self._log_group(f"{name}-{phase}-hook-logs", args, lambda_log_group_name(function_name))
        role = self._lambda_role(
            f"{name}-{phase}-hook-role", f"{args.name_prefix}-predict-{phase}-hook", f"CodeDeploy {phase} hook of the prediction API"
        )
        function = aws.lambda_.Function(
            f"{name}-{phase}-hook",
            name=function_name,
            description=f"CodeDeploy {phase} check of {self.function_name}: golden requests, endpoint health",
            role=role.arn,
            runtime=RUNTIME,
            architectures=[ARCHITECTURE],
            handler=handler,
            code=code,
            layers=[layer],
            memory_size=256,
            timeout=args.hook_timeout_seconds,
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="Text", log_group=log_group.name),
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={"ENDPOINT_NAME": args.endpoint_name, "POWERTOOLS_SERVICE_NAME": HOOK_SERVICE_NAME}
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return _Hook(function, role, log_group)

    def _hook_policy(self, name: str, args: CanaryApiArgs, phase: str, hook: _Hook) -> aws.iam.RolePolicy:
        statements = [
            statement(["codedeploy:GetDeployment"], [self.deployment_group.arn], sid="ReadThisDeploymentGroup"),
            # The IAM reference lists no resource type for PutLifecycleEventHookExecutionStatus: a
            # statement naming the deployment group's ARN would never match, and the hook could
            # not report, so every release would time out and roll back.
            statement(["codedeploy:PutLifecycleEventHookExecutionStatus"], ["*"], sid="ReportHookStatus"),
            # Versions and the alias (qualified ARNs): the pre-traffic hook calls the new version,
            # the post-traffic hook the alias.
            statement(["lambda:InvokeFunction"], [pulumi.Output.concat(self.function.arn, ":*")], sid="InvokeApiVersions"),
            statement(["sagemaker:DescribeEndpoint"], [args.endpoint_arn], sid="CheckEndpoint"),
            *self._telemetry_statements(hook.log_group),
        ]
        if phase == "post-traffic":
            # GetMetricData has no resource-level permissions: AWS only accepts "*".
            statements.append(statement(["cloudwatch:GetMetricData"], ["*"], sid="ReadNewVersionErrors"))
        return aws.iam.RolePolicy(
            f"{name}-{phase}-hook-policy", role=hook.role.id, policy=policy_document(*statements), opts=pulumi.ResourceOptions(parent=self)
        )

    # ---- alarms ----------------------------------------------------------------------------------
    def _alarms(
        self, name: str, args: CanaryApiArgs, stage: aws.apigatewayv2.Stage, child: pulumi.ResourceOptions
    ) -> dict[str, aws.cloudwatch.MetricAlarm]:
        actions = [args.alarm_topic_arn]
        alias_resource = f"{self.function_name}:{ALIAS_NAME}"
        common = dict(
            period=60,
            comparison_operator="GreaterThanThreshold",
            # No requests means no errors: an idle API must not look broken or block a release.
            treat_missing_data="notBreaching",
            alarm_actions=actions,
            ok_actions=actions,
            opts=child,
        )
        return {
            # Errors of the version being released, through the alias (ExecutedVersion): during a
            # canary this isolates the 10% on the new version from the old version's errors.
            "errors": aws.cloudwatch.MetricAlarm(
                f"{name}-errors-alarm",
                name=f"{args.name_prefix}-predict-new-version-errors",
                alarm_description=f"{alias_resource}: the newest version raised unhandled errors (rolls back a CodeDeploy release)",
                namespace="AWS/Lambda",
                metric_name="Errors",
                dimensions={"FunctionName": self.function_name, "Resource": alias_resource, "ExecutedVersion": self.function.version},
                statistic="Sum",
                evaluation_periods=1,
                threshold=0,
                **common,
            ),
            "duration": aws.cloudwatch.MetricAlarm(
                f"{name}-duration-alarm",
                name=f"{args.name_prefix}-predict-duration-p99",
                alarm_description=f"{alias_resource}: p99 duration above {args.duration_p99_threshold_ms} ms (rolls back a CodeDeploy release)",
                namespace="AWS/Lambda",
                metric_name="Duration",
                dimensions={"FunctionName": self.function_name, "Resource": alias_resource},
                extended_statistic="p99",
                evaluation_periods=3,
                datapoints_to_alarm=2,
                threshold=args.duration_p99_threshold_ms,
                # Percentiles over a handful of requests are noise: judge only full samples.
                evaluate_low_sample_count_percentiles="ignore",
                **common,
            ),
            "api_5xx": aws.cloudwatch.MetricAlarm(
                f"{name}-5xx-alarm",
                name=f"{args.name_prefix}-predict-api-5xx",
                alarm_description="POST /predict answered 5XX (rolls back a CodeDeploy release)",
                namespace="AWS/ApiGateway",
                metric_name="5xx",
                dimensions={"ApiId": self.api.id, "Stage": stage.name},
                statistic="Sum",
                evaluation_periods=1,
                threshold=0,
                **common,
            ),
        }
