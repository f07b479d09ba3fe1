"""Guardrails for what a careless change would add or flip: force-deletable storage, open ingress,
EC2 instances, function URLs, notebooks, Studio, public ACLs, databases. Each both ways."""

from __future__ import annotations

import pytest
from policy_testkit import KEY_ARN, Case, Stack, analyze, analyze_cases, assert_case, assert_fails, assert_passes

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


# ---- ingress and instances at their edges: one engine session over a table of resources ----------

SG_RULE, INGRESS_RULE, INSTANCE = (
    "aws:ec2/securityGroupRule:SecurityGroupRule",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:ec2/instance:Instance",
)
HARDENED = {"metadataOptions": {"httpTokens": "required"}, "rootBlockDevice": {"encrypted": True, "kmsKeyId": KEY_ARN}, "subnetId": SUBNET}


def _rule(id_: str, denied, from_port, to_port, protocol: str = "tcp", **extra) -> Case:
    inputs = {"type": "ingress", "protocol": protocol, "fromPort": from_port, "toPort": to_port, "cidrBlocks": ["0.0.0.0/0"], **extra}
    return Case("ec2-no-open-ingress", id_, SG_RULE, inputs, denied)


def _instance(id_: str, denied, **changes) -> Case:
    return Case("ec2-instance-hardened", id_, INSTANCE, {**HARDENED, **changes}, denied)


CASES = [
    _rule("rule-https", None, 443, 443),
    _rule("rule-http-as-text", None, "80", "80"),
    _rule("rule-ssh", "the rule opens port 22/tcp to 0.0.0.0/0", 22, 22),
    _rule("rule-below-https", "the rule opens ports 442-443/tcp to 0.0.0.0/0", 442, 443),
    _rule("rule-above-http", "the rule opens ports 80-81/tcp to 0.0.0.0/0", 80, 81),
    _rule("rule-ports-unset", "/udp to 0.0.0.0/0", None, None, protocol="udp"),
    _rule("rule-egress", None, 0, 65535, type="egress"),
    _rule("rule-inside-the-vpc", None, 22, 22, cidrBlocks=["10.0.0.0/16"]),
    Case(
        "ec2-no-open-ingress",
        "ingress-rule-v6-ssh",
        INGRESS_RULE,
        {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv6": "::/0"},
        "the rule opens port 22/tcp to ::/0",
    ),
    Case(
        "ec2-no-open-ingress",
        "ingress-rule-all",
        INGRESS_RULE,
        {"ipProtocol": "-1", "cidrIpv4": "0.0.0.0/0"},
        "opens every port and protocol",
    ),
    _instance("hardened", None),
    _instance("imds-optional", "IMDSv1 is allowed", metadataOptions={"httpTokens": "optional"}),
    _instance("root-unencrypted", "its root volume is not encrypted", rootBlockDevice={"encrypted": False}),
    _instance("encrypted-ebs", None, ebsBlockDevices=[{"deviceName": "/dev/sdf", "encrypted": True, "kmsKeyId": KEY_ARN}]),
    _instance("unnamed-ebs", "EBS volume 1 is not encrypted", ebsBlockDevices=[{"deviceName": "/dev/sdf", "encrypted": "true"}, {}]),
    _instance("public-ip", "it gets a public IP address", associatePublicIpAddress=True),
    Case(
        "ecs-no-public-ip",
        "task-set-public",
        "aws:ecs/taskSet:TaskSet",
        {"service": "s", "cluster": "c", "taskDefinition": "t", "networkConfiguration": {"subnets": [SUBNET], "assignPublicIp": True}},
        "gives its tasks public IP addresses",
    ),
    Case(
        "ecs-no-public-ip",
        "task-set-private",
        "aws:ecs/taskSet:TaskSet",
        {"service": "s", "cluster": "c", "taskDefinition": "t", "networkConfiguration": {"subnets": [SUBNET], "assignPublicIp": False}},
        None,
    ),
]


@pytest.fixture(scope="module")
def table_result(pack):
    return analyze_cases(pack, CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_rule_instance_and_task_set_is_judged_on_its_own(table_result, case):
    result, urns = table_result
    message = assert_case(result, urns, case)
    if message is not None and case.type == INSTANCE:  # one problem per case: only the setting the case breaks
        assert message.count("\n  - ") == 1, message


def test_each_finding_names_the_resource_every_problem_and_the_fix(pack):
    """The whole messages, as the preview prints them (the engine puts the policy's description first)."""
    stack = Stack()
    group = stack.add(
        "aws:ec2/securityGroup:SecurityGroup",
        "open",
        {
            "ingress": [
                {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]},
                {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"], "ipv6CidrBlocks": ["::/0"]},
                {"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]},
            ]
        },
    )
    box = stack.add(INSTANCE, "box", {"associatePublicIpAddress": True, "ebsBlockDevices": [{"deviceName": "/dev/sdf"}]})
    repo = stack.add("aws:ecr/repository:Repository", "repo", {"forceDelete": True})
    bucket = stack.add("aws:s3/bucket:Bucket", "doomed", {"forceDestroy": True})
    service = stack.add("aws:ecs/service:Service", "public", {"networkConfiguration": {"subnets": [SUBNET], "assignPublicIp": True}})
    result = analyze(pack, stack)
    assert assert_fails(result, "ec2-no-open-ingress", group) == (
        "No security group rule opens a port other than 80/443 to the whole internet (0.0.0.0/0 or ::/0).\n"
        "aws:ec2/securityGroup:SecurityGroup 'open' lets the whole internet in: ingress rule 1 opens port 22/tcp to 0.0.0.0/0, ::/0; "
        "ingress rule 2 opens every port and protocol to 0.0.0.0/0. Only ports 443 and 80 (redirected to HTTPS) of a load balancer "
        "may face 0.0.0.0/0 or ::/0. Restrict the source to the VPC, a security group (referenced_security_group_id) or a known "
        "CIDR; reach instances with SSM Session Manager instead of SSH/RDP."
    )
    assert assert_fails(result, "ec2-instance-hardened", box) == (
        "EC2 instances require IMDSv2, encrypt their volumes and get no public IP address.\n"
        f"{INSTANCE} 'box' is not hardened:\n"
        "  - IMDSv1 is allowed (metadata_options.http_tokens is not 'required'): an SSRF in any process on it can read the "
        "instance role's credentials\n"
        "  - its root volume is not encrypted (root_block_device.encrypted is not True, with kms_key_id = the project key)\n"
        "  - EBS volume /dev/sdf is not encrypted\n"
        "  - it gets a public IP address (associate_public_ip_address=True): put it in a private subnet\n"
        "Set metadata_options=aws.ec2.InstanceMetadataOptionsArgs(http_tokens='required'), "
        "root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(encrypted=True, kms_key_id=<the project KMS key ARN>) and "
        "associate_public_ip_address=False (a private subnet; reach it through SSM Session Manager)."
    )
    assert assert_fails(result, "ecs-no-public-ip", service) == (
        "ECS services and task sets do not assign public IP addresses to tasks.\n"
        "aws:ecs/service:Service 'public' gives its tasks public IP addresses, so they are reachable from the internet around "
        "the load balancer and its authentication. Set network_configuration.assign_public_ip=False and run the tasks in "
        "private subnets."
    )
    assert assert_fails(result, "s3-bucket-no-force-destroy", bucket) == (
        "S3 buckets cannot be deleted with their contents (no force_destroy).\n"
        "aws:s3/bucket:Bucket 'doomed' has force_destroy=True: deleting or replacing it deletes every object and version in it "
        "(data sets, model artifacts, logs) without a prompt. Set force_destroy=False for this stack "
        "(components.shared.secure_bucket.SecureBucketArgs.force_destroy); empty a bucket by hand when you really mean to."
    )
    repository = "aws:ecr/repository:Repository 'repo'"
    assert assert_fails(result, "ecr-repository-no-force-delete", repo) == (
        "ECR repositories cannot be deleted with their images (no force_delete).\n"
        f"{repository} has force_delete=True: deleting or replacing it deletes every image in it, including the digests the "
        "running endpoint, pipeline and services pull. Set force_delete=False for this stack "
        "(components.shared.container_image.ContainerImageArgs.force_delete)."
    )
    assert assert_fails(result, "ecr-scan-on-push", repo) == (
        "ECR repositories scan every image on push.\n"
        f"{repository} does not scan images on push, so known vulnerabilities in a new image go unnoticed. Set "
        "image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True)."
    )
    assert assert_fails(result, "ecr-immutable-tags", repo) == (
        "ECR repositories have immutable tags.\n"
        f"{repository} has MUTABLE tags: a push can silently replace the image a tag names. Set image_tag_mutability='IMMUTABLE' "
        "(and reference images by digest)."
    )
    assert assert_fails(result, "ecr-repository-encrypted", repo) == (
        "ECR repositories are encrypted with a customer-managed KMS key.\n"
        f"{repository} is not encrypted with the project's KMS key (AES256 or the AWS-managed aws/ecr key). Set "
        "encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type='KMS', "
        "kms_key=<the project KMS key ARN>)] (a new repository: encryption cannot be changed later)."
    )


# ---- notebooks and Studio at their edges ----------------------------------------------------------

NOTEBOOK, DOMAIN, USER = (
    "aws:sagemaker/notebookInstance:NotebookInstance",
    "aws:sagemaker/domain:Domain",
    "aws:sagemaker/userProfile:UserProfile",
)
PRIVATE_NOTEBOOK = {
    "instanceType": "ml.m5.large",
    "directInternetAccess": "Disabled",
    "subnetId": SUBNET,
    "rootAccess": "Disabled",
    "kmsKeyId": KEY_ARN,
    "instanceMetadataServiceConfiguration": {"minimumInstanceMetadataServiceVersion": "2"},
}
PRIVATE_DOMAIN = {"appNetworkAccessType": "VpcOnly", "kmsKeyId": KEY_ARN, "authMode": "IAM"}


def _notebook(id_: str, denied, **changes) -> Case:
    inputs = {**PRIVATE_NOTEBOOK, **changes}
    return Case("sagemaker-notebook-hardened", id_, NOTEBOOK, {k: v for k, v in inputs.items() if v is not None}, denied)


def _sharing(option: str, key=None) -> dict:
    return {"sharingSettings": {"notebookOutputOption": option, "s3OutputPath": "s3://b/shared", **({"s3KmsKeyId": key} if key else {})}}


WORKSPACE_CASES = [
    _notebook("notebook-private", None),
    _notebook("notebook-internet", "direct internet access is on", directInternetAccess="Enabled"),
    _notebook("notebook-outside-the-vpc", "no subnet_id", subnetId=None),
    _notebook("notebook-root", "users get root on the instance", rootAccess="Enabled"),
    _notebook("notebook-aws-key", "its ML storage volume is not encrypted with the project key", kmsKeyId="alias/aws/sagemaker"),
    _notebook("notebook-imds-v1", "IMDSv1 is allowed", instanceMetadataServiceConfiguration={"minimumInstanceMetadataServiceVersion": "1"}),
    Case("sagemaker-studio-private", "domain-private", DOMAIN, PRIVATE_DOMAIN, None),
    Case(
        "sagemaker-studio-private",
        "domain-public",
        DOMAIN,
        {**PRIVATE_DOMAIN, "appNetworkAccessType": "PublicInternetOnly"},
        "app_network_access_type is PublicInternetOnly, not VpcOnly",
    ),
    Case(
        "sagemaker-studio-private",
        "domain-sharing-unencrypted",
        DOMAIN,
        {**PRIVATE_DOMAIN, "defaultUserSettings": _sharing("Allowed")},
        "default_user_settings shares notebook output",
    ),
    Case(
        "sagemaker-studio-private",
        "domain-sharing-encrypted",
        DOMAIN,
        {**PRIVATE_DOMAIN, "defaultUserSettings": _sharing("Allowed", KEY_ARN)},
        None,
    ),
    Case("sagemaker-studio-private", "user-sharing-disabled", USER, {"userSettings": _sharing("Disabled")}, None),
    Case(
        "sagemaker-studio-private",
        "user-sharing-aws-key",
        USER,
        {"userSettings": _sharing("Allowed", "alias/aws/s3")},
        "user_settings shares notebook output",
    ),
    Case("sagemaker-studio-private", "user-no-settings", USER, {"domainId": "d", "userProfileName": "u"}, None),
]


@pytest.fixture(scope="module")
def workspace_result(pack):
    return analyze_cases(pack, WORKSPACE_CASES)


@pytest.mark.parametrize("case", WORKSPACE_CASES, ids=[c.id for c in WORKSPACE_CASES])
def test_each_workspace_setting_is_required_on_its_own(workspace_result, case):
    result, urns = workspace_result
    message = assert_case(result, urns, case)
    if message is not None:  # one problem per case: only the setting the case breaks
        assert message.count("\n  - ") == 1, message


def test_each_workspace_finding_names_every_problem_and_the_fix(pack):
    """The whole messages, as the preview prints them (the engine puts the policy's description first)."""
    stack = Stack()
    notebook = stack.add(NOTEBOOK, "open", {"instanceType": "ml.m5.large"})
    domain = stack.add(DOMAIN, "studio", {"authMode": "IAM", "defaultUserSettings": _sharing("Allowed")})
    result = analyze(pack, stack)
    assert assert_fails(result, "sagemaker-notebook-hardened", notebook) == (
        "SageMaker notebook instances run in the VPC without direct internet access or root, with the project KMS key and IMDSv2.\n"
        f"{NOTEBOOK} 'open' is an open workspace:\n"
        "  - direct internet access is on (direct_internet_access is not 'Disabled'): the notebook can send data anywhere\n"
        "  - no subnet_id: the notebook is not in the VPC (direct internet access can only be disabled in a VPC)\n"
        "  - users get root on the instance (root_access is not 'Disabled')\n"
        "  - its ML storage volume is not encrypted with the project key (no kms_key_id)\n"
        "  - IMDSv1 is allowed (instance_metadata_service_configuration.minimum_instance_metadata_service_version is not '2')\n"
        "Set direct_internet_access='Disabled' with subnet_id=<a private subnet> and security_groups, root_access='Disabled', "
        "kms_key_id=<the project KMS key ARN> and instance_metadata_service_configuration="
        "aws.sagemaker.NotebookInstanceInstanceMetadataServiceConfigurationArgs(minimum_instance_metadata_service_version='2')."
    )
    assert assert_fails(result, "sagemaker-studio-private", domain) == (
        "SageMaker Studio domains are VPC-only and encrypted with the project KMS key; shared notebook output is encrypted with it too.\n"
        f"{DOMAIN} 'studio' exposes Studio data:\n"
        "  - app_network_access_type is PublicInternetOnly (the default), not VpcOnly\n"
        "  - the domain's EFS home directories are not encrypted with the project key (no kms_key_id)\n"
        "  - default_user_settings shares notebook output to S3 without the project key (sharing_settings.s3_kms_key_id)\n"
        "Set app_network_access_type='VpcOnly' with the private subnets and a security group, kms_key_id=<the project KMS key "
        "ARN>, and s3_kms_key_id=<the project KMS key ARN> wherever sharing_settings allow notebook output."
    )
