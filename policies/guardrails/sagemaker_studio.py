"""SageMaker notebooks and Studio: what a data scientist's workspace must not open.

The program declares none of these; they are what an ML team adds first ("just a notebook to
look at the data"). A notebook instance with direct internet access and root, or a Studio domain
on the public internet, is a way around every other guardrail: it runs with a role that reads the
training data and can send it anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable

from pulumi_policy import ResourceValidationArgs

from guardrails.common import (
    bullet_list,
    get_path,
    is_customer_managed_key,
    resource_policy,
)

NOTEBOOK = "aws:sagemaker/notebookInstance:NotebookInstance"
DOMAIN = "aws:sagemaker/domain:Domain"
USER_PROFILE = "aws:sagemaker/userProfile:UserProfile"


def _notebook(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    props = args.props
    problems = []
    # Both default to "Enabled" on the AWS side when omitted.
    if props.get("directInternetAccess") != "Disabled":
        problems.append("direct internet access is on (direct_internet_access is not 'Disabled'): the notebook can send data anywhere")
    if not props.get("subnetId"):
        problems.append("no subnet_id: the notebook is not in the VPC (direct internet access can only be disabled in a VPC)")
    if props.get("rootAccess") != "Disabled":
        problems.append("users get root on the instance (root_access is not 'Disabled')")
    if not is_customer_managed_key(props.get("kmsKeyId")):
        problems.append("its ML storage volume is not encrypted with the project key (no kms_key_id)")
    if get_path(props, "instanceMetadataServiceConfiguration", "minimumInstanceMetadataServiceVersion") != "2":
        problems.append("IMDSv1 is allowed (instance_metadata_service_configuration.minimum_instance_metadata_service_version is not '2')")
    if problems:
        report(
            f"{args.resource_type} '{args.name}' is an open workspace:{bullet_list(problems)}\n"
            "Set direct_internet_access='Disabled' with subnet_id=<a private subnet> and security_groups, root_access='Disabled', "
            "kms_key_id=<the project KMS key ARN> and instance_metadata_service_configuration="
            "aws.sagemaker.NotebookInstanceInstanceMetadataServiceConfigurationArgs(minimum_instance_metadata_service_version='2')."
        )


def _sharing_problem(where: str, settings: Any) -> str:
    sharing = get_path(settings, "sharingSettings")
    if (
        isinstance(sharing, Mapping)
        and sharing.get("notebookOutputOption") == "Allowed"
        and not is_customer_managed_key(sharing.get("s3KmsKeyId"))
    ):
        return f"{where} shares notebook output to S3 without the project key (sharing_settings.s3_kms_key_id)"
    return ""


def _studio(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    props = args.props
    problems = []
    if args.resource_type == DOMAIN:
        # AWS's default is PublicInternetOnly: Studio apps reach the internet around the VPC.
        if props.get("appNetworkAccessType") != "VpcOnly":
            problems.append(
                f"app_network_access_type is {props.get('appNetworkAccessType') or 'PublicInternetOnly (the default)'}, not VpcOnly"
            )
        if not is_customer_managed_key(props.get("kmsKeyId")):
            problems.append("the domain's EFS home directories are not encrypted with the project key (no kms_key_id)")
        problems.append(_sharing_problem("default_user_settings", props.get("defaultUserSettings")))
    else:
        problems.append(_sharing_problem("user_settings", props.get("userSettings")))
    problems = [p for p in problems if p]
    if problems:
        report(
            f"{args.resource_type} '{args.name}' exposes Studio data:{bullet_list(problems)}\n"
            "Set app_network_access_type='VpcOnly' with the private subnets and a security group, kms_key_id=<the project KMS key "
            "ARN>, and s3_kms_key_id=<the project KMS key ARN> wherever sharing_settings allow notebook output."
        )


sagemaker_notebook_hardened = resource_policy(
    "sagemaker-notebook-hardened",
    "SageMaker notebook instances run in the VPC without direct internet access or root, with the project KMS key and IMDSv2.",
    [NOTEBOOK],
    _notebook,
)
sagemaker_studio_private = resource_policy(
    "sagemaker-studio-private",
    "SageMaker Studio domains are VPC-only and encrypted with the project KMS key; shared notebook output is encrypted with it too.",
    [DOMAIN, USER_PROFILE],
    _studio,
)

POLICIES = [sagemaker_notebook_hardened, sagemaker_studio_private]
