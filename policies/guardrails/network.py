"""Network and compute a careless change would add: open security groups, EC2 instances.

The program declares no EC2 instance and opens only 443 (and 80, which redirects) to the
internet on the dashboard's load balancer. A debugging bastion, a GPU box or "temporarily open
SSH" is the change these guardrails judge, whichever of the three ways pulumi-aws offers to write
an ingress rule (inline in aws.ec2.SecurityGroup, aws.ec2.SecurityGroupRule,
aws.vpc.SecurityGroupIngressRule) it uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable, Optional

from pulumi_policy import ResourceValidationArgs

from guardrails.common import as_list, get_path, num, resource_policy, truthy

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
INSTANCE = "aws:ec2/instance:Instance"
ANYWHERE = ("0.0.0.0/0", "::/0")
# The only ports the internet may reach: HTTPS, and HTTP that the load balancer redirects to it.
WEB_PORTS = (80, 443)


def _port(value: Any) -> Optional[int]:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _open_problem(where: str, protocol: Any, from_port: Any, to_port: Any, cidrs: list[Any]) -> Optional[str]:
    """Why one ingress rule lets the internet in on something other than 80/443, or None."""
    anywhere = [str(c) for c in cidrs if str(c) in ANYWHERE]
    if not anywhere:
        return None
    low, high = _port(from_port), _port(to_port)
    if str(protocol).lower() in ("-1", "all"):
        ports = "every port and protocol"
    elif low is None or high is None or low != high or low not in WEB_PORTS:
        ports = f"ports {num(from_port)}-{num(to_port)}/{protocol}" if low != high else f"port {num(from_port)}/{protocol}"
    else:
        return None
    return f"{where} opens {ports} to {', '.join(anywhere)}"


def _ingress(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    props = args.props
    problems: list[str] = []
    if args.resource_type == SECURITY_GROUP:
        for i, rule in enumerate(as_list(props.get("ingress"))):
            if isinstance(rule, Mapping):
                cidrs = as_list(rule.get("cidrBlocks")) + as_list(rule.get("ipv6CidrBlocks"))
                problems.append(
                    _open_problem(f"ingress rule {i}", rule.get("protocol"), rule.get("fromPort"), rule.get("toPort"), cidrs) or ""
                )
    elif args.resource_type == SECURITY_GROUP_RULE:
        if props.get("type") == "ingress":
            cidrs = as_list(props.get("cidrBlocks")) + as_list(props.get("ipv6CidrBlocks"))
            problems.append(_open_problem("the rule", props.get("protocol"), props.get("fromPort"), props.get("toPort"), cidrs) or "")
    else:
        cidrs = [props.get("cidrIpv4"), props.get("cidrIpv6")]
        problems.append(_open_problem("the rule", props.get("ipProtocol"), props.get("fromPort"), props.get("toPort"), cidrs) or "")
    problems = [p for p in problems if p]
    if problems:
        report(
            f"{args.resource_type} '{args.name}' lets the whole internet in: {'; '.join(problems)}. Only ports 443 and 80 (redirected "
            "to HTTPS) of a load balancer may face 0.0.0.0/0 or ::/0. Restrict the source to the VPC, a security group "
            "(referenced_security_group_id) or a known CIDR; reach instances with SSM Session Manager instead of SSH/RDP."
        )


def _instance(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    props = args.props
    problems = []
    if get_path(props, "metadataOptions", "httpTokens") != "required":
        problems.append(
            "IMDSv1 is allowed (metadata_options.http_tokens is not 'required'): an SSRF in any process on it can read the "
            "instance role's credentials"
        )
    if not truthy(get_path(props, "rootBlockDevice", "encrypted")):
        problems.append("its root volume is not encrypted (root_block_device.encrypted is not True, with kms_key_id = the project key)")
    for i, device in enumerate(as_list(props.get("ebsBlockDevices"))):
        if isinstance(device, Mapping) and not truthy(device.get("encrypted")):
            problems.append(f"EBS volume {device.get('deviceName') or i} is not encrypted")
    if truthy(props.get("associatePublicIpAddress")):
        problems.append("it gets a public IP address (associate_public_ip_address=True): put it in a private subnet")
    if problems:
        report(
            f"{args.resource_type} '{args.name}' is not hardened:" + "".join(f"\n  - {p}" for p in problems) + "\n"
            "Set metadata_options=aws.ec2.InstanceMetadataOptionsArgs(http_tokens='required'), "
            "root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(encrypted=True, kms_key_id=<the project KMS key ARN>) and "
            "associate_public_ip_address=False (a private subnet; reach it through SSM Session Manager)."
        )


ec2_no_open_ingress = resource_policy(
    "ec2-no-open-ingress",
    "No security group rule opens a port other than 80/443 to the whole internet (0.0.0.0/0 or ::/0).",
    [SECURITY_GROUP, SECURITY_GROUP_RULE, INGRESS_RULE],
    _ingress,
)
ec2_instance_hardened = resource_policy(
    "ec2-instance-hardened",
    "EC2 instances require IMDSv2, encrypt their volumes and get no public IP address.",
    [INSTANCE],
    _instance,
)

POLICIES = [ec2_no_open_ingress, ec2_instance_hardened]
