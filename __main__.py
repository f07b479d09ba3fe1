"""sagemaker-mlops: composes the components from the validated stack configuration."""

import pulumi
import pulumi_aws as aws

from components.config import ConfigError, load_stack_config
from components.foundation import Foundation, FoundationArgs

try:
    config = load_stack_config()
except ConfigError as error:
    # RunError is printed without a stack trace, and nothing has been declared yet.
    raise pulumi.RunError(str(error)) from None

# One provider for the whole program so that every taggable resource carries the common tags.
provider = aws.Provider(
    "aws",
    region=config.region,
    default_tags=aws.ProviderDefaultTagsArgs(tags=config.tags),
)
with_provider = pulumi.ResourceOptions(providers=[provider])

foundation = Foundation(
    "foundation",
    FoundationArgs(
        name_prefix=config.name_prefix,
        region=config.region,
        az_count=config.network.az_count,
        nat_gateways=config.network.nat_gateways,
        notification_email=config.notification_email,
        key_deletion_window_days=30 if config.is_prod else 7,
    ),
    opts=with_provider,
)

pulumi.export("kmsKeyArn", foundation.key_arn)
pulumi.export("alarmTopicArn", foundation.alarm_topic_arn)
pulumi.export("vpcId", foundation.vpc_id)
pulumi.export("publicSubnetIds", foundation.public_subnet_ids)
pulumi.export("privateSubnetIds", foundation.private_subnet_ids)
