"""The Foundation component as the real program declares it, under the offline preview's mocks."""

from __future__ import annotations

import ipaddress

import pytest
from config_testkit import of_records

from tools.offline.records import parse_json_input, stack_records

FOUNDATION = "sagemaker-mlops:foundation:Foundation"
COMMON_TAGS = {"Project", "Environment", "Owner", "CostCenter", "ManagedBy"}


@pytest.fixture(scope="module", params=["dev", "prod"])
def records(request):
    return stack_records(request.param)


def test_every_child_is_parented_to_the_component(records):
    component = records.one(FOUNDATION)
    children = records.children_of(component["urn"])
    assert {c["type"] for c in children} >= {"aws:kms/key:Key", "aws:sns/topic:Topic", "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet"}
    aws_resources = [r for r in records.resources if r["type"].startswith("aws:")]
    assert all(r["parent"] == component["urn"] for r in aws_resources if r["name"].startswith("foundation-"))


def test_kms_key_rotates_and_has_an_alias(records):
    key = records.one("aws:kms/key:Key", "foundation-key")
    assert key["inputs"]["enableKeyRotation"] is True
    env = records.data["config"]["sagemaker-mlops:environment"]
    cfg = of_records(records)
    # The longest window where losing the key loses prod's data: prod's, and a registry another stack serves.
    assert key["inputs"]["deletionWindowInDays"] == (30 if cfg.is_prod or cfg.registry_shared else 7)
    alias = records.one("aws:kms/alias:Alias")
    assert alias["inputs"]["name"] == f"alias/mlops-{env}"
    assert alias["inputs"]["targetKeyId"] == key["state"]["keyId"]


def test_key_policy_grants_services_only_within_the_account(records):
    policy = parse_json_input(records.one("aws:kms/key:Key")["inputs"]["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["AccountAdministersKeyThroughIam"]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    services = by_sid["AlarmAndEventServicesPublishToEncryptedTopics"]
    assert "cloudwatch.amazonaws.com" in services["Principal"]["Service"]
    assert services["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    logs = by_sid["CloudWatchLogsEncryptLogGroups"]
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}


def test_alarm_topic_is_encrypted_with_the_project_key(records):
    key = records.one("aws:kms/key:Key")
    topic = records.one("aws:sns/topic:Topic", "foundation-alarms")
    assert topic["inputs"]["kmsMasterKeyId"] == key["state"]["arn"]
    topic_policy = parse_json_input(records.one("aws:sns/topicPolicy:TopicPolicy")["inputs"]["policy"])
    deny = next(s for s in topic_policy["Statement"] if s["Effect"] == "Deny")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_email_subscription_follows_notification_email(records):
    subscription = records.one("aws:sns/topicSubscription:TopicSubscription")
    assert subscription["inputs"]["protocol"] == "email"
    assert subscription["inputs"]["endpoint"] == records.data["config"]["sagemaker-mlops:notificationEmail"]


def test_no_subscription_without_notification_email():
    assert stack_records("dev", "notificationEmail=null").of_type("aws:sns/topicSubscription:TopicSubscription") == []


@pytest.mark.parametrize("stack, azs, nats", [("dev", 2, 1), ("prod", 2, 2)])
def test_shipped_network_shape(stack, azs, nats):
    assert_network(stack_records(stack), azs, nats)


def test_three_azs_with_three_nat_gateways():
    assert_network(stack_records("prod", "network.azCount=3", "network.natGateways=3"), 3, 3)


def assert_network(records, azs: int, nats: int) -> None:
    vpc = records.one("aws:ec2/vpc:Vpc")
    assert vpc["inputs"]["enableDnsHostnames"] is True and vpc["inputs"]["enableDnsSupport"] is True
    subnets = records.of_type("aws:ec2/subnet:Subnet")
    public = [s for s in subnets if s["inputs"]["tags"]["Tier"] == "public"]
    private = [s for s in subnets if s["inputs"]["tags"]["Tier"] == "private"]
    assert len(public) == len(private) == azs
    for tier in (public, private):
        assert sorted(s["inputs"]["availabilityZone"] for s in tier) == [f"us-east-1{c}" for c in "abc"[:azs]]
        assert all(s["inputs"]["mapPublicIpOnLaunch"] is False for s in tier)
    networks = [ipaddress.ip_network(s["inputs"]["cidrBlock"]) for s in subnets]
    assert all(n.subnet_of(ipaddress.ip_network(vpc["inputs"]["cidrBlock"])) for n in networks)
    assert not any(a.overlaps(b) for i, a in enumerate(networks) for b in networks[i + 1 :])

    nat_gateways = records.of_type("aws:ec2/natGateway:NatGateway")
    assert len(nat_gateways) == nats and len(records.of_type("aws:ec2/eip:Eip")) == nats
    public_urns = {s["urn"] for s in public}
    for nat in nat_gateways:  # NAT gateways sit in public subnets
        assert set(nat["property_dependencies"]["subnetId"]) <= public_urns

    route_tables = records.of_type("aws:ec2/routeTable:RouteTable")
    private_tables = [t for t in route_tables if "private" in t["name"]]
    assert len(private_tables) == azs
    nat_urns = {n["urn"] for n in nat_gateways}
    used_nats = set()
    for table in private_tables:
        [route] = table["inputs"]["routes"]
        assert route["cidrBlock"] == "0.0.0.0/0" and route["natGatewayId"].startswith("nat-")
        used_nats |= set(table["property_dependencies"]["routes"]) & nat_urns
    assert used_nats == nat_urns  # every NAT gateway carries traffic
    public_table = next(t for t in route_tables if "public" in t["name"])
    assert public_table["inputs"]["routes"][0]["gatewayId"].startswith("igw-")

    endpoint = records.one("aws:ec2/vpcEndpoint:VpcEndpoint")
    assert endpoint["inputs"]["serviceName"] == "com.amazonaws.us-east-1.s3"
    assert endpoint["inputs"]["vpcEndpointType"] == "Gateway"
    assert len(endpoint["inputs"]["routeTableIds"]) == azs
    default_sg = records.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert default_sg["inputs"].get("ingress", []) == [] and default_sg["inputs"].get("egress", []) == []


def test_common_tags_come_from_the_provider_default_tags(records):
    provider = records.one("pulumi:providers:aws")
    tags = parse_json_input(provider["inputs"]["defaultTags"])["tags"]
    env = records.data["config"]["sagemaker-mlops:environment"]
    assert tags == {
        "Project": "sagemaker-mlops",
        "Environment": env,
        # The team's own values, read from the stack file (a team that puts in its own passes).
        "Owner": records.data["config"]["sagemaker-mlops:owner"],
        "CostCenter": records.data["config"]["sagemaker-mlops:costCenter"],
        "ManagedBy": "pulumi",
    }
    # Every AWS resource uses that provider, so every taggable one gets the tags.
    aws_resources = [r for r in records.resources if r["type"].startswith("aws:")]
    assert aws_resources and all(r["provider"].startswith(provider["urn"] + "::") for r in aws_resources)


def test_outputs_are_exported(records):
    outputs = records.outputs
    assert outputs["kmsKeyArn"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
    assert outputs["alarmTopicArn"].endswith(f"mlops-{records.data['config']['sagemaker-mlops:environment']}-alarms")
    assert outputs["vpcId"].startswith("vpc-")
    assert len(outputs["privateSubnetIds"]) == len(outputs["publicSubnetIds"]) == 2
