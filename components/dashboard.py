"""Dashboard: the CloudWatch dashboard engineers watch, and the Streamlit app business users reach
through an HTTPS load balancer after signing in with Cognito.

Request path: browser -> ALB (public subnets, HTTPS only, HTTP redirects) -> `authenticate-cognito`
(managed login of this component's user pool) -> forward -> Fargate tasks in private subnets
(port 8501, reachable from the ALB's security group only) -> AWS APIs through the NAT gateways.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import pulumi
import pulumi_aws as aws
import pulumi_tls as tls

from components.cloudwatch_widgets import (
    AlarmQueries,
    AlarmStatusWidget,
    Expression,
    HorizontalAnnotation,
    Metric,
    MetricWidget,
    TextWidget,
    Widget,
    dashboard_body,
    search,
)
from components.container_image import ContainerImage, ContainerImageArgs
from components.iam import assume_role_policy, ecr_pull_statements, policy_document, statement
from components.secure_bucket import SecureBucket, SecureBucketArgs

IMAGE_CONTEXT = "containers"  # the image carries the model's schema module from containers/model
DOCKERFILE = "containers/dashboard/Dockerfile"
CONTAINER_NAME = "dashboard"
CONTAINER_PORT = 8501
HEALTH_PATH = "/_stcore/health"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
ALB_LOG_PREFIX = "alb"
ALB_LOG_BUCKET_TAGS = {"Purpose": "alb-access-logs"}
"""Marks the one bucket that is SSE-S3 rather than SSE-KMS: ELB can deliver logs to no other kind."""
OAUTH_SCOPES = ["openid", "email"]
PERCENTILES = ("p50", "p90", "p99")
ALARMS_PER_WIDGET = 100

APIGW = "AWS/ApiGateway"
LAMBDA = "AWS/Lambda"
SAGEMAKER = "AWS/SageMaker"
SAGEMAKER_INSTANCES = "/aws/sagemaker/Endpoints"
PIPELINES = "AWS/Sagemaker/ModelBuildingPipeline"


def health_check_from_dockerfile(dockerfile: Path) -> dict[str, Any]:
    """The Dockerfile's HEALTHCHECK as an ECS container healthCheck (ECS ignores Docker's own), so
    the two can never drift apart."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip().upper().startswith("HEALTHCHECK ")]
    if len(lines) != 1:
        raise ValueError(f"{dockerfile}: expected exactly one HEALTHCHECK instruction, found {len(lines)}")
    options, _, command = lines[0][len("HEALTHCHECK ") :].partition("CMD ")
    if not command.strip().startswith("["):
        raise ValueError(f"{dockerfile}: HEALTHCHECK must use the exec form CMD [\"...\"] so ECS runs the same command")
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


@dataclass(frozen=True)
class DashboardEndpoint:
    """The served model, when there is one."""

    name: pulumi.Input[str]
    arn: pulumi.Input[str]
    variant_name: str
    provisioned: bool
    drift_alarm: Optional[aws.cloudwatch.MetricAlarm] = None


@dataclass(frozen=True)
class DashboardApi:
    """The canary prediction API, when there is one."""

    url: pulumi.Input[str]
    """Base URL; the app POSTs `{url}/predict`."""
    api_id: pulumi.Input[str]
    stage_name: pulumi.Input[str]
    invoke_arn: pulumi.Input[str]
    """execute-api ARN of the `POST /predict` route: what the task role may invoke."""
    function_name: pulumi.Input[str]
    hook_function_names: Sequence[pulumi.Input[str]] = ()
    """Pre- and post-traffic hooks, in that order."""
    iam_auth: bool = True
    """The route requires SigV4 (AWS_IAM): the app signs with the task role."""


@dataclass(frozen=True)
class DashboardArgs:
    name_prefix: str
    region: str
    kms_key_arn: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    public_subnet_ids: Sequence[pulumi.Input[str]]
    private_subnet_ids: Sequence[pulumi.Input[str]]
    model_package_group_name: pulumi.Input[str]
    pipeline_name: pulumi.Input[str]
    artifact_bucket_arn: pulumi.Input[str]
    desired_count: int
    cpu: int
    memory: int
    allowed_cidrs: Sequence[str]
    certificate_arn: Optional[str] = None
    """ACM certificate for the listener; None imports a self-signed one (browsers warn)."""
    domain_name: Optional[str] = None
    """The name users type, when a DNS record points it at the ALB; None means the ALB's DNS name."""
    endpoint: Optional[DashboardEndpoint] = None
    api: Optional[DashboardApi] = None
    alarm_arns: Sequence[pulumi.Input[str]] = ()
    """Every alarm the stack creates, for the alarm status widget."""
    feature_names: Sequence[str] = ()
    mfa_required: bool = False
    threat_protection: bool = False
    """Cognito threat protection (ENFORCED) needs the Plus feature plan; without it, Essentials."""
    deletion_protection: bool = False
    force_destroy: bool = False
    log_retention_days: int = 90
    session_timeout_seconds: int = 8 * 3600
    # A registry owned by another stack (registry.stack): its account and the key of its artifacts.
    registry_account_id: Optional[pulumi.Input[str]] = None
    registry_kms_key_arn: Optional[pulumi.Input[str]] = None


class Dashboard(pulumi.ComponentResource):
    image: ContainerImage
    load_balancer: aws.lb.LoadBalancer
    user_pool: aws.cognito.UserPool
    cloudwatch_dashboard: aws.cloudwatch.Dashboard
    dashboard_url: pulumi.Output[str]
    cloudwatch_dashboard_name: str
    cloudwatch_dashboard_url: str
    user_pool_id: pulumi.Output[str]

    def __init__(self, name: str, args: DashboardArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("sagemaker-mlops:dashboard:Dashboard", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self._account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        prefix = args.name_prefix

        self.image = ContainerImage(
            f"{name}-image",
            ContainerImageArgs(
                repository_name=f"{prefix}-dashboard",
                context=IMAGE_CONTEXT,
                dockerfile=DOCKERFILE,
                kms_key_arn=args.kms_key_arn,
                force_delete=args.force_destroy,
            ),
            opts=child,
        )
        alb_sg, task_sg = self._security_groups(name, args, child)
        self.load_balancer = self._load_balancer(name, args, alb_sg, child)
        host = pulumi.Output.from_input(args.domain_name or self.load_balancer.dns_name)
        self.dashboard_url = pulumi.Output.concat("https://", host)
        target_group = aws.lb.TargetGroup(
            f"{name}-targets",
            name=f"{prefix}-dashboard",
            port=CONTAINER_PORT,
            protocol="HTTP",
            target_type="ip",
            vpc_id=args.vpc_id,
            deregistration_delay=30,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                path=HEALTH_PATH, protocol="HTTP", matcher="200", interval=30, timeout=5, healthy_threshold=2, unhealthy_threshold=3
            ),
            # Streamlit keeps each session's state in the task that served its WebSocket: with more
            # than one task, a browser must keep talking to the same one.
            stickiness=aws.lb.TargetGroupStickinessArgs(type="lb_cookie", enabled=True, cookie_duration=86400),
            opts=child,
        )
        https = self._listeners(name, args, host, target_group, child)
        self._service(name, args, task_sg, target_group, https, child)

        self.cloudwatch_dashboard_name = f"{prefix}-mlops"
        self.cloudwatch_dashboard_url = (
            f"https://{args.region}.console.aws.amazon.com/cloudwatch/home?region={args.region}#dashboards/dashboard/{self.cloudwatch_dashboard_name}"
        )
        self.cloudwatch_dashboard = aws.cloudwatch.Dashboard(
            f"{name}-cloudwatch",
            dashboard_name=self.cloudwatch_dashboard_name,
            dashboard_body=dashboard_body(self._widgets(args), args.region, start="-P1D"),
            opts=child,
        )

        self.register_outputs(
            {
                "dashboard_url": self.dashboard_url,
                "cloudwatch_dashboard_name": self.cloudwatch_dashboard_name,
                "cloudwatch_dashboard_url": self.cloudwatch_dashboard_url,
                "user_pool_id": self.user_pool_id,
                "image_uri": self.image.image_uri,
            }
        )

    # ---- network -----------------------------------------------------------------------------------
    def _security_groups(self, name: str, args: DashboardArgs, child: pulumi.ResourceOptions) -> tuple[aws.ec2.SecurityGroup, aws.ec2.SecurityGroup]:
        # No inline rules: the provider removes AWS's default allow-all egress, and each rule below
        # is its own resource, so a change to one never rewrites the others.
        alb_sg = aws.ec2.SecurityGroup(
            f"{name}-alb-sg", name=f"{args.name_prefix}-dashboard-alb", description="Dashboard load balancer", vpc_id=args.vpc_id, opts=child
        )
        task_sg = aws.ec2.SecurityGroup(
            f"{name}-task-sg", name=f"{args.name_prefix}-dashboard-tasks", description="Dashboard Fargate tasks", vpc_id=args.vpc_id, opts=child
        )

        def rule(kind: type, logical: str, group: aws.ec2.SecurityGroup, port: int, description: str, **peer: Any) -> None:
            kind(f"{name}-{logical}", security_group_id=group.id, ip_protocol="tcp", from_port=port, to_port=port, description=description, **peer, opts=child)

        ingress, egress = aws.vpc.SecurityGroupIngressRule, aws.vpc.SecurityGroupEgressRule
        for index, cidr in enumerate(args.allowed_cidrs):
            peer = {"cidr_ipv6": cidr} if ":" in cidr else {"cidr_ipv4": cidr}
            rule(ingress, f"alb-in-443-{index}", alb_sg, 443, f"HTTPS from {cidr}", **peer)
            rule(ingress, f"alb-in-80-{index}", alb_sg, 80, f"HTTP from {cidr}, redirected to HTTPS", **peer)
        rule(egress, "alb-to-tasks", alb_sg, CONTAINER_PORT, "Forward to the dashboard tasks", referenced_security_group_id=task_sg.id)
        # authenticate-cognito: the ALB itself exchanges the code at the Cognito token endpoint.
        rule(egress, "alb-to-cognito", alb_sg, 443, "HTTPS to the Cognito token and user info endpoints", cidr_ipv4="0.0.0.0/0")
        rule(ingress, "tasks-from-alb", task_sg, CONTAINER_PORT, "Streamlit, from the load balancer only", referenced_security_group_id=alb_sg.id)
        rule(egress, "tasks-to-aws", task_sg, 443, "HTTPS to AWS APIs (through the NAT gateways and the S3 endpoint)", cidr_ipv4="0.0.0.0/0")
        return alb_sg, task_sg

    def _load_balancer(self, name: str, args: DashboardArgs, alb_sg: aws.ec2.SecurityGroup, child: pulumi.ResourceOptions) -> aws.lb.LoadBalancer:
        elb_account = aws.elb.get_service_account_output(region=args.region, opts=pulumi.InvokeOutputOptions(parent=self))
        account = self._account

        def log_delivery(bucket_arn: pulumi.Output[str]) -> list[dict[str, Any]]:
            # us-east-1 and the other Regions opened before August 2022 deliver ALB access logs as
            # the Region's Elastic Load Balancing account (127311923021 in us-east-1), which the
            # provider's elb.getServiceAccount looks up; write access is limited to this account's
            # prefix.
            return [
                statement(
                    ["s3:PutObject"],
                    [pulumi.Output.format("{0}/{1}/AWSLogs/{2}/*", bucket_arn, ALB_LOG_PREFIX, account)],
                    sid="ElasticLoadBalancingAccessLogs",
                    principals={"AWS": elb_account.arn},
                )
            ]

        logs = SecureBucket(
            f"{name}-alb-logs",
            SecureBucketArgs(
                kms_key_arn=None,  # ELB writes access logs only to SSE-S3 buckets
                force_destroy=args.force_destroy,
                extra_policy_statements=log_delivery,
                expire_after_days=90,
                tags=ALB_LOG_BUCKET_TAGS,
            ),
            opts=child,
        )
        return aws.lb.LoadBalancer(
            f"{name}-alb",
            name=f"{args.name_prefix}-dashboard",
            load_balancer_type="application",
            internal=False,
            subnets=list(args.public_subnet_ids),
            security_groups=[alb_sg.id],
            drop_invalid_header_fields=True,
            enable_deletion_protection=args.deletion_protection,
            access_logs=aws.lb.LoadBalancerAccessLogsArgs(bucket=logs.name, prefix=ALB_LOG_PREFIX, enabled=True),
            # ELB tests its write access when logging is turned on: the bucket policy must exist first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs]),
        )

    def _certificate_arn(self, name: str, args: DashboardArgs, host: pulumi.Output[str], child: pulumi.ResourceOptions) -> pulumi.Input[str]:
        if args.certificate_arn:
            return args.certificate_arn
        # Self-signed for the name users reach: the connection is encrypted, but browsers warn
        # until a certificate from a trusted CA (dashboard.certificateArn) replaces it. The ALB does
        # not reference the certificate, so naming the ALB's DNS name here creates no cycle.
        key = tls.PrivateKey(f"{name}-tls-key", algorithm="RSA", rsa_bits=2048, opts=child)
        cert = tls.SelfSignedCert(
            f"{name}-tls-cert",
            private_key_pem=key.private_key_pem,
            subject=tls.SelfSignedCertSubjectArgs(common_name=f"{args.name_prefix}-dashboard", organization=args.name_prefix),
            dns_names=[host],
            validity_period_hours=365 * 24,
            # A `pulumi up` in the last 30 days of validity replaces the certificate.
            early_renewal_hours=30 * 24,
            allowed_uses=["digital_signature", "key_encipherment", "server_auth"],
            opts=child,
        )
        imported = aws.acm.Certificate(f"{name}-certificate", private_key=key.private_key_pem, certificate_body=cert.cert_pem, opts=child)
        return imported.arn

    # ---- sign-in -----------------------------------------------------------------------------------
    def _cognito(self, name: str, args: DashboardArgs, host: pulumi.Output[str], child: pulumi.ResourceOptions):
        self.user_pool = aws.cognito.UserPool(
            f"{name}-users",
            name=f"{args.name_prefix}-dashboard",
            # Threat protection (adaptive authentication, compromised credentials) needs the Plus plan.
            user_pool_tier="PLUS" if args.threat_protection else "ESSENTIALS",
            user_pool_add_ons=aws.cognito.UserPoolUserPoolAddOnsArgs(advanced_security_mode="ENFORCED") if args.threat_protection else None,
            username_attributes=["email"],
            auto_verified_attributes=["email"],
            admin_create_user_config=aws.cognito.UserPoolAdminCreateUserConfigArgs(allow_admin_create_user_only=True),
            password_policy=aws.cognito.UserPoolPasswordPolicyArgs(
                minimum_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_numbers=True,
                require_symbols=True,
                temporary_password_validity_days=3,
            ),
            mfa_configuration="ON" if args.mfa_required else "OPTIONAL",
            software_token_mfa_configuration=aws.cognito.UserPoolSoftwareTokenMfaConfigurationArgs(enabled=True),
            account_recovery_setting=aws.cognito.UserPoolAccountRecoverySettingArgs(
                recovery_mechanisms=[aws.cognito.UserPoolAccountRecoverySettingRecoveryMechanismArgs(name="verified_email", priority=1)]
            ),
            deletion_protection="ACTIVE" if args.deletion_protection else "INACTIVE",
            opts=child,
        )
        callback_hosts = [host] if args.domain_name is None else [host, self.load_balancer.dns_name]
        client = aws.cognito.UserPoolClient(
            f"{name}-alb-client",
            name=f"{args.name_prefix}-dashboard-alb",
            user_pool_id=self.user_pool.id,
            generate_secret=True,  # the ALB is a confidential client
            allowed_oauth_flows=["code"],
            allowed_oauth_flows_user_pool_client=True,
            allowed_oauth_scopes=OAUTH_SCOPES,
            callback_urls=[pulumi.Output.concat("https://", h, "/oauth2/idpresponse") for h in callback_hosts],
            supported_identity_providers=["COGNITO"],
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
            opts=child,
        )
        # Globally unique per Region: the prefix plus a hash of account and Region, stable across runs.
        domain_prefix = self._account.apply(
            lambda account: f"{args.name_prefix}-dashboard-{hashlib.sha256(f'{account}/{args.region}'.encode()).hexdigest()[:8]}"
        )
        domain = aws.cognito.UserPoolDomain(
            f"{name}-login-domain",
            domain=domain_prefix,
            user_pool_id=self.user_pool.id,
            managed_login_version=2,  # managed login: sign-in with TOTP set-up when MFA is required
            opts=child,
        )
        aws.cognito.ManagedLoginBranding(
            f"{name}-login-branding", user_pool_id=self.user_pool.id, client_id=client.id, use_cognito_provided_values=True, opts=child
        )
        self.user_pool_id = self.user_pool.id
        return client, domain

    def _listeners(self, name: str, args: DashboardArgs, host: pulumi.Output[str], target_group: aws.lb.TargetGroup, child: pulumi.ResourceOptions) -> aws.lb.Listener:
        client, domain = self._cognito(name, args, host, child)
        https = aws.lb.Listener(
            f"{name}-https",
            load_balancer_arn=self.load_balancer.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=TLS_POLICY,
            certificate_arn=self._certificate_arn(name, args, host, child),
            default_actions=[
                aws.lb.ListenerDefaultActionArgs(
                    type="authenticate-cognito",
                    order=1,
                    authenticate_cognito=aws.lb.ListenerDefaultActionAuthenticateCognitoArgs(
                        user_pool_arn=self.user_pool.arn,
                        user_pool_client_id=client.id,
                        user_pool_domain=domain.domain,
                        on_unauthenticated_request="authenticate",
                        scope=" ".join(OAUTH_SCOPES),
                        session_timeout=args.session_timeout_seconds,
                    ),
                ),
                aws.lb.ListenerDefaultActionArgs(type="forward", order=2, target_group_arn=target_group.arn),
            ],
            opts=child,
        )
        aws.lb.Listener(
            f"{name}-http",
            load_balancer_arn=self.load_balancer.arn,
            port=80,
            protocol="HTTP",
            default_actions=[
                aws.lb.ListenerDefaultActionArgs(
                    type="redirect",
                    redirect=aws.lb.ListenerDefaultActionRedirectArgs(protocol="HTTPS", port="443", status_code="HTTP_301"),
                )
            ],
            opts=child,
        )
        return https

    # ---- the app -----------------------------------------------------------------------------------
    def _service(
        self,
        name: str,
        args: DashboardArgs,
        task_sg: aws.ec2.SecurityGroup,
        target_group: aws.lb.TargetGroup,
        https: aws.lb.Listener,
        child: pulumi.ResourceOptions,
    ) -> None:
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/ecs/{args.name_prefix}-dashboard",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.kms_key_arn,
            opts=child,
        )
        execution_role = self._execution_role(name, args, log_group, child)
        task_role = self._task_role(name, args, child)
        cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            name=f"{args.name_prefix}-dashboard",
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
            opts=child,
        )
        environment = self._environment(args)
        container = {
            "name": CONTAINER_NAME,
            "image": self.image.image_uri,
            "essential": True,
            "portMappings": [{"containerPort": CONTAINER_PORT, "protocol": "tcp"}],
            "environment": [{"name": key, "value": value} for key, value in sorted(environment.items())],
            # Checked under a read-only root (see the README): Streamlit, headless with usage
            # statistics off, writes nothing, so no writable volume is mounted at all.
            "readonlyRootFilesystem": True,
            "user": "10001:10001",
            "linuxParameters": {"capabilities": {"drop": ["ALL"]}, "initProcessEnabled": True},
            "healthCheck": health_check_from_dockerfile(Path(DOCKERFILE)),
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": log_group.name,
                    "awslogs-region": args.region,
                    "awslogs-stream-prefix": CONTAINER_NAME,
                    "mode": "non-blocking",
                    "max-buffer-size": "4m",
                },
            },
            "stopTimeout": 30,
        }
        task_definition = aws.ecs.TaskDefinition(
            f"{name}-task",
            family=f"{args.name_prefix}-dashboard",
            cpu=str(args.cpu),
            memory=str(args.memory),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(operating_system_family="LINUX", cpu_architecture="X86_64"),
            execution_role_arn=execution_role.arn,
            task_role_arn=task_role.arn,
            container_definitions=pulumi.Output.json_dumps([container]),
            opts=child,
        )
        aws.ecs.Service(
            f"{name}-service",
            name="dashboard",
            cluster=cluster.arn,
            task_definition=task_definition.arn,
            desired_count=args.desired_count,
            launch_type="FARGATE",
            platform_version="LATEST",
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=list(args.private_subnet_ids), security_groups=[task_sg.id], assign_public_ip=False
            ),
            load_balancers=[aws.ecs.ServiceLoadBalancerArgs(target_group_arn=target_group.arn, container_name=CONTAINER_NAME, container_port=CONTAINER_PORT)],
            health_check_grace_period_seconds=60,
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            enable_execute_command=False,
            propagate_tags="SERVICE",
            enable_ecs_managed_tags=True,
            # `pulumi up` fails when a new revision never turns healthy (and ECS rolls it back).
            wait_for_steady_state=True,
            # A target group joins a load balancer only through a listener.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[https]),
        )

    @staticmethod
    def _environment(args: DashboardArgs) -> dict[str, pulumi.Input[str]]:
        """What containers/dashboard reads (mlops_dashboard/settings.py)."""
        env: dict[str, pulumi.Input[str]] = {"AWS_REGION": args.region, "MODEL_PACKAGE_GROUP": args.model_package_group_name}
        if args.feature_names:
            env["FEATURE_NAMES"] = ",".join(args.feature_names)
        if args.endpoint is not None:
            env["ENDPOINT_NAME"] = args.endpoint.name
            if args.endpoint.drift_alarm is not None:
                env["DRIFT_ALARM_NAME"] = args.endpoint.drift_alarm.name
        if args.api is not None:
            env["PREDICTION_BACKEND"] = "api"
            env["API_URL"] = args.api.url
            env["API_AUTH"] = "iam" if args.api.iam_auth else "none"
        elif args.endpoint is not None:
            env["PREDICTION_BACKEND"] = "endpoint"
        return env

    # ---- IAM ---------------------------------------------------------------------------------------
    def _trust(self, args: DashboardArgs) -> pulumi.Output[str]:
        # Only ECS tasks of this account and Region may assume the roles (confused-deputy guard).
        return assume_role_policy(
            "ecs-tasks.amazonaws.com",
            conditions={
                "StringEquals": {"aws:SourceAccount": self._account},
                "ArnLike": {"aws:SourceArn": pulumi.Output.format("arn:aws:ecs:{0}:{1}:*", args.region, self._account)},
            },
        )

    def _execution_role(self, name: str, args: DashboardArgs, log_group: aws.cloudwatch.LogGroup, child: pulumi.ResourceOptions) -> aws.iam.Role:
        """What ECS needs to start the task: pull this image, write this log group."""
        role = aws.iam.Role(
            f"{name}-execution-role",
            name=f"{args.name_prefix}-dashboard-execution",
            description="ECS agent for the dashboard tasks: image pull and logs",
            assume_role_policy=self._trust(args),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-execution-policy",
            role=role.id,
            policy=policy_document(
                *ecr_pull_statements(self.image.repository.arn, sid="PullDashboardImage"),
                statement(["logs:CreateLogStream", "logs:PutLogEvents"], [pulumi.Output.concat(log_group.arn, ":log-stream:*")], sid="WriteDashboardLogs"),
            ),
            opts=child,
        )
        return role

    def _task_role(self, name: str, args: DashboardArgs, child: pulumi.ResourceOptions) -> aws.iam.Role:
        """What the app calls (containers/dashboard), on this stack's resources only."""
        role = aws.iam.Role(
            f"{name}-task-role",
            name=f"{args.name_prefix}-dashboard-task",
            description="The Streamlit dashboard: read the registry, metrics and alarms; request predictions",
            assume_role_policy=self._trust(args),
            opts=child,
        )

        def arn(service: str, resource: str) -> pulumi.Output[str]:
            return pulumi.Output.format("arn:aws:{0}:{1}:{2}:{3}", service, args.region, self._account, resource)

        group = pulumi.Output.from_input(args.model_package_group_name).apply(str.lower)  # SageMaker lower-cases group names in ARNs
        statements = [
            # ListModelPackages has no resource-level permissions: AWS only accepts "*".
            statement(["sagemaker:ListModelPackages"], ["*"], sid="ListModelVersions"),
            statement(
                ["sagemaker:DescribeModelPackage"],
                [pulumi.Output.format("arn:aws:sagemaker:{0}:{1}:model-package/{2}/*", args.region, args.registry_account_id or self._account, group)],
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
        if args.api is not None and args.api.iam_auth:
            statements.append(statement(["execute-api:Invoke"], [args.api.invoke_arn], sid="PredictThroughApi"))
        aws.iam.RolePolicy(f"{name}-task-policy", role=role.id, policy=policy_document(*statements), opts=child)
        return role

    # ---- CloudWatch dashboard ----------------------------------------------------------------------
    def _widgets(self, args: DashboardArgs) -> list[Widget]:
        widgets: list[Widget] = [
            TextWidget(
                markdown=pulumi.Output.concat(
                    f"## {args.name_prefix} — churn model operations\n",
                    "Business dashboard: [",
                    self.dashboard_url,
                    "](",
                    self.dashboard_url,
                    ") · model package group `",
                    args.model_package_group_name,
                    "` · training pipeline `",
                    args.pipeline_name,
                    "`",
                )
            )
        ]
        if args.api is not None:
            widgets += self._api_widgets(args.api)
        if args.endpoint is not None:
            widgets += self._endpoint_widgets(args.endpoint)
        widgets.append(
            MetricWidget(
                title="Training pipeline runs (in the selected time range)",
                metrics=[
                    Metric(PIPELINES, metric, [("PipelineName", args.pipeline_name)], label=label)
                    for metric, label in (("ExecutionStarted", "started"), ("ExecutionSucceeded", "succeeded"), ("ExecutionFailed", "failed"))
                ],
                stat="Sum",
                period=3600,
                view="singleValue",
                set_period_to_time_range=True,
                width=12,
                height=4,
            )
        )
        alarms = list(args.alarm_arns)
        for start in range(0, len(alarms), ALARMS_PER_WIDGET):
            widgets.append(AlarmStatusWidget(title="Alarms", alarm_arns=alarms[start : start + ALARMS_PER_WIDGET], width=24, height=4))
        return widgets

    @staticmethod
    def _api_widgets(api: DashboardApi) -> list[Widget]:
        dims = [("ApiId", api.api_id), ("Stage", api.stage_name)]
        widgets: list[Widget] = [
            MetricWidget(
                title="API requests and errors",
                # HTTP APIs publish 4xx/5xx (REST APIs name them 4XXError/5XXError). Counts are summed.
                metrics=[Metric(APIGW, "Count", dims, label="requests"), Metric(APIGW, "4xx", dims, label="4XX"), Metric(APIGW, "5xx", dims, label="5XX")],
                stat="Sum",
            ),
            MetricWidget(
                title="API latency (ms)",
                metrics=[Metric(APIGW, "Latency", dims, stat=p, label=f"latency {p}") for p in PERCENTILES]
                + [Metric(APIGW, "IntegrationLatency", dims, stat="p99", label="integration p99")],
                stat="p99",
            ),
        ]
        roles = [("prediction", api.function_name)] + list(zip(("pre-traffic hook", "post-traffic hook"), api.hook_function_names))
        for role, function_name in roles:
            widgets += _lambda_widgets(role, function_name)
        return widgets

    @staticmethod
    def _endpoint_widgets(endpoint: DashboardEndpoint) -> list[Widget]:
        dims = [("EndpointName", endpoint.name), ("VariantName", endpoint.variant_name)]
        invocations = [Metric(SAGEMAKER, "Invocations", dims, label="invocations")]
        if endpoint.provisioned:
            invocations.append(Metric(SAGEMAKER, "InvocationsPerInstance", dims, label="per instance"))
        widgets: list[Widget] = [
            MetricWidget(title="Endpoint invocations", metrics=invocations, stat="Sum", width=8),
            MetricWidget(
                title="Endpoint latency (µs)",
                metrics=[Metric(SAGEMAKER, kind, dims, stat=p, label=f"{label} {p}") for kind, label in (("ModelLatency", "model"), ("OverheadLatency", "overhead")) for p in PERCENTILES],
                stat="p99",
                width=8,
            ),
            MetricWidget(
                title="Endpoint errors (count)",
                # Summed: an average of error counts hides a burst.
                metrics=[Metric(SAGEMAKER, "Invocation4XXErrors", dims, stat="Sum", label="4XX"), Metric(SAGEMAKER, "Invocation5XXErrors", dims, stat="Sum", label="5XX")],
                stat="Sum",
                width=8,
            ),
        ]
        if endpoint.provisioned:
            widgets.append(
                MetricWidget(
                    title="Endpoint CPU and memory per variant (%)",
                    metrics=[
                        Metric(SAGEMAKER_INSTANCES, "CPUUtilization", dims, label="CPU (100 = one core)"),
                        Metric(SAGEMAKER_INSTANCES, "MemoryUtilization", dims, label="memory"),
                    ],
                    stat="Average",
                    period=300,
                )
            )
        if endpoint.drift_alarm is not None:
            alarm = endpoint.drift_alarm
            widgets.append(
                MetricWidget(
                    title="Feature drift against the baseline (total)",
                    metrics=[AlarmQueries(alarm)],
                    stat="Maximum",
                    period=3600,
                    annotations=[HorizontalAnnotation(value=alarm.threshold, label="drift alarm threshold", color="#d62728", fill="above")],
                )
            )
        return widgets


def _lambda_widgets(role: str, function_name: pulumi.Input[str]) -> list[Widget]:
    """Per executed version (a CodeDeploy canary shows as two lines) and for the whole function."""
    by_version = ["FunctionName", "Resource", "ExecutedVersion"]
    only = [("FunctionName", function_name)]
    return [
        MetricWidget(
            title=f"Lambda {role}: invocations and errors by version",
            metrics=[
                Expression(search(LAMBDA, by_version, "Invocations", only, "Sum", 60), label="invocations", id="invocations"),
                Expression(search(LAMBDA, by_version, "Errors", only, "Sum", 60), label="errors", id="errors"),
                Metric(LAMBDA, "Invocations", only, label="all invocations"),
                Metric(LAMBDA, "Errors", only, label="all errors"),
            ],
            stat="Sum",
        ),
        MetricWidget(
            title=f"Lambda {role}: duration p99 by version (ms)",
            metrics=[
                Expression(search(LAMBDA, by_version, "Duration", only, "p99", 60), label="p99", id="duration"),
                Metric(LAMBDA, "Duration", only, stat="p99", label="all versions p99"),
            ],
            stat="p99",
        ),
    ]
