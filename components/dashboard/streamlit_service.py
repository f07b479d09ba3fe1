"""Dashboard: the Streamlit app business users reach through an HTTPS load balancer after signing in
with Cognito. (Engineers' CloudWatch dashboard is components/dashboard/cloudwatch_dashboard.py.)

Request path: browser -> ALB (public subnets, HTTPS only, HTTP redirects) -> `authenticate-cognito`
(managed login of this component's user pool) -> forward -> Fargate tasks in private subnets
(port 8501, reachable from the ALB's security group only) -> AWS APIs through the NAT gateways.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from components.dashboard.args import DashboardApi as DashboardApi
from components.dashboard.args import DashboardArgs as DashboardArgs
from components.dashboard.args import DashboardEndpoint as DashboardEndpoint
from components.dashboard.schedule import schedule_service
from components.dashboard.sign_in import OAUTH_SCOPES, alias_record, certificate_arn, cognito_login, domain_problems
from components.dashboard.task import app_environment, execution_role, health_check_from_dockerfile, task_role
from components.shared.container_image import ContainerImage, ContainerImageArgs
from components.shared.iam import statement
from components.shared.secure_bucket import SecureBucket, SecureBucketArgs

IMAGE_CONTEXT = "containers"  # the image carries the model's schema module from containers/model
DOCKERFILE = "containers/dashboard/Dockerfile"
CONTAINER_NAME = "dashboard"
CONTAINER_PORT = 8501
HEALTH_PATH = "/_stcore/health"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
ALB_LOG_PREFIX = "alb"
ALB_LOG_BUCKET_TAGS = {"Purpose": "alb-access-logs"}
"""Marks the one bucket that is SSE-S3 rather than SSE-KMS: ELB can deliver logs to no other kind."""


class Dashboard(pulumi.ComponentResource):
    image: ContainerImage
    load_balancer: aws.lb.LoadBalancer
    user_pool: aws.cognito.UserPool
    dashboard_url: pulumi.Output[str]
    user_pool_id: pulumi.Output[str]

    def __init__(self, name: str, args: DashboardArgs, opts: Optional[pulumi.ResourceOptions] = None):
        problems = domain_problems(args)
        if problems:
            raise pulumi.RunError("invalid Dashboard arguments: " + "; ".join(problems))
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
        alias_record(name, args, self.load_balancer, self)
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

        self.register_outputs(
            {
                "dashboard_url": self.dashboard_url,
                "load_balancer_dns_name": self.load_balancer.dns_name,
                "user_pool_id": self.user_pool_id,
                "image_uri": self.image.image_uri,
            }
        )

    # ---- network -----------------------------------------------------------------------------------
    def _security_groups(
        self, name: str, args: DashboardArgs, child: pulumi.ResourceOptions
    ) -> tuple[aws.ec2.SecurityGroup, aws.ec2.SecurityGroup]:
        # No inline rules: the provider removes AWS's default allow-all egress, and each rule below
        # is its own resource, so a change to one never rewrites the others.
        alb_sg = aws.ec2.SecurityGroup(
            f"{name}-alb-sg",
            name=f"{args.name_prefix}-dashboard-alb",
            description="Dashboard load balancer",
            vpc_id=args.vpc_id,
            opts=child,
        )
        task_sg = aws.ec2.SecurityGroup(
            f"{name}-task-sg",
            name=f"{args.name_prefix}-dashboard-tasks",
            description="Dashboard Fargate tasks",
            vpc_id=args.vpc_id,
            opts=child,
        )

        def rule(kind: type, logical: str, group: aws.ec2.SecurityGroup, port: int, description: str, **peer: Any) -> None:
            kind(
                f"{name}-{logical}",
                security_group_id=group.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                description=description,
                **peer,
                opts=child,
            )

        ingress, egress = aws.vpc.SecurityGroupIngressRule, aws.vpc.SecurityGroupEgressRule
        for index, cidr in enumerate(args.allowed_cidrs):
            peer = {"cidr_ipv6": cidr} if ":" in cidr else {"cidr_ipv4": cidr}
            rule(ingress, f"alb-in-443-{index}", alb_sg, 443, f"HTTPS from {cidr}", **peer)
            rule(ingress, f"alb-in-80-{index}", alb_sg, 80, f"HTTP from {cidr}, redirected to HTTPS", **peer)
        rule(egress, "alb-to-tasks", alb_sg, CONTAINER_PORT, "Forward to the dashboard tasks", referenced_security_group_id=task_sg.id)
        # authenticate-cognito: the ALB itself exchanges the code at the Cognito token endpoint.
        rule(egress, "alb-to-cognito", alb_sg, 443, "HTTPS to the Cognito token and user info endpoints", cidr_ipv4="0.0.0.0/0")
        rule(
            ingress,
            "tasks-from-alb",
            task_sg,
            CONTAINER_PORT,
            "Streamlit, from the load balancer only",
            referenced_security_group_id=alb_sg.id,
        )
        rule(
            egress, "tasks-to-aws", task_sg, 443, "HTTPS to AWS APIs (through the NAT gateways and the S3 endpoint)", cidr_ipv4="0.0.0.0/0"
        )
        return alb_sg, task_sg

    def _load_balancer(
        self, name: str, args: DashboardArgs, alb_sg: aws.ec2.SecurityGroup, child: pulumi.ResourceOptions
    ) -> aws.lb.LoadBalancer:
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
                name_prefix=args.name_prefix,
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

    def _listeners(
        self, name: str, args: DashboardArgs, host: pulumi.Output[str], target_group: aws.lb.TargetGroup, child: pulumi.ResourceOptions
    ) -> aws.lb.Listener:
        self.user_pool, client, domain = cognito_login(name, args, host, self._account, self)
        self.user_pool_id = self.user_pool.id
        https = aws.lb.Listener(
            f"{name}-https",
            load_balancer_arn=self.load_balancer.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=TLS_POLICY,
            certificate_arn=certificate_arn(name, args, host, self),
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
        execution = execution_role(name, args, self._account, self.image.repository.arn, log_group, self)
        task = task_role(name, args, self._account, self)
        cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            name=f"{args.name_prefix}-dashboard",
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
            opts=child,
        )
        environment = app_environment(args)
        container = {
            "name": CONTAINER_NAME,
            "image": self.image.image_uri,
            "essential": True,
            "portMappings": [{"containerPort": CONTAINER_PORT, "protocol": "tcp"}],
            "environment": [{"name": key, "value": value} for key, value in sorted(environment.items())],
            # Checked under a read-only root (docs/dashboard.md): Streamlit, headless with usage
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
            execution_role_arn=execution.arn,
            task_role_arn=task.arn,
            container_definitions=pulumi.Output.json_dumps([container]),
            opts=child,
        )
        service = aws.ecs.Service(
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
            load_balancers=[
                aws.ecs.ServiceLoadBalancerArgs(
                    target_group_arn=target_group.arn, container_name=CONTAINER_NAME, container_port=CONTAINER_PORT
                )
            ],
            health_check_grace_period_seconds=60,
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            enable_execute_command=False,
            propagate_tags="SERVICE",
            enable_ecs_managed_tags=True,
            # `pulumi up` fails when a new revision never turns healthy (and ECS rolls it back).
            wait_for_steady_state=True,
            # A target group joins a load balancer only through a listener. With working hours,
            # Application Auto Scaling owns the desired count.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[https], ignore_changes=["desiredCount"] if args.working_hours else None),
        )
        if args.working_hours is not None:
            schedule_service(f"{name}-service", cluster, service, args.desired_count, args.working_hours, parent=self)
