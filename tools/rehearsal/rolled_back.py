"""What AWS looks like after alarms rolled releases back, built offline (the loop's rehearsal, the tests):
an endpoint serving an older package, the configuration of the rolled-back release tagged as
EndpointRelease tags it (or a release not run yet), the release alarms, and a prediction API whose
release CodeDeploy rolled back.

SageMaker, CloudWatch and Lambda are moto's (moto never evaluates alarms: their state is set). Lambda:: a function whose versions are described with their code digest as the program
describes them (components/api/function_package.py), and the `live` alias. CodeDeploy is botocore's
Stubber on a real client, validating every request and answer against the service model: moto 5.2.5
keeps deployments `Created` and answers empty `rollbackInfo` and `errorInformation`.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Optional

from components.api.canary_api import PREDICT_SUMMARY
from components.api.function_package import RUNTIME, described
from components.api.lambda_release import FAILED_STATUSES
from components.api.release_spec import ReleaseSpec, appspec_content
from components.endpoint.release import ReleaseSpec as EndpointReleaseSpec
from components.endpoint.release import record_rollback
from tools.promote.api_code import ApiNames
from tools.promote.endpoint_rollback import ENVIRONMENT_TAG

VARIANT = "AllTraffic"
ACCOUNT = "123456789012"  # moto's default account
ROLLED_BACK_ID = "d-ROLLEDBACK"


def moto_endpoint(session: Any, name: str, arn: str, environment: Optional[str] = None) -> None:
    """An endpoint serving the model package `arn` (one model, one configuration, one variant),
    tagged with the stack's `environment` as the program tags its resources."""
    sagemaker = session.client("sagemaker")
    model = f"{name}-model-{arn.rsplit('/', 1)[-1]}"
    tags = {"Tags": [{"Key": ENVIRONMENT_TAG, "Value": environment}]} if environment else {}
    sagemaker.create_model(
        ModelName=model, PrimaryContainer={"ModelPackageName": arn}, ExecutionRoleArn="arn:aws:iam::123456789012:role/hosting", **tags
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=model,
        ProductionVariants=[{"VariantName": VARIANT, "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
        **tags,
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=model, **tags)


def moto_release(session: Any, arn: str, environment: str, created: Optional[datetime] = None) -> dict[str, Any]:
    """The model and endpoint configuration a deploy creates for the pinned package `arn` before its
    release moves the endpoint (named as Pulumi names them, tagged with the stack's `environment`;
    `created`: when, else now). Returns DescribeEndpointConfig's answer."""
    sagemaker = session.client("sagemaker")
    suffix = uuid.uuid4().hex[:7]  # Pulumi's autonaming: random
    model, config = f"endpoint-model-{suffix}", f"endpoint-config-{suffix}"
    tags = [{"Key": ENVIRONMENT_TAG, "Value": environment}]
    sagemaker.create_model(
        ModelName=model, PrimaryContainer={"ModelPackageName": arn}, ExecutionRoleArn="arn:aws:iam::123456789012:role/hosting", Tags=tags
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[{"VariantName": VARIANT, "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
        Tags=tags,
    )
    if created is not None:
        from moto.sagemaker.models import sagemaker_backends

        region = sagemaker.meta.region_name
        # moto keeps naive UTC times.
        sagemaker_backends[ACCOUNT][region].endpoint_configs[config].creation_time = created.astimezone(timezone.utc).replace(tzinfo=None)
    return sagemaker.describe_endpoint_config(EndpointConfigName=config)


def moto_rolled_back_release(
    session: Any, endpoint: str, arn: str, environment: str, alarm: str, created: Optional[datetime] = None
) -> dict[str, Any]:
    """The release of `arn` SageMaker rolled back on `alarm`, as EndpointRelease leaves it: its
    configuration (moto_release) tagged by the provider's own record_rollback with the reason it
    gives. The endpoint itself stays on its configuration (moto_endpoint)."""
    config = moto_release(session, arn, environment, created)
    sagemaker = session.client("sagemaker")
    spec = EndpointReleaseSpec(endpoint, config["EndpointConfigName"], sagemaker.meta.region_name)
    record_rollback(sagemaker, spec, config, [f"rolled back: alarm {alarm}"])
    return config


def moto_alarm(cloudwatch: Any, name: str, state: Optional[str] = None, reason: str = "") -> None:
    """A release alarm in `state` (its metric does not matter: moto never evaluates it)."""
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/SageMaker",
        MetricName="Invocation5XXErrors",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
    )
    if state is not None:
        cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)


def _archive(marker: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("predict.py", f"# {marker}\n")
    return buffer.getvalue()


def api_function(lambda_: Any, names: ApiNames, role_arn: str) -> None:
    """The function as the program creates it, before its first version."""
    lambda_.create_function(
        FunctionName=names.function, Runtime=RUNTIME, Role=role_arn, Handler="predict.handler", Code={"ZipFile": _archive("created")}
    )


def publish(lambda_: Any, names: ApiNames, digest: Optional[str]) -> str:
    """Publish a version running the code whose digest is `digest` (None: described as before digests)."""
    lambda_.update_function_code(FunctionName=names.function, ZipFile=_archive(digest or "undescribed"))
    lambda_.update_function_configuration(
        FunctionName=names.function, Description=described(PREDICT_SUMMARY, digest) if digest else PREDICT_SUMMARY
    )
    return str(lambda_.publish_version(FunctionName=names.function)["Version"])


def serve(lambda_: Any, names: ApiNames, version: str, weights: Optional[dict[str, float]] = None) -> None:
    """Point the `live` alias at `version` (and shift `weights` to others, as during a release)."""
    routing = {"RoutingConfig": {"AdditionalVersionWeights": weights}} if weights else {}
    try:
        lambda_.update_alias(FunctionName=names.function, Name=names.alias, FunctionVersion=version, **routing)
    except lambda_.exceptions.ResourceNotFoundException:
        lambda_.create_alias(FunctionName=names.function, Name=names.alias, FunctionVersion=version, **routing)


@dataclass(frozen=True)
class Deployment:
    """One deployment CodeDeploy stopped on an alarm and rolled back: `current` -> `target`."""

    deployment_id: str
    current: str
    target: str
    alarm: str
    created: datetime = datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)

    def info(self, names: ApiNames) -> dict[str, Any]:
        spec = ReleaseSpec(names.application, names.deployment_group, names.function, names.alias, self.target, names.region)
        return {
            "deploymentId": self.deployment_id,
            "applicationName": names.application,
            "deploymentGroupName": names.deployment_group,
            "status": "Stopped",
            "creator": "user",
            "computePlatform": "Lambda",
            "createTime": self.created,
            "revision": {"revisionType": "AppSpecContent", "appSpecContent": {"content": appspec_content(spec, self.current)}},
            "errorInformation": {
                "code": "ALARM_ACTIVE",
                "message": f"One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, "
                f"and the affected deployments have been stopped. Activated alarms: <{self.alarm}>",
            },
            "rollbackInfo": {
                "rollbackMessage": f"Deployment {self.deployment_id} was rolled back: the traffic is back on version {self.current}"
            },
        }


def rolled_back_codedeploy(
    session: Any, names: ApiNames, deployments: list[Deployment], alarms: list[str], reads_group: bool = True
) -> tuple[Any, Any]:
    """(a CodeDeploy client answering as after these rollbacks, its activated Stubber): the listing of
    the group's Stopped/Failed deployments, each deployment, and (`reads_group`) the group's alarms,
    in the order tools/promote/api_code.py asks for them."""
    from botocore.stub import Stubber

    client = session.client("codedeploy", region_name=names.region)
    stubber = Stubber(client)
    group = {"applicationName": names.application, "deploymentGroupName": names.deployment_group}
    stubber.add_response(
        "list_deployments", {"deployments": [d.deployment_id for d in deployments]}, {**group, "includeOnlyStatuses": list(FAILED_STATUSES)}
    )
    for deployment in deployments:
        stubber.add_response("get_deployment", {"deploymentInfo": deployment.info(names)}, {"deploymentId": deployment.deployment_id})
    if reads_group:
        answer = {"deploymentGroupInfo": {**group, "alarmConfiguration": {"enabled": True, "alarms": [{"name": a} for a in alarms]}}}
        stubber.add_response("get_deployment_group", answer, group)
    stubber.activate()
    return client, stubber


def rolled_back_api(
    session: Any, names: ApiNames, serving: Optional[str], released: str, alarm: str, alarms: list[str], reads_group: bool = True
) -> tuple[Any, Any]:
    """The API after CodeDeploy rolled back the release of the code whose digest is `released`: one
    version runs `serving` (None: described before digests), the next `released`, the alias is back
    on the first, and the deployment between them stopped on `alarm`. Returns rolled_back_codedeploy's."""
    lambda_ = session.client("lambda", region_name=names.region)
    current, target = publish(lambda_, names, serving), publish(lambda_, names, released)
    serve(lambda_, names, current)
    return rolled_back_codedeploy(session, names, [Deployment(ROLLED_BACK_ID, current, target, alarm)], alarms, reads_group)
