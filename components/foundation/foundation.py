"""Foundation: the customer-managed KMS key, the alarm topic and the network every other part uses."""

from __future__ import annotations

import ipaddress
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.foundation.args import FoundationArgs as FoundationArgs
from components.shared.iam import policy_document, statement

# /20 subnets: public ones take the first slots, private ones start at this offset, so adding an
# AZ later never renumbers an existing subnet.
PRIVATE_SUBNET_OFFSET = 8


def subnet_cidrs(vpc_cidr: str, az_count: int) -> tuple[list[str], list[str]]:
    """(public, private) /20 CIDR blocks, one of each per AZ."""
    blocks = list(ipaddress.ip_network(vpc_cidr).subnets(new_prefix=20))
    public = [str(blocks[i]) for i in range(az_count)]
    private = [str(blocks[PRIVATE_SUBNET_OFFSET + i]) for i in range(az_count)]
    return public, private


class Foundation(pulumi.ComponentResource):
    key_arn: pulumi.Output[str]
    key_id: pulumi.Output[str]
    alarm_topic_arn: pulumi.Output[str]
    vpc_id: pulumi.Output[str]
    vpc_cidr: str
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: FoundationArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("sagemaker-mlops:foundation:Foundation", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self))
        account_root = pulumi.Output.format("arn:{0}:iam::{1}:root", partition.partition, identity.account_id)

        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"{args.name_prefix}: encrypts buckets, SageMaker volumes and outputs, data capture, topics and logs",
            enable_key_rotation=True,
            deletion_window_in_days=args.key_deletion_window_days,
            policy=self._key_policy(args.region, account_root, identity.account_id, args.consumer_accounts),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect_key),
        )
        aws.kms.Alias(f"{name}-key-alias", name=f"alias/{args.name_prefix}", target_key_id=self.key.key_id, opts=child)

        self.alarm_topic = aws.sns.Topic(
            f"{name}-alarms",
            name=f"{args.name_prefix}-alarms",
            kms_master_key_id=self.key.arn,
            opts=child,
        )
        aws.sns.TopicPolicy(
            f"{name}-alarms-policy",
            arn=self.alarm_topic.arn,
            policy=policy_document(
                statement(
                    ["sns:Publish"],
                    [self.alarm_topic.arn],
                    sid="AlarmsAndEventsPublish",
                    principals={"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com", "codestar-notifications.amazonaws.com"]},
                    conditions={"StringEquals": {"aws:SourceAccount": identity.account_id}},
                ),
                statement(
                    ["sns:*"],
                    [self.alarm_topic.arn],
                    sid="DenyInsecureTransport",
                    effect="Deny",
                    principals={"AWS": "*"},
                    conditions={"Bool": {"aws:SecureTransport": "false"}},
                ),
            ),
            opts=child,
        )
        if args.notification_email:
            aws.sns.TopicSubscription(
                f"{name}-alarms-email",
                topic=self.alarm_topic.arn,
                protocol="email",
                endpoint=args.notification_email,
                opts=child,
            )

        self._network(name, args, child)

        self.key_arn = self.key.arn
        self.key_id = self.key.key_id
        self.alarm_topic_arn = self.alarm_topic.arn
        self.register_outputs(
            {
                "key_arn": self.key_arn,
                "alarm_topic_arn": self.alarm_topic_arn,
                "vpc_id": self.vpc_id,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids,
            }
        )

    @staticmethod
    def _key_policy(
        region: str, account_root: pulumi.Output[str], account_id: pulumi.Output[str], consumer_accounts: tuple[str, ...] = ()
    ) -> pulumi.Output[str]:
        # Key policies must name the key as "*" (it is the key itself). IAM principals of the
        # account get access through their own least-privilege policies; services that publish
        # or write on the account's behalf (alarms to SNS, log groups) are granted here, scoped
        # to this account.
        use = ["kms:Decrypt", "kms:GenerateDataKey*"]
        consumers = []
        if consumer_accounts:
            consumers.append(
                statement(
                    ["kms:Decrypt", "kms:DescribeKey"],
                    ["*"],
                    sid="ConsumerAccountsDecryptModelsThroughS3AndEcr",
                    principals={"AWS": [f"arn:aws:iam::{a}:root" for a in consumer_accounts]},
                    conditions={"StringEquals": {"kms:ViaService": [f"s3.{region}.amazonaws.com", f"ecr.{region}.amazonaws.com"]}},
                )
            )
        return policy_document(
            statement(["kms:*"], ["*"], sid="AccountAdministersKeyThroughIam", principals={"AWS": account_root}),
            statement(
                use,
                ["*"],
                sid="AlarmAndEventServicesPublishToEncryptedTopics",
                principals={"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com", "codestar-notifications.amazonaws.com"]},
                conditions={"StringEquals": {"aws:SourceAccount": account_id}},
            ),
            # No kms:Describe*: DescribeKey carries no encryption context, so under this condition
            # it could never be allowed (AWS's sample policy lists it all the same).
            statement(
                ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
                ["*"],
                sid="CloudWatchLogsEncryptLogGroups",
                principals={"Service": f"logs.{region}.amazonaws.com"},
                conditions={
                    "ArnLike": {"kms:EncryptionContext:aws:logs:arn": pulumi.Output.format("arn:aws:logs:{0}:{1}:*", region, account_id)}
                },
            ),
            *consumers,
        )

    def _network(self, name: str, args: FoundationArgs, child: pulumi.ResourceOptions) -> None:
        zones = aws.get_availability_zones_output(state="available", opts=pulumi.InvokeOutputOptions(parent=self))
        public_cidrs, private_cidrs = subnet_cidrs(args.vpc_cidr, args.az_count)

        self.vpc_cidr = args.vpc_cidr
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": f"{args.name_prefix}-vpc"},
            opts=child,
        )
        self.vpc_id = vpc.id
        # Nothing may use the default security group: it allows all traffic between its members.
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id, ingress=[], egress=[], opts=child)

        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={"Name": f"{args.name_prefix}-igw"}, opts=child)
        public_routes = aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
            tags={"Name": f"{args.name_prefix}-public"},
            opts=child,
        )

        public_subnets, private_subnets = [], []
        for i in range(args.az_count):
            az = zones.names[i]
            public = aws.ec2.Subnet(
                f"{name}-public-{i}",
                vpc_id=vpc.id,
                cidr_block=public_cidrs[i],
                availability_zone=az,
                map_public_ip_on_launch=False,
                tags={"Name": f"{args.name_prefix}-public-{i}", "Tier": "public"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(f"{name}-public-{i}-rt", subnet_id=public.id, route_table_id=public_routes.id, opts=child)
            public_subnets.append(public)
            private_subnets.append(
                aws.ec2.Subnet(
                    f"{name}-private-{i}",
                    vpc_id=vpc.id,
                    cidr_block=private_cidrs[i],
                    availability_zone=az,
                    map_public_ip_on_launch=False,
                    tags={"Name": f"{args.name_prefix}-private-{i}", "Tier": "private"},
                    opts=child,
                )
            )

        nat_gateways = []
        for i in range(args.nat_gateways):
            eip = aws.ec2.Eip(f"{name}-nat-{i}-eip", domain="vpc", tags={"Name": f"{args.name_prefix}-nat-{i}"}, opts=child)
            nat_gateways.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{i}",
                    allocation_id=eip.id,
                    subnet_id=public_subnets[i % args.az_count].id,
                    tags={"Name": f"{args.name_prefix}-nat-{i}"},
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                )
            )

        private_route_tables = []
        for i, subnet in enumerate(private_subnets):
            # With fewer NAT gateways than AZs, AZs share one (cheaper, but an AZ outage cuts
            # egress for the AZs that share it: prod runs one per AZ).
            table = aws.ec2.RouteTable(
                f"{name}-private-{i}-rt",
                vpc_id=vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat_gateways[i % len(nat_gateways)].id)],
                tags={"Name": f"{args.name_prefix}-private-{i}"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(f"{name}-private-{i}-rt-assoc", subnet_id=subnet.id, route_table_id=table.id, opts=child)
            private_route_tables.append(table)

        # S3 traffic from SageMaker jobs and tasks stays on the AWS network and off the NAT bill.
        aws.ec2.VpcEndpoint(
            f"{name}-s3-endpoint",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[t.id for t in private_route_tables],
            tags={"Name": f"{args.name_prefix}-s3"},
            opts=child,
        )

        self.public_subnet_ids = [s.id for s in public_subnets]
        self.private_subnet_ids = [s.id for s in private_subnets]
