"""The Dashboard component as the real program declares it, under the offline preview's mocks, and
the typed CloudWatch widget helpers it builds the dashboard body with."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from components.dashboard.streamlit_service import DOCKERFILE, TLS_POLICY
from components.dashboard.task import health_check_from_dockerfile
from components.dashboard.widgets import (
    AlarmStatusWidget,
    Expression,
    Metric,
    MetricWidget,
    TextWidget,
    _alarm_query_entries,
)
from components.shared.container_image import context_hash, dockerignore_filter
from components.training.model_schema import FEATURE_NAMES
from tools.offline.records import ROOT, parse_json_input, stack_records

COMPONENT = "sagemaker-mlops:dashboard:Dashboard"
CLOUDWATCH_COMPONENT = "sagemaker-mlops:cloudwatch:CloudWatchDashboard"
LISTENER = "aws:lb/listener:Listener"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
PROD_CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000000"
RECORD = "aws:route53/record:Record"
CERTIFICATE = "aws:acm/certificate:Certificate"
VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
# prod with a certificate of its own for the domain, in the zone the program still manages.
OWN_CERTIFICATE = ("prod", f"dashboard.certificateArn={PROD_CERTIFICATE}")
DASHBOARD_IGNORE = ROOT / "containers" / "dashboard" / "Dockerfile.dockerignore"

PROD = ("prod",)
# dev before any model is promoted, with non-default sizes and two allowed networks.
CUSTOM = (
    "dev",
    "endpoint.modelPackageVersion=null",
    "dashboard.allowedCidrs=[10.0.0.0/8, 192.168.10.0/24]",
    "dashboard.desiredCount=3",
    "dashboard.cpu=1024",
    "dashboard.memory=3072",
)


@pytest.fixture(scope="module", params=[("dev",), PROD], ids=["dev", "prod"])
def records(request):
    return stack_records(*request.param)


def env_of(records) -> str:
    return records.data["config"]["sagemaker-mlops:environment"]


def mine(records, type_: str) -> list[dict]:
    """Resources of a type that belong to the Dashboard component (directly or through a child component)."""
    component = records.one(COMPONENT)["urn"]
    parents = {component} | {r["urn"] for r in records.resources if r["parent"] == component and not r["custom"]}
    return [r for r in records.of_type(type_) if r["parent"] in parents]


def only(records, type_: str, name: str) -> dict:
    found = [r for r in mine(records, type_) if r["name"] == name]
    assert len(found) == 1, f"{type_} {name}: {[r['name'] for r in mine(records, type_)]}"
    return found[0]


def statements(resource, key: str = "policy") -> dict[str, dict]:
    return {s["Sid"]: s for s in parse_json_input(resource["inputs"][key])["Statement"]}


def container(records) -> dict:
    [definition] = json.loads(only(records, "aws:ecs/taskDefinition:TaskDefinition", "dashboard-task")["inputs"]["containerDefinitions"])
    return definition


def body(records) -> dict:
    dashboard = records.one("aws:cloudwatch/dashboard:Dashboard", "dashboard-cloudwatch")
    assert dashboard["parent"] == records.one(CLOUDWATCH_COMPONENT)["urn"]
    return json.loads(dashboard["inputs"]["dashboardBody"])


def metric_rows(records) -> list[list]:
    return [row for w in body(records)["widgets"] if w["type"] == "metric" for row in w["properties"]["metrics"]]


def dims(row: list) -> dict[str, str]:
    plain = [v for v in row[2:] if not isinstance(v, dict)]
    return dict(zip(plain[::2], plain[1::2]))


def alb_dns(records) -> str:
    return only(records, "aws:lb/loadBalancer:LoadBalancer", "dashboard-alb")["state"]["dnsName"]


def dashboard_config(records) -> dict:
    return records.data["config"]["sagemaker-mlops:dashboard"]


def host(records) -> str:
    """The name users open: the configured domain, else the ALB's own DNS name."""
    return dashboard_config(records).get("domainName") or alb_dns(records)


# ---- listeners and sign-in -----------------------------------------------------------------------


def test_listeners_are_https_only_and_http_redirects(records):
    listeners = {r["name"]: r["inputs"] for r in mine(records, LISTENER)}
    assert set(listeners) == {"dashboard-https", "dashboard-http"}
    https, http = listeners["dashboard-https"], listeners["dashboard-http"]
    assert (https["port"], https["protocol"], https["sslPolicy"]) == (443, "HTTPS", TLS_POLICY)
    assert https["certificateArn"]
    assert (http["port"], http["protocol"]) == (80, "HTTP")
    assert http["defaultActions"] == [{"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}]
    lb = only(records, "aws:lb/loadBalancer:LoadBalancer", "dashboard-alb")["state"]["arn"]
    assert https["loadBalancerArn"] == lb and http["loadBalancerArn"] == lb


def test_cognito_authenticates_before_anything_is_forwarded(records):
    actions = only(records, LISTENER, "dashboard-https")["inputs"]["defaultActions"]
    assert [(a["type"], a["order"]) for a in actions] == [("authenticate-cognito", 1), ("forward", 2)]
    auth = actions[0]["authenticateCognito"]
    assert auth["userPoolArn"] == only(records, "aws:cognito/userPool:UserPool", "dashboard-users")["state"]["arn"]
    # The client's id is not part of its state: the login branding names the same client.
    branding = only(records, "aws:cognito/managedLoginBranding:ManagedLoginBranding", "dashboard-login-branding")["inputs"]
    assert auth["userPoolClientId"] == branding["clientId"] and len(auth["userPoolClientId"]) == 26
    assert (
        auth["userPoolDomain"] == only(records, "aws:cognito/userPoolDomain:UserPoolDomain", "dashboard-login-domain")["inputs"]["domain"]
    )
    assert auth["onUnauthenticatedRequest"] == "authenticate"
    assert auth["scope"] == "openid email"
    assert actions[1]["targetGroupArn"] == only(records, "aws:lb/targetGroup:TargetGroup", "dashboard-targets")["state"]["arn"]


def test_app_client_is_a_confidential_code_flow_client_calling_back_to_the_name_users_open(records):
    client = only(records, "aws:cognito/userPoolClient:UserPoolClient", "dashboard-alb-client")["inputs"]
    assert client["generateSecret"] is True
    assert client["allowedOauthFlows"] == ["code"] and client["allowedOauthFlowsUserPoolClient"] is True
    assert client["allowedOauthScopes"] == ["openid", "email"]
    assert client["callbackUrls"] == [f"https://{host(records)}/oauth2/idpresponse"]
    assert client["logoutUrls"] == [f"https://{host(records)}/"]
    assert client["supportedIdentityProviders"] == ["COGNITO"]
    domain = only(records, "aws:cognito/userPoolDomain:UserPoolDomain", "dashboard-login-domain")["inputs"]
    assert domain["domain"].startswith(f"mlops-{env_of(records)}-dashboard-") and len(domain["domain"]) <= 63
    assert not any(word in domain["domain"] for word in ("aws", "amazon", "cognito"))  # Cognito refuses these in prefixes
    assert domain["managedLoginVersion"] == 2
    branding = only(records, "aws:cognito/managedLoginBranding:ManagedLoginBranding", "dashboard-login-branding")["inputs"]
    assert branding["useCognitoProvidedValues"] is True


@pytest.mark.parametrize(
    "stack, mfa, tier, protection",
    [(("dev",), "OPTIONAL", "ESSENTIALS", "INACTIVE"), (PROD, "ON", "PLUS", "ACTIVE")],
    ids=["dev", "prod"],
)
def test_user_pool_admin_creates_users_with_strong_passwords_and_mfa_per_stack(stack, mfa, tier, protection):
    pool = only(stack_records(*stack), "aws:cognito/userPool:UserPool", "dashboard-users")["inputs"]
    assert pool["adminCreateUserConfig"] == {"allowAdminCreateUserOnly": True}
    policy = pool["passwordPolicy"]
    assert policy["minimumLength"] >= 12
    assert all(policy[k] is True for k in ("requireLowercase", "requireUppercase", "requireNumbers", "requireSymbols"))
    assert pool["mfaConfiguration"] == mfa
    assert pool["softwareTokenMfaConfiguration"] == {"enabled": True}
    assert pool["userPoolTier"] == tier
    # Threat protection needs the Plus plan: asking for it on Essentials fails at AWS.
    assert pool.get("userPoolAddOns") == ({"advancedSecurityMode": "ENFORCED"} if tier == "PLUS" else None)
    assert pool["deletionProtection"] == protection


def test_dev_imports_a_self_signed_certificate_for_the_alb_name():
    dev = stack_records("dev")
    cert = only(dev, "tls:index/selfSignedCert:SelfSignedCert", "dashboard-tls-cert")["inputs"]
    assert cert["dnsNames"] == [alb_dns(dev)]
    assert "server_auth" in cert["allowedUses"] and cert["earlyRenewalHours"] < cert["validityPeriodHours"]
    key = only(dev, "tls:index/privateKey:PrivateKey", "dashboard-tls-key")
    imported = only(dev, "aws:acm/certificate:Certificate", "dashboard-certificate")
    assert (
        imported["inputs"]["certificateBody"]
        == only(dev, "tls:index/selfSignedCert:SelfSignedCert", "dashboard-tls-cert")["state"]["certPem"]
    )
    assert imported["inputs"]["privateKey"]["value"] == key["state"]["privateKeyPem"]  # a secret, as the engine sees it
    assert only(dev, LISTENER, "dashboard-https")["inputs"]["certificateArn"] == imported["state"]["arn"]


def test_prod_serves_its_domain_with_a_dns_validated_certificate_the_listener_waits_for():
    prod = stack_records(*PROD)
    domain, zone = dashboard_config(prod)["domainName"], dashboard_config(prod)["hostedZoneId"]
    certificate = only(prod, CERTIFICATE, "dashboard-domain-certificate")
    assert certificate["inputs"] == {"domainName": domain, "validationMethod": "DNS"}
    [option] = certificate["state"]["domainValidationOptions"]
    record = only(prod, RECORD, "dashboard-certificate-validation-record")
    assert (record["inputs"]["zoneId"], record["inputs"]["name"], record["inputs"]["type"]) == (zone, option["resourceRecordName"], "CNAME")
    assert record["inputs"]["records"] == [option["resourceRecordValue"]] and record["inputs"]["allowOverwrite"] is True
    validation = only(prod, VALIDATION, "dashboard-certificate-validation")
    assert validation["inputs"] == {"certificateArn": certificate["state"]["arn"], "validationRecordFqdns": [record["state"]["fqdn"]]}
    # The listener takes the ARN from the validation, so it is attached only once ACM has issued it.
    https = only(prod, LISTENER, "dashboard-https")
    assert https["inputs"]["certificateArn"] == certificate["state"]["arn"]
    assert https["property_dependencies"]["certificateArn"] == [validation["urn"]]
    alias = only(prod, RECORD, "dashboard-dns")["inputs"]
    lb = only(prod, "aws:lb/loadBalancer:LoadBalancer", "dashboard-alb")["state"]
    assert (alias["zoneId"], alias["name"], alias["type"]) == (zone, domain, "A")
    assert alias["aliases"] == [{"name": lb["dnsName"], "zoneId": lb["zoneId"], "evaluateTargetHealth": True}]
    assert mine(prod, "tls:index/privateKey:PrivateKey") == []
    assert prod.outputs["dashboardUrl"] == f"https://{domain}" and prod.outputs["dashboardLoadBalancerDnsName"] == lb["dnsName"]


def test_an_own_certificate_is_used_as_is_and_the_program_still_adds_the_record():
    own = stack_records(*OWN_CERTIFICATE)
    assert only(own, LISTENER, "dashboard-https")["inputs"]["certificateArn"] == PROD_CERTIFICATE
    assert mine(own, CERTIFICATE) == [] and mine(own, VALIDATION) == [] and mine(own, "tls:index/privateKey:PrivateKey") == []
    assert [r["name"] for r in mine(own, RECORD)] == ["dashboard-dns"]
    client = only(own, "aws:cognito/userPoolClient:UserPoolClient", "dashboard-alb-client")["inputs"]
    assert client["callbackUrls"] == [f"https://{dashboard_config(own)['domainName']}/oauth2/idpresponse"]


def test_dashboard_arguments_refuse_a_certificate_or_zone_without_a_name():
    from components.dashboard.sign_in import domain_problems

    def args(**domain):
        return SimpleNamespace(**{"domain_name": None, "certificate_arn": None, "hosted_zone_id": None, **domain})

    assert domain_problems(args()) == [] and domain_problems(args(domain_name="d.example.com", hosted_zone_id="Z1")) == []
    assert domain_problems(args(certificate_arn=PROD_CERTIFICATE, hosted_zone_id="Z1")) == [
        "certificate_arn needs domain_name",
        "hosted_zone_id needs domain_name",
    ]
    assert domain_problems(args(domain_name="d.example.com")) == ["domain_name 'd.example.com' needs certificate_arn or hosted_zone_id"]


# ---- network -------------------------------------------------------------------------------------


def test_alb_is_public_hardened_and_logs_to_its_sse_s3_bucket(records):
    lb = only(records, "aws:lb/loadBalancer:LoadBalancer", "dashboard-alb")
    assert lb["inputs"]["internal"] is False and lb["inputs"]["loadBalancerType"] == "application"
    assert lb["inputs"]["subnets"] == records.outputs["publicSubnetIds"]
    assert lb["inputs"]["dropInvalidHeaderFields"] is True
    assert lb["inputs"]["enableDeletionProtection"] is (env_of(records) == "prod")
    bucket_component = records.one("sagemaker-mlops:storage:SecureBucket", "dashboard-alb-logs")
    parts = {r["type"]: r for r in records.children_of(bucket_component["urn"])}
    bucket = parts["aws:s3/bucket:Bucket"]
    assert lb["inputs"]["accessLogs"] == {"bucket": bucket["state"]["bucket"], "prefix": "alb", "enabled": True}
    assert parts["aws:s3/bucketPolicy:BucketPolicy"]["urn"] in lb["options"]["dependsOn"]  # ELB checks its write access at once
    assert bucket["inputs"]["tags"] == {"Purpose": "alb-access-logs"}
    [rule] = parts["aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"]["inputs"]["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}  # ELB cannot write SSE-KMS
    policy = statements(parts["aws:s3/bucketPolicy:BucketPolicy"])
    assert policy["ElasticLoadBalancingAccessLogs"]["Principal"] == {"AWS": "arn:aws:iam::127311923021:root"}  # us-east-1's ELB account
    assert policy["ElasticLoadBalancingAccessLogs"]["Action"] == ["s3:PutObject"]
    assert policy["ElasticLoadBalancingAccessLogs"]["Resource"] == [f"{bucket['state']['arn']}/alb/AWSLogs/123456789012/*"]
    assert policy["DenyInsecureTransport"]["Effect"] == "Deny"
    [lifecycle] = parts["aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"]["inputs"]["rules"]
    assert lifecycle["expiration"] == {"days": 90}


def test_security_groups_open_the_alb_to_the_allowed_networks_and_the_tasks_to_the_alb_only():
    custom = stack_records(*CUSTOM)
    groups = {r["name"]: r for r in mine(custom, "aws:ec2/securityGroup:SecurityGroup")}
    assert set(groups) == {"dashboard-alb-sg", "dashboard-task-sg"}
    ingress = [r["inputs"] for r in mine(custom, INGRESS)]
    alb_ingress = [r for r in ingress if "cidrIpv4" in r]
    assert sorted((r["cidrIpv4"], r["fromPort"], r["toPort"]) for r in alb_ingress) == [
        ("10.0.0.0/8", 80, 80),
        ("10.0.0.0/8", 443, 443),
        ("192.168.10.0/24", 80, 80),
        ("192.168.10.0/24", 443, 443),
    ]
    [from_alb] = [r for r in ingress if "referencedSecurityGroupId" in r]
    assert (from_alb["fromPort"], from_alb["toPort"], from_alb["ipProtocol"]) == (8501, 8501, "tcp")
    assert from_alb["referencedSecurityGroupId"] != from_alb["securityGroupId"]
    # Everything that reaches the tasks comes from the ALB's group; nothing from an address range.
    assert {r["securityGroupId"] for r in alb_ingress} == {from_alb["referencedSecurityGroupId"]}
    assert not any("cidrIpv4" in r or "cidrIpv6" in r for r in ingress if r["securityGroupId"] == from_alb["securityGroupId"])
    egress = {r["name"]: r["inputs"] for r in mine(custom, EGRESS)}
    assert egress["dashboard-alb-to-tasks"]["referencedSecurityGroupId"] == from_alb["securityGroupId"]
    assert egress["dashboard-alb-to-tasks"]["fromPort"] == 8501
    assert all(e["fromPort"] == e["toPort"] == 443 for e in egress.values() if "cidrIpv4" in e)  # only HTTPS leaves for the internet


def test_target_group_checks_streamlit_health_and_keeps_sessions_sticky(records):
    group = only(records, "aws:lb/targetGroup:TargetGroup", "dashboard-targets")["inputs"]
    assert (group["port"], group["protocol"], group["targetType"]) == (8501, "HTTP", "ip")
    assert group["vpcId"] == records.outputs["vpcId"]
    assert group["healthCheck"]["path"] == "/_stcore/health" and group["healthCheck"]["matcher"] == "200"
    assert group["stickiness"]["type"] == "lb_cookie" and group["stickiness"]["enabled"] is True


# ---- the app -------------------------------------------------------------------------------------


def test_service_runs_private_fargate_tasks_with_a_rolling_back_circuit_breaker(records):
    service = only(records, "aws:ecs/service:Service", "dashboard-service")
    inputs = service["inputs"]
    assert inputs["launchType"] == "FARGATE"
    assert inputs["desiredCount"] == records.data["config"]["sagemaker-mlops:dashboard"]["desiredCount"]
    network = inputs["networkConfiguration"]
    assert network["assignPublicIp"] is False
    assert network["subnets"] == records.outputs["privateSubnetIds"]
    assert network["securityGroups"] == [only(records, INGRESS, "dashboard-tasks-from-alb")["inputs"]["securityGroupId"]]
    assert inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    [lb] = inputs["loadBalancers"]
    assert lb == {
        "targetGroupArn": only(records, "aws:lb/targetGroup:TargetGroup", "dashboard-targets")["state"]["arn"],
        "containerName": "dashboard",
        "containerPort": 8501,
    }
    assert only(records, LISTENER, "dashboard-https")["urn"] in service["options"]["dependsOn"]
    cluster = only(records, "aws:ecs/cluster:Cluster", "dashboard-cluster")["inputs"]
    assert cluster["settings"] == [{"name": "containerInsights", "value": "enabled"}]


def test_custom_sizes_reach_the_task_and_service():
    custom = stack_records(*CUSTOM)
    task = only(custom, "aws:ecs/taskDefinition:TaskDefinition", "dashboard-task")["inputs"]
    assert (task["cpu"], task["memory"]) == ("1024", "3072")
    assert only(custom, "aws:ecs/service:Service", "dashboard-service")["inputs"]["desiredCount"] == 3


def test_task_definition_is_a_read_only_non_root_container_of_the_pinned_image(records):
    task = only(records, "aws:ecs/taskDefinition:TaskDefinition", "dashboard-task")["inputs"]
    config = records.data["config"]["sagemaker-mlops:dashboard"]
    assert (task["cpu"], task["memory"]) == (str(config["cpu"]), str(config["memory"]))
    assert task["networkMode"] == "awsvpc" and task["requiresCompatibilities"] == ["FARGATE"]
    assert task["runtimePlatform"] == {"operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"}
    c = container(records)
    image = only(records, "docker:index/image:Image", "dashboard-image-image")
    assert c["image"] == image["state"]["repoDigest"] and "@sha256:" in c["image"]
    assert c["readonlyRootFilesystem"] is True and "mountPoints" not in c
    assert c["user"] == "10001:10001"
    assert c["portMappings"] == [{"containerPort": 8501, "protocol": "tcp"}]
    assert c["healthCheck"] == health_check_from_dockerfile(ROOT / DOCKERFILE)
    assert "127.0.0.1:8501/_stcore/health" in c["healthCheck"]["command"][-1]
    group = only(records, "aws:cloudwatch/logGroup:LogGroup", "dashboard-logs")["inputs"]
    assert group["kmsKeyId"] == records.outputs["kmsKeyArn"] and group["retentionInDays"] > 0
    assert c["logConfiguration"]["logDriver"] == "awslogs"
    assert c["logConfiguration"]["options"]["awslogs-group"] == group["name"]


def test_app_environment_names_the_real_resources(records):
    env = {e["name"]: e["value"] for e in container(records)["environment"]}
    assert env["AWS_REGION"] == "us-east-1"
    # By ARN: a name resolves in the caller's account, and prod may serve dev's registry from another.
    assert env["MODEL_PACKAGE_GROUP"] == stack_records("dev").outputs["modelPackageGroupArn"]
    assert env["ENDPOINT_NAME"] == records.outputs["endpointName"]
    assert env["PREDICTION_BACKEND"] == "api"
    stage_api = records.one("aws:apigatewayv2/api:Api")["state"]["apiEndpoint"]
    assert env["API_URL"] == stage_api and records.outputs["apiUrl"] == stage_api + "/predict"
    prod = env_of(records) == "prod"
    assert env["API_AUTH"] == "iam"  # the route requires SigV4 in dev too
    assert env["FEATURE_NAMES"].split(",") == list(FEATURE_NAMES)
    # Model Monitor runs on prod's provisioned endpoint only.
    drift = [r["inputs"]["name"] for r in records.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if r["name"] == "endpoint-drift-alarm"]
    assert env.get("DRIFT_ALARM_NAME") == (drift[0] if prod else None) and len(drift) == int(prod)


def test_without_a_model_the_app_still_runs_on_the_registry():
    custom = stack_records(*CUSTOM)
    env = {e["name"]: e["value"] for e in container(custom)["environment"]}
    assert set(env) == {"AWS_REGION", "MODEL_PACKAGE_GROUP", "FEATURE_NAMES"}
    sids = set(statements(only(custom, "aws:iam/rolePolicy:RolePolicy", "dashboard-task-policy")))
    assert sids == {"ListModelVersions", "ReadModelVersions", "ReadEvaluationReports", "DecryptEvaluationReports", "ReadMetrics"}
    widget_types = [w["type"] for w in body(custom)["widgets"]]
    assert "alarm" not in widget_types  # no alarms exist yet, and an alarm widget needs at least one


# ---- IAM -----------------------------------------------------------------------------------------


def trust(records, role: str) -> dict:
    [only_statement] = parse_json_input(only(records, "aws:iam/role:Role", role)["inputs"]["assumeRolePolicy"])["Statement"]
    return only_statement


@pytest.mark.parametrize("role", ["dashboard-execution-role", "dashboard-task-role"])
def test_only_this_accounts_ecs_tasks_assume_the_roles(records, role):
    statement = trust(records, role)
    assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": "arn:aws:ecs:us-east-1:123456789012:*"},
    }


def test_execution_role_pulls_this_repository_and_writes_this_log_group_only(records):
    policy = statements(only(records, "aws:iam/rolePolicy:RolePolicy", "dashboard-execution-policy"))
    assert set(policy) == {"PullDashboardImage", "EcrLogin", "WriteDashboardLogs"}
    repository = only(records, "aws:ecr/repository:Repository", "dashboard-image-repo")["state"]["arn"]
    assert policy["PullDashboardImage"]["Resource"] == [repository]
    assert policy["EcrLogin"] == {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": ["*"], "Sid": "EcrLogin"}
    group = only(records, "aws:cloudwatch/logGroup:LogGroup", "dashboard-logs")["state"]["arn"]
    assert policy["WriteDashboardLogs"]["Resource"] == [f"{group}:log-stream:*"]
    assert (
        only(records, "aws:ecs/taskDefinition:TaskDefinition", "dashboard-task")["inputs"]["executionRoleArn"]
        == only(records, "aws:iam/role:Role", "dashboard-execution-role")["state"]["arn"]
    )


def test_task_role_reaches_only_this_stacks_registry_reports_endpoint_and_api(records):
    policy = statements(only(records, "aws:iam/rolePolicy:RolePolicy", "dashboard-task-policy"))
    group = records.outputs["modelPackageGroupName"]
    assert policy["ReadModelVersions"]["Resource"] == [f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{group}/*"]
    # The registry's reports: dev's own, or (prod serves dev's registry) dev's bucket and key.
    registry = stack_records("dev").outputs
    assert policy["ReadEvaluationReports"]["Resource"] == [
        f"{registry['artifactBucketArn']}/pipelines/{registry['pipelineName']}/*/evaluation/evaluation.json"
    ]
    assert policy["DecryptEvaluationReports"]["Resource"] == [registry["kmsKeyArn"]]
    assert policy["DecryptEvaluationReports"]["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}
    assert policy["DescribeEndpoint"]["Resource"] == [records.outputs["endpointArn"]]
    assert "PredictFromEndpoint" not in policy  # predictions go through the API
    # Every stack's route requires SigV4: the app signs with this role.
    assert policy["PredictThroughApi"] == {
        "Effect": "Allow",
        "Action": ["execute-api:Invoke"],
        "Resource": [records.outputs["apiExecuteArn"]],
        "Sid": "PredictThroughApi",
    }
    for sid, s in policy.items():
        assert not any(a == "*" or a.endswith(":*") for a in s["Action"]), sid
        if s["Resource"] == ["*"]:  # only the two actions AWS cannot scope to a resource
            assert s["Action"] in (["sagemaker:ListModelPackages"], ["cloudwatch:GetMetricData"]), sid
    assert mine(records, "aws:iam/rolePolicyAttachment:RolePolicyAttachment") == []  # no managed policies


# ---- image ---------------------------------------------------------------------------------------


def test_dashboard_image_is_built_from_its_dockerfile_and_tagged_by_what_it_copies(records):
    repo = only(records, "aws:ecr/repository:Repository", "dashboard-image-repo")["inputs"]
    assert repo["name"] == f"mlops-{env_of(records)}-dashboard"
    assert repo["imageTagMutability"] == "IMMUTABLE" and repo["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": records.outputs["kmsKeyArn"]}]
    image = only(records, "docker:index/image:Image", "dashboard-image-image")["inputs"]
    assert image["build"]["context"] == "containers" and image["build"]["dockerfile"] == "containers/dashboard/Dockerfile"
    assert image["build"]["platform"] == "linux/amd64"
    assert image["imageName"].endswith(":" + context_hash(ROOT / "containers", DASHBOARD_IGNORE))


def test_dockerignore_filter_follows_docker_semantics():
    included = dockerignore_filter(DASHBOARD_IGNORE)
    assert included("dashboard/app.py") and included("dashboard/views/health.py") and included("dashboard/.streamlit/config.toml")
    assert included("model/churn/schema.py")
    assert not included("model/churn/train.py") and not included("api/predict.py")
    assert not included("dashboard/mlops_dashboard/__pycache__/aws.cpython-311.pyc") and not included("dashboard/x.pyc")


def test_tag_changes_with_what_the_image_copies_and_not_with_the_rest_of_the_context(tmp_path):
    context = tmp_path / "containers"
    shutil.copytree(ROOT / "containers" / "dashboard", context / "dashboard", ignore=shutil.ignore_patterns("__pycache__"))
    (context / "model" / "churn").mkdir(parents=True)
    (context / "model" / "churn" / "schema.py").write_text("FEATURES = 1\n")
    (context / "model" / "churn" / "train.py").write_text("print('train')\n")
    ignore = context / "dashboard" / "Dockerfile.dockerignore"
    first = context_hash(context, ignore)
    (context / "model" / "churn" / "train.py").write_text("print('train v2')\n")
    assert context_hash(context, ignore) == first  # not in the image
    (context / "model" / "churn" / "schema.py").write_text("FEATURES = 2\n")
    second = context_hash(context, ignore)
    assert second != first  # copied into the image
    (context / "dashboard" / "Dockerfile").write_text((context / "dashboard" / "Dockerfile").read_text() + "\n# changed\n")
    assert context_hash(context, ignore) != second  # the Dockerfile counts although the ignore file excludes it


def test_health_check_parsing_refuses_what_ecs_could_not_run(tmp_path):
    shell_form = tmp_path / "Dockerfile"
    shell_form.write_text("FROM scratch\nHEALTHCHECK --interval=10s CMD curl -f http://localhost/\n")
    with pytest.raises(ValueError, match="exec form"):
        health_check_from_dockerfile(shell_form)
    shell_form.write_text("FROM scratch\n")
    with pytest.raises(ValueError, match="exactly one HEALTHCHECK"):
        health_check_from_dockerfile(shell_form)


# ---- CloudWatch dashboard ------------------------------------------------------------------------


def test_widget_dimensions_are_the_real_resource_names(records):
    rows = [r for r in metric_rows(records) if isinstance(r[0], str)]
    by_namespace: dict[str, list[dict]] = {}
    for row in rows:
        by_namespace.setdefault(row[0], []).append(dims(row))
    stage = records.one("aws:apigatewayv2/stage:Stage")["inputs"]
    assert by_namespace["AWS/ApiGateway"] and all(
        d == {"ApiId": stage["apiId"], "Stage": stage["name"]} for d in by_namespace["AWS/ApiGateway"]
    )
    functions = {r["inputs"]["name"] for r in records.of_type("aws:lambda/function:Function")}
    graphed = {d["FunctionName"] for d in by_namespace["AWS/Lambda"]}
    assert graphed == functions and len(graphed) == 3  # the prediction function and both hooks
    endpoint = records.one("aws:sagemaker/endpoint:Endpoint")["inputs"]["name"]
    [variant] = records.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration")["inputs"]["productionVariants"]
    for namespace in ("AWS/SageMaker", *(["/aws/sagemaker/Endpoints"] if env_of(records) == "prod" else [])):
        assert by_namespace[namespace] and all(
            d == {"EndpointName": endpoint, "VariantName": variant["variantName"]} for d in by_namespace[namespace]
        )
    pipeline = stack_records("dev").outputs["pipelineName"]  # the one pipeline, dev's
    assert by_namespace["AWS/Sagemaker/ModelBuildingPipeline"] == [{"PipelineName": pipeline}] * 3
    searches = [r[0]["expression"] for r in metric_rows(records) if isinstance(r[0], dict) and "SEARCH" in r[0]["expression"]]
    assert searches and all(any(f'FunctionName="{f}"' in s for f in functions) for s in searches)


def test_dashboard_graphs_what_the_issue_asks_for(records):
    rows = [r for r in metric_rows(records) if isinstance(r[0], str)]
    graphed = {(r[0], r[1], (r[-1] if isinstance(r[-1], dict) else {}).get("stat")) for r in rows}
    for metric in ("ModelLatency", "OverheadLatency"):
        assert {("AWS/SageMaker", metric, p) for p in ("p50", "p90", "p99")} <= graphed
    assert {("AWS/SageMaker", "Invocation4XXErrors", "Sum"), ("AWS/SageMaker", "Invocation5XXErrors", "Sum")} <= graphed
    assert {("AWS/ApiGateway", "Latency", p) for p in ("p50", "p90", "p99")} <= graphed
    by_title = {w["properties"].get("title"): w["properties"] for w in body(records)["widgets"] if w["type"] == "metric"}
    assert by_title["API requests and errors"]["stat"] == "Sum"
    assert by_title["Endpoint errors (count)"]["stat"] == "Sum"
    provisioned = env_of(records) == "prod"
    assert ("Endpoint CPU and memory per variant (%)" in by_title) is provisioned
    assert any(r[1] == "InvocationsPerInstance" for r in rows) is provisioned
    searches = [r[0]["expression"] for r in metric_rows(records) if isinstance(r[0], dict) and r[0]["expression"].startswith("SEARCH(")]
    assert len(searches) == 9  # invocations, errors and duration for each of the three functions
    assert all("{AWS/Lambda,FunctionName,Resource,ExecutedVersion}" in s for s in searches)


def test_alarm_widget_lists_every_alarm_the_stack_creates(records):
    [widget] = [w for w in body(records)["widgets"] if w["type"] == "alarm"]
    every_alarm = {r["state"]["arn"] for r in records.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    every_alarm |= {r["state"]["arn"] for r in records.of_type("aws:cloudwatch/compositeAlarm:CompositeAlarm")}
    assert every_alarm and set(widget["properties"]["alarms"]) == every_alarm


def test_widgets_are_laid_out_on_the_grid_without_overlap(records):
    widgets = body(records)["widgets"]
    cells = set()
    for w in widgets:
        assert 0 <= w["x"] and w["x"] + w["width"] <= 24
        area = {(x, y) for x in range(w["x"], w["x"] + w["width"]) for y in range(w["y"], w["y"] + w["height"])}
        assert not cells & area, w["properties"].get("title")
        cells |= area


def test_drift_widget_reuses_the_alarm_queries():
    prod = stack_records(*PROD)
    alarm = prod.one("aws:cloudwatch/metricAlarm:MetricAlarm", "endpoint-drift-alarm")["inputs"]
    [widget] = [w["properties"] for w in body(prod)["widgets"] if w["type"] == "metric" and "drift" in w["properties"]["title"].lower()]
    assert widget["annotations"]["horizontal"][0]["value"] == alarm["threshold"]
    graphed = {next(p for p in row if isinstance(p, dict))["id"]: row for row in widget["metrics"]}
    assert set(graphed) == {q["id"] for q in alarm["metricQueries"]}
    for query in alarm["metricQueries"]:
        row = graphed[query["id"]]
        if "expression" in query:  # the total the alarm compares with its threshold: the one line shown
            assert row == [{"expression": query["expression"], "label": query["label"], "id": query["id"], "visible": True}]
        else:  # one hidden metric per feature, exactly as the alarm reads it
            metric = query["metric"]
            assert row[:2] == [metric["namespace"], metric["metricName"]] and dims(row) == metric["dimensions"]
            assert row[-1] == {"stat": metric["stat"], "id": query["id"], "period": metric["period"], "visible": False}
    env = {e["name"]: e["value"] for e in container(prod)["environment"]}
    assert env["DRIFT_ALARM_NAME"] == alarm["name"]
    assert statements(only(prod, "aws:iam/rolePolicy:RolePolicy", "dashboard-task-policy"))["ReadDriftAlarm"]["Resource"] == [
        prod.one("aws:cloudwatch/metricAlarm:MetricAlarm", "endpoint-drift-alarm")["state"]["arn"]
    ]


def test_outputs_are_exported(records):
    outputs = records.outputs
    assert outputs["dashboardUrl"] == f"https://{host(records)}"
    assert outputs["cloudwatchDashboardName"] == f"mlops-{env_of(records)}-mlops"
    assert outputs["cloudwatchDashboardUrl"].endswith(f"#dashboards/dashboard/{outputs['cloudwatchDashboardName']}")
    assert (
        outputs["userPoolId"] == only(records, "aws:cognito/userPoolClient:UserPoolClient", "dashboard-alb-client")["inputs"]["userPoolId"]
    )


def test_every_child_is_parented_to_the_component(records):
    component = records.one(COMPONENT)["urn"]
    cloudwatch = records.one(CLOUDWATCH_COMPONENT)["urn"]
    for r in records.resources:
        if r["name"].startswith("dashboard-") and r["type"] != COMPONENT and r["parent"] != cloudwatch:
            chain = r["parent"]
            while chain and chain != component:
                chain = records.by_urn(chain)["parent"]
            assert chain == component, r["name"]


# ---- widget helpers ------------------------------------------------------------------------------


def test_metric_and_expression_rows_follow_the_documented_format():
    assert Metric("AWS/SageMaker", "Invocations", [("EndpointName", "e"), ("VariantName", "v")]).entries() == [
        ["AWS/SageMaker", "Invocations", "EndpointName", "e", "VariantName", "v"]
    ]
    assert Metric("AWS/Lambda", "Duration", [("FunctionName", "f")], stat="p99", label="p99", id="d1").entries() == [
        ["AWS/Lambda", "Duration", "FunctionName", "f", {"stat": "p99", "label": "p99", "id": "d1"}]
    ]
    assert Expression("m1 + m2", label="total", id="total", visible=True).entries() == [
        [{"expression": "m1 + m2", "label": "total", "id": "total", "visible": True}]
    ]


def test_alarm_queries_become_hidden_metrics_and_a_visible_expression():
    metric = SimpleNamespace(
        namespace="aws/sagemaker/Endpoints/data-metrics",
        metric_name="feature_baseline_drift_age",
        dimensions={"MonitoringSchedule": "s", "Endpoint": "e"},
        stat="Maximum",
        period=3600,
    )
    feature = SimpleNamespace(id="f0", expression=None, label=None, metric=metric, return_data=False)
    total = SimpleNamespace(id="total_drift", expression="FILL(f0, 0)", label="Total", metric=None, return_data=True)
    assert _alarm_query_entries(feature) == [
        [
            "aws/sagemaker/Endpoints/data-metrics",
            "feature_baseline_drift_age",
            "Endpoint",
            "e",
            "MonitoringSchedule",
            "s",
            {"stat": "Maximum", "id": "f0", "period": 3600, "visible": False},
        ]
    ]
    assert _alarm_query_entries(total) == [[{"expression": "FILL(f0, 0)", "label": "Total", "id": "total_drift", "visible": True}]]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Metric("N", "M", id="Bad-id"), "must start with a lower-case letter"),
        (lambda: MetricWidget("t", []), "no metrics"),
        (lambda: MetricWidget("t", [Metric("N", "M", id="a"), Metric("N", "M", id="a")]), "used twice"),
        (lambda: MetricWidget("t", [Metric("N", f"M{i}") for i in range(101)]), "at most 100"),
        (lambda: MetricWidget("t", [Metric("N", "M")], width=25), "width 25"),
        (lambda: AlarmStatusWidget("t", []), "1 to 100"),
        (lambda: AlarmStatusWidget("t", ["arn"] * 101), "1 to 100"),
        (lambda: TextWidget("x", height=0), "height 0"),
    ],
)
def test_widgets_refuse_what_cloudwatch_would_reject(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_dockerfile_path_is_the_one_the_program_builds():
    assert Path(ROOT / DOCKERFILE).is_file() and DASHBOARD_IGNORE.is_file()


def test_cloudwatch_dashboard_keeps_its_state_from_when_the_dashboard_component_owned_it(records):
    """Without the alias, `pulumi up` on an existing stack would create the moved dashboard and then
    delete the old resource, whose fixed name is the same dashboard: the stack would lose it."""
    dashboard = records.one("aws:cloudwatch/dashboard:Dashboard", "dashboard-cloudwatch")
    [alias] = dashboard["options"]["aliases"]
    former_parent = records.one(COMPONENT)["urn"]  # the Streamlit component kept the old type and name
    assert alias == {"spec": {"parentUrn": former_parent}}


def test_pipeline_widgets_read_the_registry_account_when_another_stack_owns_it(records):
    rows = [r for r in metric_rows(records) if isinstance(r[0], str) and r[0] == "AWS/Sagemaker/ModelBuildingPipeline"]
    accounts = {(r[-1] if isinstance(r[-1], dict) else {}).get("accountId") for r in rows}
    owner = records.outputs.get("registryStack") is None
    # A consumer's dashboard graphs the runs of the pipeline in the owner's account (cross-account
    # observability); the owner's graphs its own, without naming an account.
    assert rows and accounts == ({None} if owner else {stack_records("dev").outputs["accountId"]})
