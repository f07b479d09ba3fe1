"""sagemaker-mlops: composes the components from the validated stack configuration."""

import pulumi
import pulumi_aws as aws

from components.api import HOOKS, ROUTE_AUTHORIZATION, STAGE_NAME, CanaryApi, CanaryApiArgs, api_function_name, hook_function_name
from components.config import (
    ConfigError,
    QuotaError,
    StackConfig,
    check_placeholders,
    is_deploying,
    load_stack_config,
    preflight_reserved_concurrency,
)
from components.dashboard import (
    CloudWatchDashboard,
    CloudWatchDashboardArgs,
    Dashboard,
    DashboardApi,
    DashboardArgs,
    DashboardEndpoint,
    WorkingHours,
)
from components.endpoint import ModelEndpoint, ModelEndpointArgs, drift_alarm_name
from components.foundation import Foundation, FoundationArgs
from components.shared import SecureBucket, SecureBucketArgs, boundary_arn, with_permissions_boundary
from components.training import (
    FEATURE_NAMES,
    SERVED_PACKAGE_OUTPUT,
    SERVED_VERSION_OUTPUT,
    ParameterRangeSpec,
    RegistryCoordinates,
    RetrainOnDrift,
    RetrainOnDriftArgs,
    TrainingPipeline,
    TrainingPipelineArgs,
    TuningSpec,
    from_stack_reference,
    same_region,
)

try:
    config = load_stack_config()
    check_placeholders(config, deploying=is_deploying())
    # The account's real Lambda concurrency, before the function reserves any of it.
    skipped = preflight_reserved_concurrency(
        api_function_name(config.name_prefix),
        config.api.reserved_concurrency if config.endpoint.enabled else None,
        config.region,
        pulumi.Config("aws").get("profile"),
        deploying=is_deploying(),
    )
    if skipped:
        pulumi.log.info(f"api.reservedConcurrency: {skipped}")
except (ConfigError, QuotaError) as error:
    # RunError is printed without a stack trace, and nothing has been declared yet.
    raise pulumi.RunError(str(error)) from None


def tuning_spec(cfg: StackConfig):
    if not cfg.training.tuning_enabled:
        return None
    tuning = cfg.training.tuning
    return TuningSpec(
        max_jobs=tuning.max_jobs,
        max_parallel=tuning.max_parallel,
        ranges={
            name: ParameterRangeSpec(type=r.type, min=r.min, max=r.max, values=r.values, scaling=r.scaling)
            for name, r in tuning.ranges.items()
        },
    )


def monitors_drift(cfg: StackConfig) -> bool:
    """Model Monitor needs data capture, which only provisioned endpoints support."""
    return cfg.endpoint.enabled and cfg.endpoint.mode == "provisioned" and cfg.monitoring.schedule != "off"


# prod, and a registry another stack or account serves from, keep their data through any mistake.
durable = config.is_prod or config.registry_shared

# One provider for the whole program so that every taggable resource carries the common tags.
provider = aws.Provider(
    "aws",
    region=config.region,
    default_tags=aws.ProviderDefaultTagsArgs(tags=config.tags),
)
# Every role the components create carries bootstrap's permissions boundary (the deploy roles
# refuse to create one without it).
with_provider = pulumi.ResourceOptions(providers=[provider], transformations=[with_permissions_boundary(boundary_arn(provider))])

foundation = Foundation(
    "foundation",
    FoundationArgs(
        name_prefix=config.name_prefix,
        region=config.region,
        az_count=config.network.az_count,
        nat_gateways=config.network.nat_gateways,
        notification_email=config.notification_email,
        key_deletion_window_days=30 if durable else 7,
        consumer_accounts=config.registry.consumer_accounts,
        protect_key=config.registry_shared,
    ),
    opts=with_provider,
)
pulumi.export("kmsKeyArn", foundation.key_arn)
pulumi.export("alarmTopicArn", foundation.alarm_topic_arn)
pulumi.export("vpcId", foundation.vpc_id)
pulumi.export("publicSubnetIds", foundation.public_subnet_ids)
pulumi.export("privateSubnetIds", foundation.private_subnet_ids)

# One training pipeline and one model registry: declared by the stack that owns them, read by
# reference everywhere else, so every stack serves packages of the same group.
capture_bucket = None
if config.owns_registry:
    training = TrainingPipeline(
        "training",
        TrainingPipelineArgs(
            name_prefix=config.name_prefix,
            region=config.region,
            kms_key_arn=foundation.key_arn,
            alarm_topic_arn=foundation.alarm_topic_arn,
            training_instance_type=config.training.instance_type,
            processing_instance_type=config.training.processing_instance_type,
            use_spot=config.training.use_spot,
            schedule=config.training.schedule,
            min_auc=config.training.min_auc,
            tuning=tuning_spec(config),
            drift_alarm_name=drift_alarm_name(config.name_prefix) if monitors_drift(config) else None,
            force_destroy=not durable,
            protect_registry=config.registry_shared,
            consumer_accounts=config.registry.consumer_accounts,
            consumer_stacks=config.consumer_stacks,
        ),
        opts=with_provider,
    )
    registry = RegistryCoordinates(
        region=config.region,
        account_id=aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=provider)).account_id,
        model_package_group_name=training.model_package_group_name,
        model_package_group_arn=training.model_package_group.arn,
        pipeline_name=training.pipeline_name,
        pipeline_arn=training.pipeline.arn,
        artifact_bucket_name=training.artifact_bucket.name,
        artifact_bucket_arn=training.artifact_bucket.arn,
        model_image_uri=training.image.image_uri,
        model_repository_arn=training.image.repository.arn,
        kms_key_arn=foundation.key_arn,
    )
    for output_name, value in registry.exports().items():
        pulumi.export(output_name, value)
    pulumi.export("dataBucket", training.data_bucket.name)
else:
    registry = from_stack_reference(pulumi.StackReference(config.registry.stack))
    pulumi.export("registryStack", config.registry.stack)
    pulumi.export("modelPackageGroupName", registry.model_package_group_name)  # the shared group, dev's
    pulumi.export("registryRegion", same_region(registry, config.region, config.registry.stack))
    # Data capture and Model Monitor reports are this stack's data: its own bucket and key.
    capture_bucket = SecureBucket(
        "endpoint-data",
        SecureBucketArgs(
            kms_key_arn=foundation.key_arn,
            force_destroy=not config.is_prod,
            name_prefix=config.name_prefix,
        ),
        opts=with_provider,
    )
    pulumi.export("endpointDataBucket", capture_bucket.name)

if not config.endpoint.enabled:
    pulumi.log.info(
        "endpoint.modelPackageVersion is not set: no endpoint and no API yet. Run the training pipeline, "
        "approve a model package version, then pin it (python -m tools.promote)."
    )
else:
    if config.endpoint.mode == "serverless" and (config.endpoint.data_capture_percent or config.monitoring.schedule != "off"):
        pulumi.log.info(
            "serverless endpoint: SageMaker serverless inference supports neither data capture nor Model Monitor, "
            "so endpoint.dataCapturePercent and monitoring.schedule take effect only with endpoint.mode=provisioned."
        )
    endpoint = ModelEndpoint(
        "endpoint",
        ModelEndpointArgs(
            name_prefix=config.name_prefix,
            region=config.region,
            kms_key_arn=foundation.key_arn,
            alarm_topic_arn=foundation.alarm_topic_arn,
            model_package_group_name=registry.model_package_group_name,
            model_package_version=config.endpoint.model_package_version,
            artifact_bucket_name=registry.artifact_bucket_name,
            artifact_bucket_arn=registry.artifact_bucket_arn,
            model_repository_arn=registry.model_repository_arn,
            feature_names=FEATURE_NAMES,
            mode=config.endpoint.mode,
            data_capture_percent=config.endpoint.data_capture_percent,
            monitoring_schedule=config.monitoring.schedule,
            drift_threshold=config.monitoring.drift_threshold,
            monitoring_instance_type=config.monitoring.instance_type,
            instance_type=config.endpoint.instance_type,
            instance_count=config.endpoint.instance_count,
            serverless_memory_mb=config.endpoint.serverless.memory_mb if config.endpoint.serverless else None,
            serverless_max_concurrency=config.endpoint.serverless.max_concurrency if config.endpoint.serverless else None,
            autoscaling=config.endpoint.autoscaling,
            canary=config.endpoint.canary,
            registry_account_id=None if config.owns_registry else registry.account_id,
            registry_kms_key_arn=None if config.owns_registry else registry.kms_key_arn,
            capture_bucket_name=capture_bucket.name if capture_bucket else None,
            capture_bucket_arn=capture_bucket.arn if capture_bucket else None,
        ),
        opts=with_provider,
    )
    # The identity promotion is about: the exact package ARN this stack serves.
    pulumi.export(SERVED_PACKAGE_OUTPUT, endpoint.model_package_arn)
    pulumi.export(SERVED_VERSION_OUTPUT, config.endpoint.model_package_version)
    if not config.owns_registry and monitors_drift(config):
        RetrainOnDrift(
            "retraining",
            RetrainOnDriftArgs(
                name_prefix=config.name_prefix,
                region=config.region,
                drift_alarm_name=drift_alarm_name(config.name_prefix),
                pipeline_arn=registry.pipeline_arn,
                registry_account_id=registry.account_id,
                kms_key_arn=foundation.key_arn,
            ),
            opts=with_provider,
        )
    pulumi.export("endpointName", endpoint.endpoint_name)
    pulumi.export("endpointArn", endpoint.endpoint.arn)
    pulumi.export("endpointVariantName", endpoint.variant_name)
    pulumi.export("endpointAlarmArns", {key: alarm.arn for key, alarm in endpoint.alarms.items()})
    pulumi.export("monitoringScheduleName", endpoint.monitoring_schedule_name)

    # The prediction API in front of the endpoint; releases of its code go through CodeDeploy.
    api = CanaryApi(
        "api",
        CanaryApiArgs(
            name_prefix=config.name_prefix,
            region=config.region,
            kms_key_arn=foundation.key_arn,
            alarm_topic_arn=foundation.alarm_topic_arn,
            # The release's output, not the name: the API changes only once the endpoint serves the new model.
            endpoint_name=endpoint.released_endpoint_name,
            endpoint_arn=endpoint.endpoint.arn,
            feature_names=FEATURE_NAMES,
            deployment_config_name=config.api.codedeploy_config_name,
            throttle_rate=config.api.throttle.rate,
            throttle_burst=config.api.throttle.burst,
            reserved_concurrency=config.api.reserved_concurrency,
            log_retention_days=90 if config.is_prod else 14,
        ),
        opts=with_provider,
    )
    pulumi.export("apiUrl", api.api_url)
    pulumi.export("apiAuth", ROUTE_AUTHORIZATION)
    pulumi.export("apiExecuteArn", api.execute_api_arn)
    pulumi.export("apiFunctionName", api.function_name)
    pulumi.export("apiAliasArn", api.alias_arn)
    pulumi.export("apiApplicationName", api.application_name)  # CodeDeploy's, holding the deployment group
    pulumi.export("apiDeploymentGroupName", api.deployment_group_name)

# Business users: the Streamlit app behind Cognito on an HTTPS load balancer. Engineers: the
# CloudWatch dashboard over everything above. Both exist before any model is served.
dashboard_endpoint, dashboard_api, alarms = None, None, []
if config.endpoint.enabled:
    dashboard_endpoint = DashboardEndpoint(
        name=endpoint.endpoint.name,
        arn=endpoint.endpoint.arn,
        variant_name=endpoint.variant_name,
        provisioned=config.endpoint.mode == "provisioned",
        drift_alarm=endpoint.drift_alarm,
    )
    dashboard_api = DashboardApi(
        url=api.api.api_endpoint,  # the app adds /predict itself
        api_id=api.api.id,
        stage_name=STAGE_NAME,
        invoke_arn=api.execute_api_arn,
        function_name=api.function.name,
        hook_function_names=[hook_function_name(config.name_prefix, phase) for phase in HOOKS],
    )
    alarms = [*endpoint.alarms.values(), *api.alarms.values()]
dashboard = Dashboard(
    "dashboard",
    DashboardArgs(
        name_prefix=config.name_prefix,
        region=config.region,
        kms_key_arn=foundation.key_arn,
        vpc_id=foundation.vpc_id,
        public_subnet_ids=foundation.public_subnet_ids,
        private_subnet_ids=foundation.private_subnet_ids,
        model_package_group_name=registry.model_package_group_name,
        model_package_group_arn=registry.model_package_group_arn,
        pipeline_name=registry.pipeline_name,
        artifact_bucket_arn=registry.artifact_bucket_arn,
        desired_count=config.dashboard.desired_count,
        cpu=config.dashboard.cpu,
        memory=config.dashboard.memory,
        allowed_cidrs=config.dashboard.allowed_cidrs,
        working_hours=(WorkingHours(s.days, s.start, s.stop, s.timezone) if (s := config.dashboard.schedule) is not None else None),
        domain_name=config.dashboard.domain_name,
        certificate_arn=config.dashboard.certificate_arn,
        hosted_zone_id=config.dashboard.hosted_zone_id,
        endpoint=dashboard_endpoint,
        api=dashboard_api,
        feature_names=FEATURE_NAMES,
        registry_account_id=None if config.owns_registry else registry.account_id,
        registry_kms_key_arn=None if config.owns_registry else registry.kms_key_arn,
        mfa_required=config.is_prod,
        threat_protection=config.is_prod,
        deletion_protection=config.is_prod,
        force_destroy=not config.is_prod,
        log_retention_days=90 if config.is_prod else 14,
    ),
    opts=with_provider,
)
cloudwatch_dashboard = CloudWatchDashboard(
    "dashboard",
    CloudWatchDashboardArgs(
        name_prefix=config.name_prefix,
        region=config.region,
        model_package_group_name=registry.model_package_group_name,
        pipeline_name=registry.pipeline_name,
        business_dashboard_url=dashboard.dashboard_url,
        endpoint=dashboard_endpoint,
        api=dashboard_api,
        alarm_arns=[alarm.arn for alarm in alarms],
        registry_account_id=None if config.owns_registry else registry.account_id,
    ),
    opts=with_provider,
)
pulumi.export("dashboardUrl", dashboard.dashboard_url)
# Where to point dashboard.domainName when the program does not manage its zone.
pulumi.export("dashboardLoadBalancerDnsName", dashboard.load_balancer.dns_name)
pulumi.export("cloudwatchDashboardName", cloudwatch_dashboard.cloudwatch_dashboard_name)
pulumi.export("cloudwatchDashboardUrl", cloudwatch_dashboard.cloudwatch_dashboard_url)
pulumi.export("userPoolId", dashboard.user_pool_id)
