"""Guardrails for what a careless change would add or flip: force-deletable storage, open ingress,
EC2 instances, function URLs, notebooks, Studio, public ACLs, databases. Each both ways."""

from __future__ import annotations

from policy_testkit import KEY_ARN, Stack, analyze, assert_fails, assert_passes

SUBNET = "subnet-0a1b2c3d4e5f60718"


def test_prod_storage_cannot_be_force_deleted_and_dev_may(pack):
    stack = Stack()
    kept = stack.add("aws:s3/bucket:Bucket", "kept", {"forceDestroy": False})
    doomed = stack.add("aws:s3/bucket:Bucket", "doomed", {"forceDestroy": True})
    doomed_v2 = stack.add("aws:s3/bucketV2:BucketV2", "doomed-v2", {"forceDestroy": "true"})  # the deprecated type, config-style text
    stack.add("aws:ecr/repository:Repository", "repo-kept", {"forceDelete": False})
    doomed_repo = stack.add("aws:ecr/repository:Repository", "repo-doomed", {"forceDelete": True})
    result = analyze(pack, stack)
    assert_fails(result, "s3-bucket-no-force-destroy", doomed, "'doomed' has force_destroy=True", "Set force_destroy=False")
    assert_fails(result, "s3-bucket-no-force-destroy", doomed_v2, "'doomed-v2' has force_destroy=True")
    assert_fails(result, "ecr-repository-no-force-delete", doomed_repo, "'repo-doomed' has force_delete=True", "Set force_delete=False")
    assert not [
        v for v in result.violations if v.urn in (kept, stack.urn("aws:ecr/repository:Repository", "repo-kept")) and "force" in v.policy
    ]

    dev = Stack("dev")
    dev.add("aws:s3/bucket:Bucket", "doomed", {"forceDestroy": True})
    dev.add("aws:ecr/repository:Repository", "repo-doomed", {"forceDelete": True})
    result = analyze(pack, dev)
    assert {p.name: p.level for p in result.policies if "force" in p.name} == {
        "s3-bucket-no-force-destroy": "disabled",
        "ecr-repository-no-force-delete": "disabled",
    }
    assert_passes(result, "s3-bucket-no-force-destroy")
    assert_passes(result, "ecr-repository-no-force-delete")


def test_only_80_and_443_may_face_the_internet(pack):
    stack = Stack()
    stack.add(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "https",
        {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv4": "0.0.0.0/0"},
    )
    stack.add(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "vpc-ssh",
        {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "10.0.0.0/16"},
    )
    stack.add(
        "aws:ec2/securityGroup:SecurityGroup",
        "web",
        {"ingress": [{"protocol": "tcp", "fromPort": 80, "toPort": 80, "cidrBlocks": ["0.0.0.0/0"]}]},
    )
    stack.add(
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "egress-all",
        {"type": "egress", "protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]},
    )
    assert_passes(analyze(pack, stack), "ec2-no-open-ingress")

    stack = Stack()
    ssh = stack.add(
        "aws:ec2/securityGroup:SecurityGroup",
        "ssh",
        {"ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}]},
    )
    everything = stack.add(
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "all",
        {"type": "ingress", "protocol": "-1", "fromPort": 0, "toPort": 0, "ipv6CidrBlocks": ["::/0"]},
    )
    span = stack.add(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "span",
        {"ipProtocol": "tcp", "fromPort": 80, "toPort": 443, "cidrIpv4": "0.0.0.0/0"},
    )
    # "all" is the provider's other spelling of -1; IPv6 in an inline rule.
    web_all = stack.add(
        "aws:ec2/securityGroup:SecurityGroup",
        "web-all",
        {"ingress": [{"protocol": "all", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}]},
    )
    ssh_v6 = stack.add(
        "aws:ec2/securityGroup:SecurityGroup",
        "ssh-v6",
        {"ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "ipv6CidrBlocks": ["::/0"]}]},
    )
    result = analyze(pack, stack)
    assert_fails(result, "ec2-no-open-ingress", web_all, "opens every port and protocol to 0.0.0.0/0")
    assert_fails(result, "ec2-no-open-ingress", ssh_v6, "opens port 22/tcp to ::/0")
    assert_fails(result, "ec2-no-open-ingress", ssh, "ingress rule 0 opens port 22/tcp to 0.0.0.0/0", "SSM Session Manager")
    assert_fails(result, "ec2-no-open-ingress", everything, "opens every port and protocol to ::/0")
    assert_fails(result, "ec2-no-open-ingress", span, "opens ports 80-443/tcp")


def test_ec2_instances_need_imdsv2_encrypted_volumes_and_no_public_ip(pack):
    stack = Stack()
    stack.add(
        "aws:ec2/instance:Instance",
        "hardened",
        {"metadataOptions": {"httpTokens": "required"}, "rootBlockDevice": {"encrypted": True, "kmsKeyId": KEY_ARN}, "subnetId": SUBNET},
    )
    assert_passes(analyze(pack, stack), "ec2-instance-hardened")

    stack = Stack()
    box = stack.add("aws:ec2/instance:Instance", "box", {"associatePublicIpAddress": True, "ebsBlockDevices": [{"deviceName": "/dev/sdf"}]})
    result = analyze(pack, stack)
    assert_fails(
        result,
        "ec2-instance-hardened",
        box,
        "IMDSv1 is allowed",
        "root volume is not encrypted",
        "EBS volume /dev/sdf",
        "public IP address",
    )


def test_notebook_instances_are_private_rootless_and_encrypted(pack):
    stack = Stack()
    stack.add(
        "aws:sagemaker/notebookInstance:NotebookInstance",
        "private",
        {
            "instanceType": "ml.m5.large",
            "directInternetAccess": "Disabled",
            "subnetId": SUBNET,
            "rootAccess": "Disabled",
            "kmsKeyId": KEY_ARN,
            "instanceMetadataServiceConfiguration": {"minimumInstanceMetadataServiceVersion": "2"},
        },
    )
    assert_passes(analyze(pack, stack), "sagemaker-notebook-hardened")

    stack = Stack()
    notebook = stack.add("aws:sagemaker/notebookInstance:NotebookInstance", "open", {"instanceType": "ml.m5.large"})
    result = analyze(pack, stack)
    assert_fails(
        result, "sagemaker-notebook-hardened", notebook, "direct internet access is on", "no subnet_id", "root", "project key", "IMDSv1"
    )


def test_studio_is_vpc_only_and_encrypted(pack):
    sharing = {"sharingSettings": {"notebookOutputOption": "Allowed", "s3OutputPath": "s3://b/shared", "s3KmsKeyId": KEY_ARN}}
    stack = Stack()
    stack.add(
        "aws:sagemaker/domain:Domain", "studio", {"appNetworkAccessType": "VpcOnly", "kmsKeyId": KEY_ARN, "defaultUserSettings": sharing}
    )
    stack.add("aws:sagemaker/userProfile:UserProfile", "user", {"userSettings": sharing})
    stack.add(
        "aws:sagemaker/userProfile:UserProfile", "no-sharing", {"userSettings": {"sharingSettings": {"notebookOutputOption": "Disabled"}}}
    )
    assert_passes(analyze(pack, stack), "sagemaker-studio-private")

    stack = Stack()
    domain = stack.add("aws:sagemaker/domain:Domain", "studio", {"authMode": "IAM"})
    user = stack.add(
        "aws:sagemaker/userProfile:UserProfile", "user", {"userSettings": {"sharingSettings": {"notebookOutputOption": "Allowed"}}}
    )
    result = analyze(pack, stack)
    assert_fails(result, "sagemaker-studio-private", domain, "PublicInternetOnly (the default), not VpcOnly", "EFS home directories")
    assert_fails(result, "sagemaker-studio-private", user, "user_settings shares notebook output to S3 without the project key")
