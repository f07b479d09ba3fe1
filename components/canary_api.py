"""CanaryApi: `POST /predict` on an HTTP API, served by a Lambda alias that CodeDeploy moves.

The prediction function (code from `containers/api`) is published on every change; the `live`
alias is created once and afterwards moved only by CodeDeploy, through the LambdaCanaryRelease
resource (deployment group config, pre/post-traffic hooks, rollback on alarms). API Gateway and
its Lambda permission target the alias, never the function or a version.

Packaging: the archive holds the source of `containers/api` only; Powertools comes from AWS's
public Powertools layer, resolved at deploy time from its public SSM parameter for exactly the
version `containers/api/requirements.txt` pins. Nothing is installed during `pulumi up`, and the
archive is the same bytes for the same source (Pulumi zips assets in name order with a constant
timestamp), so an unchanged API publishes no version and starts no deployment. The cost: boto3 and
botocore are the Lambda runtime's own (older than the pinned ones the tests ran), and the API's
own modules are not byte-compiled (they are small; whether the layer ships .pyc files is up to
AWS). The alternative, vendoring the pinned requirements into the archive, needs a pip install
with CPython 3.12 at every `pulumi up` (see containers/api/requirements.txt).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Optional, Sequence

import pulumi
import pulumi_aws as aws

from components.iam import assume_role_policy, policy_document, statement
from components.lambda_canary_release import ALIAS_IGNORE_CHANGES, LambdaCanaryRelease, LambdaCanaryReleaseArgs

API_SOURCE_DIR = "containers/api"  # relative to the project directory, the engine's working directory
# Only what the functions import or read: caches, local virtualenvs and editor files never reach
# the archive (and so never publish a version).
ARCHIVE_SUFFIXES = (".py", ".json")
ARCHIVE_EXCLUDED_DIRS = ("__pycache__", "tests", ".pytest_cache", ".venv", "venv")
ALIAS_NAME = "live"
ROUTE_KEY = "POST /predict"
STAGE_NAME = "$default"
RUNTIME = "python3.12"
ARCHITECTURE = "x86_64"
# AWS publishes the ARN of each Powertools layer release here (one parameter per version).
POWERTOOLS_LAYER_PARAMETER = "/aws/service/powertools/python/{architecture}/{runtime}/{version}"
METRICS_NAMESPACE = "SageMakerMLOps/PredictApi"  # containers/api/predict.py's EMF namespace
SERVICE_NAME = "predict-api"
HOOK_SERVICE_NAME = "predict-api-hooks"
# AWSCodeDeployRoleForLambda lets CodeDeploy invoke only functions named CodeDeployHook_*.
CODEDEPLOY_LAMBDA_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda"
HOOK_NAME_PREFIX = "CodeDeployHook_"
HOOKS = {"pre-traffic": "hooks.pre_traffic.handler", "post-traffic": "hooks.post_traffic.handler"}
ROLLBACK_EVENTS = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]
TRIGGER_EVENTS = ["DeploymentSuccess", "DeploymentFailure", "DeploymentRollback"]
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
# API Gateway waits 30 s at most for an integration.
INTEGRATION_TIMEOUT_MS = 30_000
# Margin on top of traffic shifting and both hooks before the release gives up and rolls back.
RELEASE_MARGIN_MINUTES = 15
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "caller": "$context.identity.userArn",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationStatus": "$context.integrationStatus",
    "integrationError": "$context.integrationErrorMessage",
    "integrationLatency": "$context.integrationLatency",
    "error": "$context.error.message",
}

_DEPLOYMENT_CONFIG = re.compile(
    r"^CodeDeployDefault\.Lambda(?:(?P<all>AllAtOnce)|Canary10Percent(?P<canary>\d+)Minutes|Linear10PercentEvery(?P<linear>\d+)Minutes?)$"
)
_POWERTOOLS_PIN = re.compile(r"^aws-lambda-powertools==(?P<version>\d+\.\d+\.\d+)\s*(#.*)?$", re.MULTILINE)


def api_function_name(name_prefix: str) -> str:
    return f"{name_prefix}-predict"


def hook_function_name(name_prefix: str, phase: str) -> str:
    return f"{HOOK_NAME_PREFIX}{api_function_name(name_prefix)}-{phase}"


def lambda_log_group_name(function_name: str) -> str:
    """The log group Lambda writes to unless told otherwise; created here first, encrypted."""
    return f"/aws/lambda/{function_name}"


def traffic_shift_minutes(deployment_config_name: str) -> int:
    """How long CodeDeploy's predefined Lambda configuration takes to shift all traffic."""
    match = _DEPLOYMENT_CONFIG.match(deployment_config_name)
    if match is None:
        raise ValueError(
            f"deployment config {deployment_config_name!r} is not a predefined CodeDeploy Lambda configuration "
            "(expected CodeDeployDefault.LambdaAllAtOnce, ...LambdaCanary10Percent<N>Minutes or ...LambdaLinear10PercentEvery<N>Minute(s))"
        )
    if match["all"]:
        return 0
    if match["canary"]:
        return int(match["canary"])
    return 10 * int(match["linear"])  # ten steps of 10%: generous by one interval


def release_timeout_seconds(deployment_config_name: str, hook_timeout_seconds: int) -> int:
    return (traffic_shift_minutes(deployment_config_name) + RELEASE_MARGIN_MINUTES) * 60 + 2 * hook_timeout_seconds


def pinned_powertools_version(requirements: Path) -> str:
    """The Powertools version containers/api/requirements.txt pins (the one the tests ran)."""
    try:
        text = requirements.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read {requirements}: {exc.strerror}") from None
    match = _POWERTOOLS_PIN.search(text)
    if match is None:
        raise ValueError(f"{requirements} does not pin aws-lambda-powertools==X.Y.Z; the layer version is taken from that pin")
    return match["version"]


def powertools_layer_parameter(version: str) -> str:
    return POWERTOOLS_LAYER_PARAMETER.format(architecture=ARCHITECTURE, runtime=RUNTIME, version=version)


def archive_files(source_dir: Path) -> list[str]:
    """Archive member names (POSIX, relative to `source_dir`), sorted."""
    if not (source_dir / "predict.py").is_file():
        raise ValueError(f"{source_dir} has no predict.py: run the program from the project directory (cwd is {Path.cwd()})")
    names = []
    for path in source_dir.rglob("*"):
        relative = path.relative_to(source_dir)
        if path.is_file() and path.suffix in ARCHIVE_SUFFIXES and not set(relative.parts[:-1]) & set(ARCHIVE_EXCLUDED_DIRS):
            names.append(relative.as_posix())
    return sorted(names)


def source_archive(source_dir: str) -> pulumi.AssetArchive:
    """The functions' code. Paths stay relative to the project directory: the asset is compared by
    content hash, and the state does not depend on where the checkout lives."""
    root = Path(source_dir)
    return pulumi.AssetArchive({name: pulumi.FileAsset(str(root / name)) for name in archive_files(root)})


def access_log_format() -> str:
    return json.dumps(ACCESS_LOG_FIELDS, separators=(",", ":"))


class _Hook(NamedTuple):
    function: aws.lambda_.Function
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup


@dataclass(frozen=True)
class CanaryApiArgs:
    name_prefix: str
    region: str
    kms_key_arn: pulumi.Input[str]
    alarm_topic_arn: pulumi.Input[str]
    endpoint_name: pulumi.Input[str]
    endpoint_arn: pulumi.Input[str]
    feature_names: Sequence[str]
    model_version: Optional[int]
    deployment_config_name: str
    """Full CodeDeploy name, e.g. CodeDeployDefault.LambdaCanary10Percent5Minutes."""
    throttle_rate: int
    throttle_burst: int
    require_iam_auth: bool
    """True: callers sign requests with SigV4 and need execute-api:Invoke on `execute_api_arn`."""
    log_retention_days: int
    reserved_concurrency: Optional[int] = None
    memory_mb: int = 512
    # Longer than the handler's worst case (2 attempts x (2 s connect + 10 s read) = 24 s) and
    # shorter than API Gateway's 30 s: a hung invocation ends as a Lambda error, which the
    # rollback alarm sees, rather than only as a gateway timeout.
    timeout_seconds: int = 29
    hook_timeout_seconds: int = 300
    duration_p99_threshold_ms: int = 3000
    source_dir: str = API_SOURCE_DIR

    def problems(self) -> list[str]:
        found = []
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            found.append(f"log_retention_days={self.log_retention_days} is not a CloudWatch Logs retention (one of {', '.join(map(str, LOG_RETENTION_DAYS))})")
        if min(self.throttle_rate, self.throttle_burst) < 1:
            found.append(f"throttle rate {self.throttle_rate} and burst {self.throttle_burst} must both be >= 1")
        if not 25 <= self.timeout_seconds < INTEGRATION_TIMEOUT_MS // 1000:
            found.append(f"timeout_seconds={self.timeout_seconds} must exceed the handler's 24 s worst case and stay under API Gateway's 30 s")
        if not 60 <= self.hook_timeout_seconds <= 900:
            found.append(f"hook_timeout_seconds={self.hook_timeout_seconds} must be 60..900 (the hooks keep 45 s in reserve to report)")
        if not self.feature_names:
            found.append("feature_names is empty")
        try:
            traffic_shift_minutes(self.deployment_config_name)
        except ValueError as exc:
            found.append(str(exc))
        return found


class CanaryApi(pulumi.ComponentResource):
    function: aws.lambda_.Function
    alias: aws.lambda_.Alias
    release: LambdaCanaryRelease
    deployment_group: aws.codedeploy.DeploymentGroup
    alarms: dict[str, aws.cloudwatch.MetricAlarm]
    api: aws.apigatewayv2.Api
    function_name: str
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
            version = pinned_powertools_version(Path(args.source_dir) / "requirements.txt")
        except ValueError as exc:
            raise pulumi.RunError(f"CanaryApi cannot package the API: {exc}") from None
        super().__init__("sagemaker-mlops:api:CanaryApi", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.function_name = api_function_name(args.name_prefix)
        self.deployment_group_name = f"{args.name_prefix}-predict-live"
        # insecure_value: the parameter is a public String, and `value` would mark the layer secret.
        powertools_layer = aws.ssm.get_parameter_output(
            name=powertools_layer_parameter(version), opts=pulumi.InvokeOutputOptions(parent=self)
        ).insecure_value

        self.function, self.alias = self._prediction_function(name, args, code, powertools_layer)
        hooks = {phase: self._hook_function(name, args, phase, handler, code, powertools_layer) for phase, handler in HOOKS.items()}
        self.api, stage, self.execute_api_arn = self._http_api(name, args, child)
        self.alarms = self._alarms(name, args, stage, child)
        application, self.deployment_group, codedeploy_policies = self._codedeploy(name, args, child)
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

    def _prediction_function(self, name: str, args: CanaryApiArgs, code: pulumi.Archive, layer: pulumi.Output[str]):
        log_group = self._log_group(f"{name}-logs", args, lambda_log_group_name(self.function_name))
        role = self._lambda_role(f"{name}-role", f"{self.function_name}-lambda", "Prediction Lambda of sagemaker-mlops: invokes the endpoint")
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
            description="POST /predict: validates the request and calls the SageMaker endpoint",
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
                    # A promotion changes it: the new model version is released through CodeDeploy too.
                    "MODEL_VERSION": "" if args.model_version is None else str(args.model_version),
                    "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
                    "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                }
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        # Created once on the first version; afterwards only CodeDeploy moves it (see
        # components/lambda_canary_release.py): Pulumi must not undo a shift or a rollback.
        alias = aws.lambda_.Alias(
            f"{name}-alias",
            name=ALIAS_NAME,
            description="The version API Gateway serves; moved by CodeDeploy releases",
            function_name=function.name,
            function_version=function.version,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=ALIAS_IGNORE_CHANGES),
        )
        return function, alias

    def _hook_function(self, name: str, args: CanaryApiArgs, phase: str, handler: str, code: pulumi.Archive, layer: pulumi.Output[str]) -> _Hook:
        function_name = hook_function_name(args.name_prefix, phase)
        log_group = self._log_group(f"{name}-{phase}-hook-logs", args, lambda_log_group_name(function_name))
        role = self._lambda_role(f"{name}-{phase}-hook-role", f"{args.name_prefix}-predict-{phase}-hook", f"CodeDeploy {phase} hook of the prediction API")
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
            statement(
                ["codedeploy:GetDeployment", "codedeploy:PutLifecycleEventHookExecutionStatus"],
                [self.deployment_group.arn],
                sid="ReportToThisDeploymentGroup",
            ),
            # Versions and the alias (qualified ARNs): the pre-traffic hook calls the new version,
            # the post-traffic hook the alias.
            statement(["lambda:InvokeFunction"], [pulumi.Output.concat(self.function.arn, ":*")], sid="InvokeApiVersions"),
            statement(["sagemaker:DescribeEndpoint"], [args.endpoint_arn], sid="CheckEndpoint"),
            *self._telemetry_statements(hook.log_group),
        ]
        if phase == "post-traffic":
            # GetMetricData has no resource-level permissions: AWS only accepts "*".
            statements.append(statement(["cloudwatch:GetMetricData"], ["*"], sid="ReadNewVersionErrors"))
        return aws.iam.RolePolicy(f"{name}-{phase}-hook-policy", role=hook.role.id, policy=policy_document(*statements), opts=pulumi.ResourceOptions(parent=self))

    # ---- HTTP API --------------------------------------------------------------------------------
    def _http_api(self, name: str, args: CanaryApiArgs, child: pulumi.ResourceOptions):
        api = aws.apigatewayv2.Api(
            f"{name}-http",
            name=f"{args.name_prefix}-predict",
            description="Churn predictions: POST /predict",
            protocol_type="HTTP",
            opts=child,
        )
        integration = aws.apigatewayv2.Integration(
            f"{name}-integration",
            api_id=api.id,
            integration_type="AWS_PROXY",
            integration_method="POST",
            integration_uri=self.alias.invoke_arn,
            payload_format_version="2.0",
            timeout_milliseconds=INTEGRATION_TIMEOUT_MS,
            opts=child,
        )
        aws.apigatewayv2.Route(
            f"{name}-route",
            api_id=api.id,
            route_key=ROUTE_KEY,
            target=pulumi.Output.concat("integrations/", integration.id),
            # prod: callers sign with SigV4 and need execute-api:Invoke on execute_api_arn. dev: open.
            authorization_type="AWS_IAM" if args.require_iam_auth else "NONE",
            opts=child,
        )
        # /aws/vendedlogs/: API Gateway delivers access logs through CloudWatch Logs' log delivery,
        # whose account-wide resource policy stays small for groups under this prefix.
        access_logs = self._log_group(f"{name}-access-logs", args, f"/aws/vendedlogs/apigateway/{args.name_prefix}-predict-access")
        stage = aws.apigatewayv2.Stage(
            f"{name}-stage",
            api_id=api.id,
            name=STAGE_NAME,
            auto_deploy=True,
            default_route_settings=aws.apigatewayv2.StageDefaultRouteSettingsArgs(
                throttling_rate_limit=float(args.throttle_rate),
                throttling_burst_limit=args.throttle_burst,
            ),
            access_log_settings=aws.apigatewayv2.StageAccessLogSettingsArgs(destination_arn=access_logs.arn, format=access_log_format()),
            opts=child,
        )
        execute_api_arn = pulumi.Output.concat(api.execution_arn, "/*/POST/predict")
        aws.lambda_.Permission(
            f"{name}-invoke-permission",
            statement_id="AllowThisHttpApiPostPredict",
            action="lambda:InvokeFunction",
            function=self.function.name,
            qualifier=self.alias.name,
            principal="apigateway.amazonaws.com",
            source_arn=execute_api_arn,
            opts=child,
        )
        return api, stage, execute_api_arn

    # ---- alarms ----------------------------------------------------------------------------------
    def _alarms(self, name: str, args: CanaryApiArgs, stage: aws.apigatewayv2.Stage, child: pulumi.ResourceOptions) -> dict[str, aws.cloudwatch.MetricAlarm]:
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

    # ---- CodeDeploy ------------------------------------------------------------------------------
    def _codedeploy(self, name: str, args: CanaryApiArgs, child: pulumi.ResourceOptions):
        role = aws.iam.Role(
            f"{name}-codedeploy-role",
            name=f"{args.name_prefix}-predict-codedeploy",
            description="CodeDeploy shifts the prediction alias, invokes the CodeDeployHook_* functions, reads alarms, notifies",
            assume_role_policy=assume_role_policy("codedeploy.amazonaws.com"),
            opts=child,
        )
        managed = aws.iam.RolePolicyAttachment(f"{name}-codedeploy-managed", role=role.name, policy_arn=CODEDEPLOY_LAMBDA_POLICY_ARN, opts=child)
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
        application = aws.codedeploy.Application(f"{name}-codedeploy", name=f"{args.name_prefix}-predict-api", compute_platform="Lambda", opts=child)
        group = aws.codedeploy.DeploymentGroup(
            f"{name}-deployment-group",
            app_name=application.name,
            deployment_group_name=self.deployment_group_name,
            service_role_arn=role.arn,
            deployment_config_name=args.deployment_config_name,
            deployment_style=aws.codedeploy.DeploymentGroupDeploymentStyleArgs(deployment_type="BLUE_GREEN", deployment_option="WITH_TRAFFIC_CONTROL"),
            auto_rollback_configuration=aws.codedeploy.DeploymentGroupAutoRollbackConfigurationArgs(enabled=True, events=ROLLBACK_EVENTS),
            alarm_configuration=aws.codedeploy.DeploymentGroupAlarmConfigurationArgs(
                enabled=True,
                alarms=[alarm.name for alarm in self.alarms.values()],
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
            opts=pulumi.ResourceOptions(parent=self, depends_on=[managed, notify]),
        )
        return application, group, [managed, notify]
