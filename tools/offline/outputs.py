"""What AWS reports for a resource once it exists, per resource type, grouped by service: the
state AwsMocks.new_resource answers with (tools.offline.mocks).

Each builder takes (mocks, args, inputs, h, region, physical) -- h the hash of the resource's type
and name, physical its name -- and returns (extra state, id, ARN or None).
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any, Callable, Optional, Protocol

from pulumi.runtime.mocks import MockResourceArgs


class MockAccount(Protocol):
    """What the builders read of the mocks (AwsMocks satisfies it): the account the resources live in."""

    account_id: str


def digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


EC2_ID_PREFIX = {
    "Vpc": "vpc",
    "Subnet": "subnet",
    "InternetGateway": "igw",
    "RouteTable": "rtb",
    "RouteTableAssociation": "rtbassoc",
    "NatGateway": "nat",
    "Eip": "eipalloc",
    "SecurityGroup": "sg",
    "DefaultSecurityGroup": "sg",
    "VpcEndpoint": "vpce",
    "FlowLog": "fl",
}


def _kms_key(m: MockAccount, a: MockResourceArgs, inputs, h, region, physical):
    key_id = str(uuid.UUID(h[:32]))
    arn = f"arn:aws:kms:{region}:{m.account_id}:key/{key_id}"
    return {"keyId": key_id, "arn": arn}, key_id, arn


def _kms_alias(m, a, inputs, h, region, physical):
    arn = f"arn:aws:kms:{region}:{m.account_id}:{physical}"
    return {"targetKeyArn": f"arn:aws:kms:{region}:{m.account_id}:key/{inputs.get('targetKeyId', '')}"}, physical, arn


def _sns_topic(m, a, inputs, h, region, physical):
    arn = f"arn:aws:sns:{region}:{m.account_id}:{physical}"
    return {"arn": arn}, arn, arn


def _sns_subscription(m, a, inputs, h, region, physical):
    arn = f"{inputs.get('topic', '')}:{uuid.UUID(h[:32])}"
    return {}, arn, arn


def _s3_bucket(m, a, inputs, h, region, physical):
    # As the provider names it: `bucket`, else `bucketPrefix` and a 26-character unique suffix,
    # else Pulumi's auto-name.
    bucket = inputs.get("bucket") or (f"{inputs['bucketPrefix']}{h[:26]}" if inputs.get("bucketPrefix") else f"{a.name}-{h[:8]}")
    return (
        {
            "bucket": bucket,
            "arn": f"arn:aws:s3:::{bucket}",
            "bucketDomainName": f"{bucket}.s3.amazonaws.com",
            "bucketRegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com",
            "region": region,
        },
        bucket,
        f"arn:aws:s3:::{bucket}",
    )


def _iam_role(m, a, inputs, h, region, physical):
    arn = f"arn:aws:iam::{m.account_id}:role/{physical}"
    return {"arn": arn, "uniqueId": f"AROA{h[:17].upper()}"}, physical, arn


def _oidc_provider(m, a, inputs, h, region, physical):
    # IAM names an OIDC provider by its URL without the scheme.
    host = str(inputs.get("url", physical)).removeprefix("https://")
    arn = f"arn:aws:iam::{m.account_id}:oidc-provider/{host}"
    return {"arn": arn}, arn, arn


def _iam_policy(m, a, inputs, h, region, physical):
    arn = f"arn:aws:iam::{m.account_id}:policy/{physical}"
    return {"arn": arn, "policyId": f"ANPA{h[:17].upper()}"}, arn, arn


def _ecr_repository(m, a, inputs, h, region, physical):
    url = f"{m.account_id}.dkr.ecr.{region}.amazonaws.com/{physical}"
    arn = f"arn:aws:ecr:{region}:{m.account_id}:repository/{physical}"
    return {"repositoryUrl": url, "registryId": m.account_id}, physical, arn


def _docker_image(m, a, inputs, h, region, physical):
    image_name = inputs.get("imageName") or f"{a.name}:latest"
    repo = image_name.rsplit(":", 1)[0] if ":" in image_name.split("/")[-1] else image_name
    return {"imageName": image_name, "repoDigest": f"{repo}@sha256:{h}", "baseImageName": image_name}, f"{repo}@sha256:{h}", None


def _lambda_function(m, a, inputs, h, region, physical):
    arn = f"arn:aws:lambda:{region}:{m.account_id}:function:{physical}"
    return (
        {
            "arn": arn,
            "qualifiedArn": f"{arn}:1",
            "version": "1",
            "invokeArn": f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations",
            "qualifiedInvokeArn": f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}:1/invocations",
        },
        physical,
        arn,
    )


def _lambda_alias(m, a, inputs, h, region, physical):
    fn = inputs.get("functionName", "function")
    fn_arn = fn if str(fn).startswith("arn:") else f"arn:aws:lambda:{region}:{m.account_id}:function:{fn}"
    arn = f"{fn_arn}:{physical}"
    return {"arn": arn, "invokeArn": f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations"}, arn, arn


def _log_group(m, a, inputs, h, region, physical):
    arn = f"arn:aws:logs:{region}:{m.account_id}:log-group:{physical}"
    return {"arn": arn}, physical, arn


def _metric_alarm(m, a, inputs, h, region, physical):
    name = inputs.get("name") or physical
    arn = f"arn:aws:cloudwatch:{region}:{m.account_id}:alarm:{name}"
    return {"arn": arn, "name": name}, name, arn


def _sagemaker(kind: str):
    def make(m, a, inputs, h, region, physical):
        arn = f"arn:aws:sagemaker:{region}:{m.account_id}:{kind}/{physical.lower()}"
        return {"arn": arn}, physical, arn

    return make


def _model_package_group(m, a, inputs, h, region, physical):
    name = inputs.get("modelPackageGroupName") or physical
    arn = f"arn:aws:sagemaker:{region}:{m.account_id}:model-package-group/{name.lower()}"
    return {"arn": arn, "modelPackageGroupName": name}, name, arn


def _sagemaker_pipeline(m, a, inputs, h, region, physical):
    name = inputs.get("pipelineName") or physical
    arn = f"arn:aws:sagemaker:{region}:{m.account_id}:pipeline/{name.lower()}"
    return {"arn": arn, "pipelineName": name}, name, arn


def _events_rule(m, a, inputs, h, region, physical):
    arn = f"arn:aws:events:{region}:{m.account_id}:rule/{physical}"
    return {"arn": arn}, physical, arn


def _sqs_queue(m, a, inputs, h, region, physical):
    arn = f"arn:aws:sqs:{region}:{m.account_id}:{physical}"
    return (
        {"arn": arn, "url": f"https://sqs.{region}.amazonaws.com/{m.account_id}/{physical}"},
        f"https://sqs.{region}.amazonaws.com/{m.account_id}/{physical}",
        arn,
    )


def _http_api(m, a, inputs, h, region, physical):
    api_id = h[:10]
    return (
        {
            "apiEndpoint": f"https://{api_id}.execute-api.{region}.amazonaws.com",
            "executionArn": f"arn:aws:execute-api:{region}:{m.account_id}:{api_id}",
            "arn": f"arn:aws:apigateway:{region}::/apis/{api_id}",
        },
        api_id,
        f"arn:aws:apigateway:{region}::/apis/{api_id}",
    )


def _http_stage(m, a, inputs, h, region, physical):
    api_id = inputs.get("apiId", "api")
    name = inputs.get("name") or "$default"
    return (
        {
            "invokeUrl": f"https://{api_id}.execute-api.{region}.amazonaws.com/{'' if name == '$default' else name}",
            "executionArn": f"arn:aws:execute-api:{region}:{m.account_id}:{api_id}/{name}",
            "arn": f"arn:aws:apigateway:{region}::/apis/{api_id}/stages/{name}",
        },
        name,
        None,
    )


def _http_api_child(m, a, inputs, h, region, physical):
    # Integrations and routes have short alphanumeric ids; a route targets "integrations/<id>".
    return {}, h[:7], None


def _load_balancer(m, a, inputs, h, region, physical):
    arn = f"arn:aws:elasticloadbalancing:{region}:{m.account_id}:loadbalancer/app/{physical}/{h[:16]}"
    return (
        {
            "arn": arn,
            "arnSuffix": f"app/{physical}/{h[:16]}",
            "dnsName": f"{physical}-{h[:9]}.{region}.elb.amazonaws.com",
            "zoneId": "Z35SXDOTRQ7X7K",
        },
        arn,
        arn,
    )


def _target_group(m, a, inputs, h, region, physical):
    arn = f"arn:aws:elasticloadbalancing:{region}:{m.account_id}:targetgroup/{physical}/{h[:16]}"
    return {"arn": arn, "arnSuffix": f"targetgroup/{physical}/{h[:16]}"}, arn, arn


def _listener(m, a, inputs, h, region, physical):
    arn = f"arn:aws:elasticloadbalancing:{region}:{m.account_id}:listener/app/{physical}/{h[:16]}/{h[16:32]}"
    return {"arn": arn}, arn, arn


def _user_pool(m, a, inputs, h, region, physical):
    pool_id = f"{region}_{h[:9]}"
    arn = f"arn:aws:cognito-idp:{region}:{m.account_id}:userpool/{pool_id}"
    return {"arn": arn, "endpoint": f"cognito-idp.{region}.amazonaws.com/{pool_id}"}, pool_id, arn


def _user_pool_client(m, a, inputs, h, region, physical):
    return {"clientSecret": h[:40]}, h[:26], None


def _acm_certificate(m, a, inputs, h, region, physical):
    arn = f"arn:aws:acm:{region}:{m.account_id}:certificate/{uuid.UUID(h[:32])}"
    state: dict[str, Any] = {"arn": arn}
    if inputs.get("validationMethod") == "DNS":
        # ACM asks for one CNAME per name, under the name, pointing into acm-validations.aws.
        state["status"] = "PENDING_VALIDATION"
        state["domainValidationOptions"] = [
            {
                "domainName": name,
                "resourceRecordName": f"_{digest(h, name)[:32]}.{name}.",
                "resourceRecordType": "CNAME",
                "resourceRecordValue": f"_{digest(name, h)[:32]}.{digest(h)[:10]}.acm-validations.aws.",
            }
            for name in [inputs["domainName"], *inputs.get("subjectAlternativeNames", [])]
        ]
    return state, arn, arn


def _acm_certificate_validation(m, a, inputs, h, region, physical):
    # No ARN of its own: it is the wait for the certificate it names to be issued.
    return {"certificateArn": inputs["certificateArn"]}, inputs["certificateArn"], None


def _route53_record(m, a, inputs, h, region, physical):
    name = inputs["name"].rstrip(".")
    return {"fqdn": name, "name": name}, f"{inputs['zoneId']}_{name}_{inputs['type']}", None


def _ecs_cluster(m, a, inputs, h, region, physical):
    arn = f"arn:aws:ecs:{region}:{m.account_id}:cluster/{physical}"
    return {"arn": arn}, arn, arn


def _ecs_task_definition(m, a, inputs, h, region, physical):
    family = inputs.get("family") or physical
    arn = f"arn:aws:ecs:{region}:{m.account_id}:task-definition/{family}:1"
    return {"arn": arn, "revision": 1, "arnWithoutRevision": arn.rsplit(":", 1)[0]}, family, arn


def _ecs_service(m, a, inputs, h, region, physical):
    arn = f"arn:aws:ecs:{region}:{m.account_id}:service/{physical}"
    return {}, arn, arn


def _codedeploy_app(m, a, inputs, h, region, physical):
    arn = f"arn:aws:codedeploy:{region}:{m.account_id}:application:{physical}"
    return {"arn": arn, "applicationId": str(uuid.UUID(h[:32]))}, physical, arn


def _codedeploy_group(m, a, inputs, h, region, physical):
    name = inputs.get("deploymentGroupName") or physical
    arn = f"arn:aws:codedeploy:{region}:{m.account_id}:deploymentgroup:{inputs.get('appName', 'app')}/{name}"
    return {"arn": arn, "deploymentGroupId": str(uuid.UUID(h[:32]))}, f"{inputs.get('appName', 'app')}:{name}", arn


def _dashboard(m, a, inputs, h, region, physical):
    name = inputs.get("dashboardName") or physical
    return {"dashboardArn": f"arn:aws:cloudwatch::{m.account_id}:dashboard/{name}"}, name, None


def _provider(m, a, inputs, h, region, physical):
    return {}, str(uuid.UUID(h[:32])), None


def _tls(m, a, inputs, h, region, physical):
    pem = "-----BEGIN CERTIFICATE-----\nMIIoffline\n-----END CERTIFICATE-----\n"
    return {"certPem": pem, "privateKeyPem": "-----BEGIN PRIVATE KEY-----\nMIIoffline\n-----END PRIVATE KEY-----\n"}, h[:20], None


def _appautoscaling_target(m, a, inputs, h, region, physical):
    arn = f"arn:aws:application-autoscaling:{region}:{m.account_id}:scalable-target/{h[:24]}"
    return {"arn": arn}, str(inputs.get("resourceId", physical)), arn


def _dynamic(m, a, inputs, h, region, physical):
    # A dynamic provider's create() never runs under mocks: report the inputs back.
    return {}, h[:16], None


OUTPUTS_BY_TYPE: dict[str, Callable[..., tuple[dict[str, Any], str, Optional[str]]]] = {
    "aws:kms/key:Key": _kms_key,
    "aws:kms/alias:Alias": _kms_alias,
    "aws:sns/topic:Topic": _sns_topic,
    "aws:sns/topicSubscription:TopicSubscription": _sns_subscription,
    "aws:s3/bucket:Bucket": _s3_bucket,
    "aws:iam/role:Role": _iam_role,
    "aws:iam/policy:Policy": _iam_policy,
    "aws:ecr/repository:Repository": _ecr_repository,
    "docker:index/image:Image": _docker_image,
    "aws:lambda/function:Function": _lambda_function,
    "aws:lambda/alias:Alias": _lambda_alias,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _metric_alarm,
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": _metric_alarm,
    "aws:cloudwatch/dashboard:Dashboard": _dashboard,
    "aws:cloudwatch/eventRule:EventRule": _events_rule,
    "aws:sqs/queue:Queue": _sqs_queue,
    "aws:sagemaker/model:Model": _sagemaker("model"),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": _sagemaker("endpoint-config"),
    "aws:sagemaker/endpoint:Endpoint": _sagemaker("endpoint"),
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": _model_package_group,
    "aws:sagemaker/pipeline:Pipeline": _sagemaker_pipeline,
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": _sagemaker("data-quality-job-definition"),
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": _sagemaker("monitoring-schedule"),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_provider,
    "aws:apigatewayv2/api:Api": _http_api,
    "aws:apigatewayv2/stage:Stage": _http_stage,
    "aws:apigatewayv2/integration:Integration": _http_api_child,
    "aws:apigatewayv2/route:Route": _http_api_child,
    "aws:lb/loadBalancer:LoadBalancer": _load_balancer,
    "aws:lb/targetGroup:TargetGroup": _target_group,
    "aws:lb/listener:Listener": _listener,
    "aws:cognito/userPool:UserPool": _user_pool,
    "aws:cognito/userPoolClient:UserPoolClient": _user_pool_client,
    "aws:acm/certificate:Certificate": _acm_certificate,
    "aws:acm/certificateValidation:CertificateValidation": _acm_certificate_validation,
    "aws:route53/record:Record": _route53_record,
    "aws:ecs/cluster:Cluster": _ecs_cluster,
    "aws:ecs/taskDefinition:TaskDefinition": _ecs_task_definition,
    "aws:ecs/service:Service": _ecs_service,
    "aws:codedeploy/application:Application": _codedeploy_app,
    "aws:codedeploy/deploymentGroup:DeploymentGroup": _codedeploy_group,
    "aws:appautoscaling/target:Target": _appautoscaling_target,
    "tls:index/selfSignedCert:SelfSignedCert": _tls,
    "tls:index/privateKey:PrivateKey": _tls,
    "pulumi-python:dynamic:Resource": _dynamic,
}
