"""Every policy, violated by the REAL program: the table `test_real_program_violations.py` runs.

To cover a new policy, add one row: the policy's name, the resource it must name (the URN after
`urn:pulumi:<stack>::sagemaker-mlops::`, as `python -m tools.preview --json` prints it), and the
mutation that a careless change would make (see program_mutations.py). Reuse the default run
("careless" in prod) unless your mutation would hide another row's finding; then give it its own
`run=` name. `test_every_policy_has_a_real_program_violation` fails until the row exists.
"""

from __future__ import annotations

from program_mutations import Append, Edit, Set, Violation

BUCKET = "sagemaker-mlops:storage:SecureBucket$aws:s3/bucket:Bucket::"
ENDPOINT = "sagemaker-mlops:endpoint:ModelEndpoint$"
API = "sagemaker-mlops:api:CanaryApi$"
DASHBOARD = "sagemaker-mlops:dashboard:Dashboard$"
FOUNDATION = "sagemaker-mlops:foundation:Foundation$"
TRAINING = "sagemaker-mlops:training:TrainingPipeline$"
REPOSITORY = "sagemaker-mlops:images:ContainerImage$aws:ecr/repository:Repository::"
ADDED = ""  # top-level resources: no parent type in the URN

# ---- careless edits of the program's own components (one prod copy) ------------------------------
SSE_S3 = Edit('sse_algorithm="aws:kms", kms_master_key_id=args.kms_key_arn', 'sse_algorithm="AES256"')
PUBLIC_BLOCK_OFF = Edit("restrict_public_buckets=True,", "restrict_public_buckets=False,")
NO_TLS_STATEMENT = Edit("policy=policy_document(tls_only, *extra),", "policy=policy_document(*extra),")
VERSIONING_SUSPENDED = Edit(
    'BucketVersioningVersioningConfigurationArgs(status="Enabled")', 'BucketVersioningVersioningConfigurationArgs(status="Suspended")'
)
NO_ROTATION = Edit("enable_key_rotation=True,", "enable_key_rotation=False,")
PLAIN_TOPIC = Edit("kms_master_key_id=self.key.arn,", "")
BARE_LOG_GROUP = Edit("retention_in_days=args.log_retention_days, kms_key_id=args.kms_key_arn,", "", path="components/api/canary_api.py")
SCAN_OFF = Edit(
    "RepositoryImageScanningConfigurationArgs(scan_on_push=True)", "RepositoryImageScanningConfigurationArgs(scan_on_push=False)"
)
MUTABLE_TAGS = Edit('image_tag_mutability="IMMUTABLE",', 'image_tag_mutability="MUTABLE",')
AES_REPOSITORY = Edit(
    'encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=args.kms_key_arn)],',
    'encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="AES256")],',
)
TASK_ROLE_ADMIN = Edit(
    'aws.iam.RolePolicy(f"{name}-task-policy", role=role.id, policy=policy_document(*statements), opts=child)',
    'aws.iam.RolePolicy(f"{name}-task-policy", role=role.id, policy=policy_document(*statements, statement(["*"], ["*"])), opts=child)',
)
PASS_ANY_ROLE = Edit('["iam:PassRole"],\n                [role.arn],', '["iam:PassRole"],\n                ["*"],')
FULL_ACCESS_POLICY = Edit(
    'CODEDEPLOY_LAMBDA_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda"',
    'CODEDEPLOY_LAMBDA_POLICY_ARN = "arn:aws:iam::aws:policy/AWSCodeDeployFullAccess"',
)
ANYONE_INVOKES = Edit('principal="apigateway.amazonaws.com",', 'principal="*",')
OLD_RUNTIME = Edit('RUNTIME = "python3.12"', 'RUNTIME = "python3.9"')
NO_TRACING = Edit('FunctionTracingConfigArgs(mode="Active")', 'FunctionTracingConfigArgs(mode="PassThrough")', count=2)
NO_VOLUME_KEY = Edit("kms_key_arn=args.kms_key_arn if provisioned else None,", "kms_key_arn=None,")
CAPTURE_OFF = Edit("enable_capture=args.data_capture_percent > 0,", "enable_capture=False,")
RAW_ARTIFACT = Edit(
    "primary_container=aws.sagemaker.ModelPrimaryContainerArgs(model_package_name=self.model_package_arn, "
    "environment={MODEL_VERSION_VARIABLE: str(args.model_package_version)}),",
    'primary_container=aws.sagemaker.ModelPrimaryContainerArgs(image="123456789012.dkr.ecr.us-east-1.amazonaws.com/model:latest", '
    'model_data_url="s3://mlops-prod-artifacts/model.tar.gz"),',
)
MODEL_NETWORK = Edit("enable_network_isolation=provisioned,", "enable_network_isolation=False,")
ROLLBACK_OFF = Edit(
    "DeploymentGroupAutoRollbackConfigurationArgs(enabled=True, events=ROLLBACK_EVENTS)",
    "DeploymentGroupAutoRollbackConfigurationArgs(enabled=False)",
)
UNTHROTTLED = Edit(
    "                throttling_rate_limit=float(args.throttle_rate),\n                throttling_burst_limit=args.throttle_burst,\n", ""
)
NO_ACCESS_LOGS = Edit(
    "access_log_settings=aws.apigatewayv2.StageAccessLogSettingsArgs(destination_arn=access_logs.arn, format=access_log_format()),", ""
)
OPEN_ROUTE = Edit("authorization_type=ROUTE_AUTHORIZATION,", 'authorization_type="NONE",')
OLD_TLS = Edit("ssl_policy=TLS_POLICY,", 'ssl_policy="ELBSecurityPolicy-2016-08",')
SKIP_LOGIN = Edit('type="authenticate-cognito",\n                    order=1,', 'type="forward",\n                    order=1,')
PUBLIC_TASKS = Edit("assign_public_ip=False", "assign_public_ip=True")
MFA_OPTIONAL = Edit('mfa_configuration="ON" if args.mfa_required else "OPTIONAL",', 'mfa_configuration="OPTIONAL",')
SHORT_PASSWORDS = Edit("minimum_length=12,", "minimum_length=8,")
# The foundation declared without the program's provider (and so without its default tags).
FOUNDATION_UNTAGGED = Edit(
    'opts=with_provider,\n)\npulumi.export("kmsKeyArn", foundation.key_arn)', ')\npulumi.export("kmsKeyArn", foundation.key_arn)'
)
# dev's and the ALB logs' buckets, the dashboard image; and the registry's, which also stays durable
# while another stack serves it (`durable`).
FORCE_DESTROY = (
    Edit("force_destroy=not config.is_prod", "force_destroy=True", count=2),
    Edit("force_destroy=not durable", "force_destroy=True"),
)
# prod serves dev's registry and trains nothing (registry.stack): what only the registry's owner
# declares is shown in a prod-environment stack that owns its registry, as a single-stack setup would.
PROD_OWNS_REGISTRY = (
    Set("registry=null"),
    Set("training={instanceType: ml.m5.xlarge, useSpot: false, schedule: 'cron(0 3 1 * ? *)', minAuc: 0.80}"),
)
OTHER_GROUP = Edit(
    "model_package_arn(args.region, self.registry_account, args.model_package_group_name, args.model_package_version)",
    'model_package_arn(args.region, self.registry_account, "mlops-prod-churn", args.model_package_version)',
)

# The dashboard's load balancer and user pool protected only outside prod.
UNPROTECTED_DASHBOARD = Edit("deletion_protection=config.is_prod,", "deletion_protection=False,")

# ---- the ALB access-log exemption granted to someone else (another region's ELB account and a
# grant on the whole bucket are unit-tested in test_s3_policies.py)
OTHER_PRINCIPAL = Edit('principals={"AWS": elb_account.arn},', 'principals={"AWS": "arn:aws:iam::111122223333:root"},')

# ---- what a careless change would ADD (one prod copy) --------------------------------------------
ADDED_RESOURCES = Append(
    """
    # A team's "quick" additions: a debugging box, a notebook, Studio, a feature table, a metadata
    # database, a public function URL, a public ACL.
    _box_sg = aws.ec2.SecurityGroup(
        "added-box-sg",
        vpc_id=foundation.vpc_id,
        ingress=[aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=22, to_port=22, cidr_blocks=["0.0.0.0/0"])],
        opts=with_provider,
    )
    aws.ec2.SecurityGroupRule(
        "added-rdp-rule", type="ingress", security_group_id=_box_sg.id, protocol="tcp", from_port=3389, to_port=3389,
        cidr_blocks=["0.0.0.0/0"], opts=with_provider,
    )
    aws.vpc.SecurityGroupIngressRule(
        "added-jupyter-ingress", security_group_id=_box_sg.id, ip_protocol="tcp", from_port=8888, to_port=8888,
        cidr_ipv4="0.0.0.0/0", opts=with_provider,
    )
    aws.ec2.Instance(
        "added-gpu-box", ami="ami-0123456789abcdef0", instance_type="g5.xlarge", subnet_id=foundation.public_subnet_ids[0],
        associate_public_ip_address=True, vpc_security_group_ids=[_box_sg.id], opts=with_provider,
    )
    aws.lambda_.FunctionUrl("added-function-url", function_name="mlops-prod-predict", authorization_type="NONE", opts=with_provider)
    aws.sagemaker.NotebookInstance(
        "added-notebook", instance_type="ml.t3.medium", role_arn="arn:aws:iam::123456789012:role/mlops-prod-sagemaker-hosting", opts=with_provider
    )
    _studio = aws.sagemaker.Domain(
        "added-studio", domain_name="mlops-prod-studio", auth_mode="IAM", vpc_id=foundation.vpc_id,
        subnet_ids=foundation.private_subnet_ids,
        default_user_settings=aws.sagemaker.DomainDefaultUserSettingsArgs(execution_role="arn:aws:iam::123456789012:role/mlops-prod-sagemaker-hosting"),
        opts=with_provider,
    )
    aws.sagemaker.UserProfile(
        "added-studio-user", domain_id=_studio.id, user_profile_name="analyst",
        user_settings=aws.sagemaker.UserProfileUserSettingsArgs(
            execution_role="arn:aws:iam::123456789012:role/mlops-prod-sagemaker-hosting",
            sharing_settings=aws.sagemaker.UserProfileUserSettingsSharingSettingsArgs(
                notebook_output_option="Allowed", s3_output_path="s3://mlops-prod-artifacts/shared"
            ),
        ),
        opts=with_provider,
    )
    aws.s3.BucketAcl("added-public-acl", bucket="mlops-prod-shared-exports", acl="public-read", opts=with_provider)
    aws.rds.Instance(
        "added-metadata-db", engine="postgres", instance_class="db.t4g.micro", allocated_storage=20, username="mlflow",
        manage_master_user_password=True, publicly_accessible=True, skip_final_snapshot=True, opts=with_provider,
    )
    aws.dynamodb.Table(
        "added-feature-table", hash_key="customer_id", billing_mode="PAY_PER_REQUEST",
        attributes=[aws.dynamodb.TableAttributeArgs(name="customer_id", type="S")],
    )

    # Types the program has never declared, each judged by its class: resource policies open to
    # everyone, stores without the project key, a public subnet, an IAM user and a self-granting role.
    import json as _json

    def _everyone(action, resource="*"):
        return _json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": action, "Resource": resource}]})

    aws.s3.BucketPolicy(
        "added-open-bucket-policy", bucket="mlops-prod-shared-exports",
        policy=_everyone("s3:GetObject", "arn:aws:s3:::mlops-prod-shared-exports/*"), opts=with_provider,
    )
    aws.kms.Key("added-shared-key", enable_key_rotation=True, policy=_everyone("kms:Decrypt"), opts=with_provider)
    aws.sns.TopicPolicy(
        "added-open-topic-policy", arn="arn:aws:sns:us-east-1:123456789012:mlops-prod-alarms",
        policy=_everyone("sns:Subscribe", "arn:aws:sns:us-east-1:123456789012:mlops-prod-alarms"), opts=with_provider,
    )
    aws.ecr.RepositoryPolicy("added-open-repository-policy", repository="mlops-prod-model", policy=_everyone("ecr:BatchGetImage"), opts=with_provider)
    aws.sagemaker.ModelPackageGroupPolicy(
        "added-open-registry-policy", model_package_group_name="mlops-dev-churn",
        resource_policy=_everyone("sagemaker:DescribeModelPackage"), opts=with_provider,
    )
    aws.lambda_.LayerVersionPermission(
        "added-open-layer", layer_name="shared-deps", version_number=1, principal="*", action="lambda:GetLayerVersion",
        statement_id="everyone", opts=with_provider,
    )
    aws.sqs.Queue("added-queue", opts=with_provider)
    aws.efs.FileSystem("added-file-system", encrypted=False, opts=with_provider)
    aws.elasticache.ReplicationGroup(
        "added-cache", description="feature cache", node_type="cache.t4g.micro", at_rest_encryption_enabled=True,
        kms_key_id=foundation.key_arn, opts=with_provider,
    )
    aws.ebs.Volume("added-volume", availability_zone="us-east-1a", size=100, opts=with_provider)
    aws.secretsmanager.Secret("added-secret", opts=with_provider)
    aws.ec2.Subnet(
        "added-public-subnet", vpc_id=foundation.vpc_id, cidr_block="10.0.200.0/24", map_public_ip_on_launch=True, opts=with_provider
    )
    _deployer = aws.iam.User("added-deployer", opts=with_provider)
    aws.iam.AccessKey("added-deployer-key", user=_deployer.name, opts=with_provider)
    aws.iam.RolePolicy(
        "added-self-granting-policy", role="mlops-prod-api",
        policy=_json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["iam:PutRolePolicy", "iam:AttachRolePolicy"], "Resource": "*"}
        ]}),
        opts=with_provider,
    )
    """
)


def careless(policy: str, resource: str, *mutations, **kw) -> Violation:
    return Violation(policy, resource, tuple(mutations), **kw)


def added(policy: str, name_and_type: str) -> Violation:
    return Violation(policy, ADDED + name_and_type, (ADDED_RESOURCES,))


VIOLATIONS: list[Violation] = [
    careless("s3-bucket-encryption", BUCKET + "endpoint-data", SSE_S3),
    careless("s3-public-access-block", BUCKET + "endpoint-data", PUBLIC_BLOCK_OFF),
    careless("s3-tls-only", BUCKET + "endpoint-data", NO_TLS_STATEMENT),
    careless("s3-versioning", BUCKET + "endpoint-data", VERSIONING_SUSPENDED),
    careless("kms-key-rotation", FOUNDATION + "aws:kms/key:Key::foundation-key", NO_ROTATION),
    careless("sns-topic-encrypted", FOUNDATION + "aws:sns/topic:Topic::foundation-alarms", PLAIN_TOPIC),
    careless("log-group-retention", API + "aws:cloudwatch/logGroup:LogGroup::api-logs", BARE_LOG_GROUP),
    careless("log-group-encrypted", API + "aws:cloudwatch/logGroup:LogGroup::api-access-logs", BARE_LOG_GROUP),
    careless("ecr-scan-on-push", REPOSITORY + "dashboard-image-repo", SCAN_OFF),
    careless("ecr-immutable-tags", REPOSITORY + "dashboard-image-repo", MUTABLE_TAGS),
    careless("ecr-repository-encrypted", REPOSITORY + "dashboard-image-repo", AES_REPOSITORY),
    careless("iam-no-wildcard-admin", DASHBOARD + "aws:iam/rolePolicy:RolePolicy::dashboard-task-policy", TASK_ROLE_ADMIN),
    careless("iam-passrole-scoped", DASHBOARD + "aws:iam/rolePolicy:RolePolicy::dashboard-task-policy", TASK_ROLE_ADMIN),
    careless(
        "iam-passrole-scoped",
        TRAINING + "aws:iam/rolePolicy:RolePolicy::training-execution-policy",
        PASS_ANY_ROLE,
        *PROD_OWNS_REGISTRY,
        run="owner",
    ),
    careless(
        "iam-no-admin-managed-policies",
        API + "aws:iam/rolePolicyAttachment:RolePolicyAttachment::api-codedeploy-managed",
        FULL_ACCESS_POLICY,
    ),
    careless("lambda-permission-restricted", API + "aws:lambda/permission:Permission::api-invoke-permission", ANYONE_INVOKES),
    careless("lambda-supported-runtime", API + "aws:lambda/function:Function::api-function", OLD_RUNTIME),
    careless("lambda-tracing", API + "aws:lambda/function:Function::api-function", NO_TRACING),
    careless(
        "sagemaker-kms-encryption", ENDPOINT + "aws:sagemaker/endpointConfiguration:EndpointConfiguration::endpoint-config", NO_VOLUME_KEY
    ),
    careless(
        "sagemaker-data-capture", ENDPOINT + "aws:sagemaker/endpointConfiguration:EndpointConfiguration::endpoint-config", CAPTURE_OFF
    ),
    careless("sagemaker-model-from-registry", ENDPOINT + "aws:sagemaker/model:Model::endpoint-model", RAW_ARTIFACT),
    careless("sagemaker-model-shared-registry", ENDPOINT + "aws:sagemaker/model:Model::endpoint-model", RAW_ARTIFACT),
    careless("sagemaker-model-shared-registry", ENDPOINT + "aws:sagemaker/model:Model::endpoint-model", OTHER_GROUP, run="other-group"),
    careless("sagemaker-images-pinned", ENDPOINT + "aws:sagemaker/model:Model::endpoint-model", RAW_ARTIFACT),
    careless("sagemaker-network-isolation", ENDPOINT + "aws:sagemaker/model:Model::endpoint-model", MODEL_NETWORK),
    careless("codedeploy-auto-rollback", API + "aws:codedeploy/deploymentGroup:DeploymentGroup::api-deployment-group", ROLLBACK_OFF),
    careless("apigateway-stage-throttling", API + "aws:apigatewayv2/stage:Stage::api-stage", UNTHROTTLED),
    careless("apigateway-access-logs", API + "aws:apigatewayv2/stage:Stage::api-stage", NO_ACCESS_LOGS),
    careless("apigateway-route-authorization", API + "aws:apigatewayv2/route:Route::api-route", OPEN_ROUTE),
    careless("alb-listener-https", DASHBOARD + "aws:lb/listener:Listener::dashboard-https", OLD_TLS),
    careless("alb-listener-authenticates", DASHBOARD + "aws:lb/listener:Listener::dashboard-https", SKIP_LOGIN),
    careless("ecs-no-public-ip", DASHBOARD + "aws:ecs/service:Service::dashboard-service", PUBLIC_TASKS),
    careless("cognito-mfa", DASHBOARD + "aws:cognito/userPool:UserPool::dashboard-users", MFA_OPTIONAL),
    careless("cognito-password-policy", DASHBOARD + "aws:cognito/userPool:UserPool::dashboard-users", SHORT_PASSWORDS),
    careless("required-tags", FOUNDATION + "aws:kms/key:Key::foundation-key", FOUNDATION_UNTAGGED),
    careless("deletion-protection", DASHBOARD + "aws:lb/loadBalancer:LoadBalancer::dashboard-alb", UNPROTECTED_DASHBOARD),
    careless("deletion-protection", DASHBOARD + "aws:cognito/userPool:UserPool::dashboard-users", UNPROTECTED_DASHBOARD),
    careless("s3-bucket-no-force-destroy", BUCKET + "endpoint-data", *FORCE_DESTROY),
    careless("s3-bucket-no-force-destroy", BUCKET + "dashboard-alb-logs", *FORCE_DESTROY),
    careless("ecr-repository-no-force-delete", REPOSITORY + "dashboard-image-repo", *FORCE_DESTROY),
    careless("ecr-repository-no-force-delete", REPOSITORY + "training-model-image-repo", *FORCE_DESTROY, *PROD_OWNS_REGISTRY, run="owner"),
    # Config changes a pull request could make (one prod run of --set overrides).
    # One instance is only valid with an autoscaling minimum of one, and the config refuses a canary on
    # a fleet that may shrink to one instance (exit 2): a careless PR that the pack must still catch
    # drops the canary too. Each in its own run, so that the canary finding the dropped canary also
    # produces is not attributed to the canary row's edit.
    careless(
        "sagemaker-endpoint-ha",
        ENDPOINT + "aws:sagemaker/endpointConfiguration:EndpointConfiguration::endpoint-config",
        Set("endpoint.instanceCount=1"),
        Set("endpoint.autoscaling.min=1"),
        Set("endpoint.canary=null"),
        run="config-count",
    ),
    careless(
        "sagemaker-endpoint-ha",
        ENDPOINT + "aws:appautoscaling/target:Target::endpoint-scaling-target",
        Set("endpoint.autoscaling.min=1"),
        Set("endpoint.canary=null"),
        run="config-min",
    ),
    careless(
        "sagemaker-endpoint-canary",
        ENDPOINT + "aws:sagemaker/endpoint:Endpoint::endpoint-endpoint",
        Set("endpoint.canary=null"),
        run="config",
    ),
    careless(
        "codedeploy-lambda-gradual",
        API + "aws:codedeploy/deploymentGroup:DeploymentGroup::api-deployment-group",
        Set("api.deploymentConfig=LambdaAllAtOnce"),
        run="config",
    ),
    careless(
        "sagemaker-instance-types",
        ENDPOINT + "aws:sagemaker/endpointConfiguration:EndpointConfiguration::endpoint-config",
        Set("endpoint.instanceType=ml.p3.2xlarge"),
        run="config",
    ),
    careless(
        "sagemaker-instance-types",
        TRAINING + "aws:sagemaker/pipeline:Pipeline::training-pipeline",
        Set("registry=null"),
        Set("training={instanceType: ml.p3.2xlarge, useSpot: false, schedule: 'cron(0 3 1 * ? *)', minAuc: 0.80}"),
        run="owner-config",
    ),
    # An allowed instance type (ml.c5.*) that is four times the price: only the budget catches it.
    careless("cost-budget", "", Set("endpoint.instanceType=ml.c5.4xlarge"), run="cost"),
    # The informational estimate states the (changed) cost in every preview, at advisory level.
    careless("cost-estimate", "", Set("endpoint.instanceType=ml.c5.4xlarge"), level="advisory", run="cost"),
    # dev: the same careless changes are judged at dev's levels.
    careless(
        "sagemaker-data-capture",
        ENDPOINT + "aws:sagemaker/endpointConfiguration:EndpointConfiguration::endpoint-config",
        Set("endpoint.mode=provisioned"),
        Set("endpoint.serverless=null"),
        Set("endpoint.dataCapturePercent=5"),
        stack="dev",
        level="advisory",
        run="config",
    ),
    careless("s3-bucket-encryption", BUCKET + "training-data", SSE_S3, stack="dev", run="config"),
    # A pipeline that registers its versions already approved skips the person who approves them.
    careless(
        "sagemaker-pipeline-registers-pending",
        TRAINING + "aws:sagemaker/pipeline:Pipeline::training-pipeline",
        Edit('approval_status="PendingManualApproval",', 'approval_status="Approved",', path="components/training/definition/steps.py"),
        *PROD_OWNS_REGISTRY,
        run="owner-approval",
    ),
    # The bucket policy's write-once rule moved off the prefix the pipeline registers its models under.
    careless(
        "sagemaker-pipeline-registers-sealed-models",
        TRAINING + "aws:sagemaker/pipeline:Pipeline::training-pipeline",
        Edit(
            'f"/{pipeline_definition.sealed_model_prefix(training.pipeline_name)}/*"',
            'f"/pipelines/{training.pipeline_name}/sealed/*"',
            path="components/training/access.py",
        ),
        *PROD_OWNS_REGISTRY,
        run="owner-approval",
    ),
    # The ALB log bucket's SSE-S3/no-versioning exemption holds only for the region's ELB account
    # granted s3:PutObject on <prefix>/AWSLogs/<account>/*.
    careless("s3-bucket-encryption", BUCKET + "dashboard-alb-logs", OTHER_PRINCIPAL, run="elb-principal"),
    # Resources a change would add.
    added("ec2-no-open-ingress", "aws:ec2/securityGroup:SecurityGroup::added-box-sg"),
    added("ec2-no-open-ingress", "aws:ec2/securityGroupRule:SecurityGroupRule::added-rdp-rule"),
    added("ec2-no-open-ingress", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::added-jupyter-ingress"),
    added("ec2-instance-hardened", "aws:ec2/instance:Instance::added-gpu-box"),
    added("lambda-function-url-auth", "aws:lambda/functionUrl:FunctionUrl::added-function-url"),
    added("sagemaker-notebook-hardened", "aws:sagemaker/notebookInstance:NotebookInstance::added-notebook"),
    added("sagemaker-instance-types", "aws:sagemaker/notebookInstance:NotebookInstance::added-notebook"),
    added("sagemaker-studio-private", "aws:sagemaker/domain:Domain::added-studio"),
    added("sagemaker-studio-private", "aws:sagemaker/userProfile:UserProfile::added-studio-user"),
    added("s3-no-public-acl", "aws:s3/bucketAcl:BucketAcl::added-public-acl"),
    added("rds-protected", "aws:rds/instance:Instance::added-metadata-db"),
    added("dynamodb-table-protected", "aws:dynamodb/table:Table::added-feature-table"),
    added("required-tags", "aws:dynamodb/table:Table::added-feature-table"),
    added("resource-policy-trusted-principals", "aws:s3/bucketPolicy:BucketPolicy::added-open-bucket-policy"),
    added("resource-policy-trusted-principals", "aws:kms/key:Key::added-shared-key"),
    added("resource-policy-trusted-principals", "aws:sns/topicPolicy:TopicPolicy::added-open-topic-policy"),
    added("resource-policy-trusted-principals", "aws:ecr/repositoryPolicy:RepositoryPolicy::added-open-repository-policy"),
    added(
        "resource-policy-trusted-principals", "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy::added-open-registry-policy"
    ),
    added("resource-policy-trusted-principals", "aws:lambda/layerVersionPermission:LayerVersionPermission::added-open-layer"),
    added("data-at-rest-project-key", "aws:sqs/queue:Queue::added-queue"),
    added("data-at-rest-project-key", "aws:efs/fileSystem:FileSystem::added-file-system"),
    added("data-at-rest-project-key", "aws:ebs/volume:Volume::added-volume"),
    added("data-at-rest-project-key", "aws:secretsmanager/secret:Secret::added-secret"),
    added("no-public-exposure", "aws:ec2/subnet:Subnet::added-public-subnet"),
    added("encryption-in-transit", "aws:elasticache/replicationGroup:ReplicationGroup::added-cache"),
    added("iam-no-users", "aws:iam/user:User::added-deployer"),
    added("iam-no-users", "aws:iam/accessKey:AccessKey::added-deployer-key"),
    added("iam-no-privilege-escalation", "aws:iam/rolePolicy:RolePolicy::added-self-granting-policy"),
]
