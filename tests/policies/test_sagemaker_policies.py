"""SageMaker guardrails: encryption, data capture, HA, canary, registry, pinned images, network
isolation and instance types, both ways, provisioned and serverless."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from policy_testkit import (
    KEY_ARN,
    MODEL_IMAGE,
    MONITOR_IMAGE,
    UNKNOWN,
    Stack,
    analyze,
    assert_fails,
    assert_passes,
    findings,
    not_applicable,
)

from tools.offline.analyzer import PolicyPackError

PACKAGE_ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-prod-churn/1"
ROLE = "arn:aws:iam::123456789012:role/mlops-prod-sagemaker-hosting"
SAGEMAKER_POLICIES = (
    "sagemaker-kms-encryption",
    "sagemaker-data-capture",
    "sagemaker-endpoint-ha",
    "sagemaker-endpoint-canary",
    "sagemaker-model-from-registry",
    "sagemaker-pipeline-registers-pending",
    "sagemaker-images-pinned",
    "sagemaker-network-isolation",
    "sagemaker-instance-types",
)


def processing_step(name: str, *, outputs: bool = True, kind: str = "Processing", image: Any = MODEL_IMAGE) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "AppSpecification": {"ImageUri": image},
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": {"Get": "Parameters.ProcessingInstanceType"},
                "VolumeKmsKeyId": KEY_ARN,
                "VolumeSizeInGB": 30,
            }
        },
        "RoleArn": ROLE,
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }
    if outputs:
        arguments["ProcessingOutputConfig"] = {
            "KmsKeyId": KEY_ARN,
            "Outputs": [{"OutputName": "out", "S3Output": {"S3Uri": "s3://artifacts/x", "LocalPath": "/opt/ml/processing/out"}}],
        }
    return {"Name": name, "Type": kind, "Arguments": arguments}


def training_spec() -> dict[str, Any]:
    return {
        "AlgorithmSpecification": {"TrainingImage": MODEL_IMAGE, "TrainingInputMode": "File"},
        "EnableNetworkIsolation": True,
        "OutputDataConfig": {"KmsKeyId": KEY_ARN, "S3OutputPath": "s3://artifacts/training"},
        "ResourceConfig": {
            "InstanceCount": 1,
            "InstanceType": {"Get": "Parameters.TrainingInstanceType"},
            "VolumeKmsKeyId": KEY_ARN,
            "VolumeSizeInGB": 30,
        },
        "RoleArn": ROLE,
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }


def definition() -> dict[str, Any]:
    """Shaped like the sagemaker SDK's output for this project's pipeline."""
    register = {
        "Name": "RegisterModel",
        "Type": "RegisterModel",
        "Arguments": {"InferenceSpecification": {"Containers": [{"Image": MODEL_IMAGE}]}, "ModelApprovalStatus": "PendingManualApproval"},
    }
    return {
        "Version": "2020-12-01",
        "Parameters": [
            {"Name": "ProcessingInstanceType", "Type": "String", "DefaultValue": "ml.m5.large"},
            {"Name": "TrainingInstanceType", "Type": "String", "DefaultValue": "ml.m5.xlarge"},
        ],
        "Steps": [
            processing_step("Preprocess"),
            processing_step("DataQualityBaseline", kind="QualityCheck", image=MONITOR_IMAGE),
            {"Name": "Train", "Type": "Training", "Arguments": training_spec()},
            {
                "Name": "CheckAuc",
                "Type": "Condition",
                "Arguments": {
                    "Conditions": [],
                    "IfSteps": [register, processing_step("PublishBaseline", outputs=False)],
                    "ElseSteps": [{"Name": "Fail", "Type": "Fail", "Arguments": {}}],
                },
            },
        ],
    }


def data_capture(percent: float = 20, modes=("Input", "Output"), key: str | None = KEY_ARN) -> dict[str, Any]:
    capture: dict[str, Any] = {
        "enableCapture": True,
        "initialSamplingPercentage": percent,
        "destinationS3Uri": "s3://artifacts/data-capture",
        "captureOptions": [{"captureMode": m} for m in modes],
    }
    if key:
        capture["kmsKeyId"] = key
    return capture


class Endpoint:
    """The resources ModelEndpoint declares, overridable piece by piece."""

    def __init__(self, stack: Stack, *, serverless: bool = False, name: str = "endpoint"):
        self.stack, self.serverless, self.name = stack, serverless, name
        self.model = {
            "executionRoleArn": ROLE,
            "primaryContainer": {"modelPackageName": PACKAGE_ARN},
            "enableNetworkIsolation": not serverless,
        }
        if serverless:
            variant = {
                "variantName": "AllTraffic",
                "modelName": f"{name}-model",
                "serverlessConfig": {"memorySizeInMb": 2048, "maxConcurrency": 5},
            }
            self.config = {"productionVariants": [variant]}
        else:
            variant = {"variantName": "AllTraffic", "modelName": f"{name}-model", "instanceType": "ml.m5.large", "initialInstanceCount": 2}
            self.config = {"productionVariants": [variant], "kmsKeyArn": KEY_ARN, "dataCaptureConfig": data_capture()}
        self.alarms = [f"{name}-5xx", f"{name}-latency"]
        self.deployment = (
            None
            if serverless
            else {
                "blueGreenUpdatePolicy": {
                    "trafficRoutingConfiguration": {
                        "type": "CANARY",
                        "waitIntervalInSeconds": 300,
                        "canarySize": {"type": "CAPACITY_PERCENT", "value": 10},
                    }
                },
                "autoRollbackConfiguration": {"alarms": [{"alarmName": a} for a in self.alarms]},
            }
        )
        self.scaling = None if serverless else {"min": 2, "max": 4}
        self.monitor = (
            None
            if serverless
            else {
                "roleArn": ROLE,
                "dataQualityAppSpecification": {"imageUri": MONITOR_IMAGE},
                "dataQualityJobOutputConfig": {
                    "kmsKeyId": KEY_ARN,
                    "monitoringOutputs": {"s3Output": {"s3Uri": "s3://artifacts/monitoring"}},
                },
                "jobResources": {
                    "clusterConfig": {"instanceCount": 1, "instanceType": "ml.m5.large", "volumeSizeInGb": 20, "volumeKmsKeyId": KEY_ARN}
                },
                "networkConfig": {"enableNetworkIsolation": True},
                "stoppingCondition": {"maxRuntimeInSeconds": 1800},
            }
        )
        self.urns: dict[str, str] = {}

    def declare(self) -> "Endpoint":
        s, n = self.stack, self.name
        model = s.add("aws:sagemaker/model:Model", f"{n}-model", self.model, outputs={"name": f"{n}-model"})
        config = s.add(
            "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
            f"{n}-config",
            self.config,
            outputs={"name": f"{n}-config-1a2b3c4"},
            deps={"productionVariants": [model]},
        )
        inputs = {"name": f"mlops-{n}", "endpointConfigName": f"{n}-config-1a2b3c4"}
        if self.deployment is not None:
            inputs["deploymentConfig"] = self.deployment
        endpoint = s.add("aws:sagemaker/endpoint:Endpoint", f"{n}-endpoint", inputs, deps={"endpointConfigName": [config]})
        for alarm in self.alarms:
            s.add(
                "aws:cloudwatch/metricAlarm:MetricAlarm",
                alarm,
                {"name": alarm, "metricName": "Invocation5XXErrors", "namespace": "AWS/SageMaker", "period": 60},
            )
        if self.scaling is not None:
            self.urns["scaling"] = s.add(
                "aws:appautoscaling/target:Target",
                f"{n}-scaling",
                {
                    "serviceNamespace": "sagemaker",
                    "scalableDimension": "sagemaker:variant:DesiredInstanceCount",
                    "resourceId": f"endpoint/mlops-{n}/variant/AllTraffic",
                    "minCapacity": self.scaling["min"],
                    "maxCapacity": self.scaling["max"],
                },
                deps={"resourceId": [endpoint]},
            )
        if self.monitor is not None:
            self.urns["monitor"] = s.add(
                "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition", f"{n}-data-quality", self.monitor
            )
        self.urns.update(model=model, config=config, endpoint=endpoint)
        return self


def pipeline(stack: Stack, body: dict[str, Any], name: str = "training-pipeline") -> str:
    return stack.add(
        "aws:sagemaker/pipeline:Pipeline",
        name,
        {"pipelineName": "mlops-prod-training", "roleArn": ROLE, "pipelineDefinition": json.dumps(body)},
    )


def test_a_provisioned_endpoint_and_pipeline_built_like_the_project_pass(pack):
    stack = Stack()
    Endpoint(stack).declare()
    pipeline(stack, definition())
    result = analyze(pack, stack)
    for policy in SAGEMAKER_POLICIES:
        assert_passes(result, policy)


def test_a_serverless_endpoint_is_not_held_to_provisioned_only_rules_and_says_why(pack):
    stack = Stack()
    endpoint = Endpoint(stack, serverless=True).declare()
    result = analyze(pack, stack)
    for policy in SAGEMAKER_POLICIES:
        assert_passes(result, policy)
    assert not_applicable(result, "sagemaker-data-capture") == [
        "SageMaker serverless inference supports no data capture (and so no Model Monitor); the rule applies to provisioned endpoints only"
    ]
    for policy in ("sagemaker-kms-encryption", "sagemaker-endpoint-ha", "sagemaker-instance-types"):
        assert any("SageMaker serverless inference supports no" in r for r in not_applicable(result, policy)), policy
    [canary] = not_applicable(result, "sagemaker-endpoint-canary")
    assert canary.startswith("aws:sagemaker/endpoint:Endpoint 'endpoint-endpoint': SageMaker serverless inference supports no blue/green")
    assert endpoint.model["enableNetworkIsolation"] is False  # exempt only because its config is serverless


def test_endpoint_and_job_storage_without_the_project_key_fails(pack):
    stack = Stack()
    endpoint = Endpoint(stack)
    del endpoint.config["kmsKeyArn"]
    endpoint.config["dataCaptureConfig"] = data_capture(key=None)
    del endpoint.monitor["dataQualityJobOutputConfig"]["kmsKeyId"]
    endpoint.declare()
    body = definition()
    del body["Steps"][2]["Arguments"]["ResourceConfig"]["VolumeKmsKeyId"]
    del body["Steps"][0]["Arguments"]["ProcessingOutputConfig"]["KmsKeyId"]
    body["Steps"][3]["Arguments"]["IfSteps"][1]["Arguments"]["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] = (
        "alias/aws/sagemaker"
    )
    urn = pipeline(stack, body)
    result = analyze(pack, stack)
    assert_fails(result, "sagemaker-kms-encryption", endpoint.urns["config"], "no kms_key_arn", "data capture without kms_key_id")
    assert_fails(result, "sagemaker-kms-encryption", endpoint.urns["monitor"], "no output KmsKeyId")
    assert_fails(
        result,
        "sagemaker-kms-encryption",
        urn,
        "step 'Train' (Training) of pipeline training-pipeline: no VolumeKmsKeyId",
        "step 'Preprocess' (Processing) of pipeline training-pipeline: no output KmsKeyId",
        "step 'PublishBaseline' (Processing)",  # nested in the condition, AWS-managed key
    )


def test_provisioned_endpoints_must_capture_enough_data(pack):
    stack = Stack()
    none = Endpoint(stack, name="a")
    del none.config["dataCaptureConfig"]
    none.declare()
    little = Endpoint(stack, name="b")
    little.config["dataCaptureConfig"] = data_capture(percent=5, modes=("Output",))
    little.declare()
    result = analyze(pack, stack)
    assert_fails(result, "sagemaker-data-capture", none.urns["config"], "captures no inference data", "initial_sampling_percentage >= 10")
    assert_fails(result, "sagemaker-data-capture", little.urns["config"], "initial_sampling_percentage is 5", "capture mode Input")
    dev = Stack("dev")
    endpoint = Endpoint(dev)
    del endpoint.config["dataCaptureConfig"]
    endpoint.declare()
    assert_fails(analyze(pack, dev), "sagemaker-data-capture", endpoint.urns["config"], level="advisory")


def test_single_instance_endpoints_and_autoscaling_below_the_minimum_fail(pack):
    stack = Stack()
    endpoint = Endpoint(stack)
    endpoint.config["productionVariants"][0]["initialInstanceCount"] = 1
    endpoint.scaling = {"min": 1, "max": 4}
    endpoint.declare()
    result = analyze(pack, stack)
    assert_fails(
        result, "sagemaker-endpoint-ha", endpoint.urns["config"], "fewer than 2 instances: AllTraffic (1)", "initial_instance_count >= 2"
    )
    assert_fails(
        result, "sagemaker-endpoint-ha", endpoint.urns["scaling"], "shrink the endpoint variant to 1 instance(s)", "min_capacity >= 2"
    )
    # dev's policy config sets the minimum to one instance.
    dev = Stack("dev")
    single = Endpoint(dev)
    single.config["productionVariants"][0]["initialInstanceCount"] = 1
    single.scaling = {"min": 1, "max": 4}
    single.declare()
    assert_passes(analyze(pack, dev), "sagemaker-endpoint-ha")


def test_endpoint_updates_must_be_canary_or_linear_with_rollback_alarms_that_exist(pack):
    stack = Stack()
    all_at_once = Endpoint(stack, name="a")
    all_at_once.deployment["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"] = {"type": "ALL_AT_ONCE", "waitIntervalInSeconds": 0}
    all_at_once.deployment["autoRollbackConfiguration"] = {"alarms": []}
    all_at_once.declare()
    ghost = Endpoint(stack, name="b")
    ghost.deployment["autoRollbackConfiguration"]["alarms"].append({"alarmName": "no-such-alarm"})
    ghost.declare()
    unset = Endpoint(stack, name="c")
    unset.deployment = None
    unset.declare()
    linear = Endpoint(stack, name="d")
    linear.deployment["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"] = {
        "type": "LINEAR",
        "waitIntervalInSeconds": 60,
        "linearStepSize": {"type": "CAPACITY_PERCENT", "value": 25},
    }
    linear.declare()
    result = analyze(pack, stack)
    assert_fails(
        result, "sagemaker-endpoint-canary", all_at_once.urns["endpoint"], "traffic routing is ALL_AT_ONCE", "no auto-rollback alarms"
    )
    assert_fails(result, "sagemaker-endpoint-canary", ghost.urns["endpoint"], "not declared in this stack", "no-such-alarm")
    assert_fails(
        result, "sagemaker-endpoint-canary", unset.urns["endpoint"], "not configured (every update replaces the whole fleet at once)"
    )
    assert not [v for v in result.violations if v.urn == linear.urns["endpoint"]]


def test_models_must_come_from_the_registry(pack):
    stack = Stack()
    endpoint = Endpoint(stack)
    endpoint.model["primaryContainer"] = {"image": MODEL_IMAGE, "modelDataUrl": "s3://artifacts/model.tar.gz"}
    endpoint.declare()
    result = analyze(pack, stack)
    assert_fails(
        result,
        "sagemaker-model-from-registry",
        endpoint.urns["model"],
        "primary container serves the raw artifact s3://artifacts/model.tar.gz",
        "model_package_name",
    )


def test_images_must_be_pinned_unless_aws_owns_them(pack):
    stack = Stack()
    endpoint = Endpoint(stack)
    endpoint.model["primaryContainer"] = {
        "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-prod-model:latest",
        "modelPackageName": PACKAGE_ARN,
    }
    # Not a SageMaker registry: an unpinned image from a stranger's account is not "AWS-owned".
    endpoint.monitor["dataQualityAppSpecification"]["imageUri"] = (
        "999999999999.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
    )
    endpoint.declare()
    body = definition()
    body["Steps"][0]["Arguments"]["AppSpecification"]["ImageUri"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-prod-model:v1"
    body["Steps"][2]["Arguments"]["AlgorithmSpecification"]["TrainingImage"] = {"Get": "Parameters.TrainingImage"}
    body["Steps"][3]["Arguments"]["IfSteps"][0]["Arguments"]["InferenceSpecification"]["Containers"][0]["Image"] = "python:3.12"
    urn = pipeline(stack, body)
    result = analyze(pack, stack)
    assert_fails(result, "sagemaker-images-pinned", endpoint.urns["model"], "mlops-prod-model:latest is not pinned by digest")
    assert_fails(result, "sagemaker-images-pinned", endpoint.urns["monitor"], "999999999999.dkr.ecr")
    message = assert_fails(
        result,
        "sagemaker-images-pinned",
        urn,
        "step 'Preprocess': ",
        "step 'Train': {'Get': 'Parameters.TrainingImage'} is a run-time expression",
        "step 'RegisterModel': python:3.12",
    )
    assert "DataQualityBaseline" not in message  # the Model Monitor analyzer, from a SageMaker registry


def test_models_training_and_monitoring_must_be_network_isolated(pack):
    stack = Stack()
    endpoint = Endpoint(stack)
    endpoint.model["enableNetworkIsolation"] = False
    endpoint.monitor["networkConfig"] = {"enableNetworkIsolation": False}
    endpoint.declare()
    body = definition()
    body["Steps"][2] = {
        "Name": "Tune",
        "Type": "Tuning",
        "Arguments": {
            "HyperParameterTuningJobConfig": {"ResourceLimits": {"MaxNumberOfTrainingJobs": 4}},
            "TrainingJobDefinition": {**training_spec(), "EnableNetworkIsolation": False},
        },
    }
    urn = pipeline(stack, body)
    result = analyze(pack, stack)
    assert_fails(
        result,
        "sagemaker-network-isolation",
        endpoint.urns["model"],
        "serves the model with network access",
        "enable_network_isolation=True",
    )
    assert_fails(result, "sagemaker-network-isolation", endpoint.urns["monitor"], "runs training or monitoring jobs with network access")
    message = assert_fails(result, "sagemaker-network-isolation", urn, "step 'Tune' (Tuning)")
    assert "Preprocess" not in message and "PublishBaseline" not in message  # processing steps may need the network


def test_instance_types_must_be_allowed_in_the_stack(pack):
    stack = Stack()
    endpoint = Endpoint(stack)
    endpoint.config["productionVariants"][0]["instanceType"] = "ml.p3.2xlarge"
    endpoint.monitor["jobResources"]["clusterConfig"]["instanceType"] = "ml.m4.xlarge"
    endpoint.declare()
    body = definition()
    body["Parameters"][1]["DefaultValue"] = "ml.g5.xlarge"
    urn = pipeline(stack, body)
    result = analyze(pack, stack)
    assert_fails(result, "sagemaker-instance-types", endpoint.urns["config"], "variant AllTraffic: ml.p3.2xlarge", "ml.c5.*")
    assert_fails(result, "sagemaker-instance-types", endpoint.urns["monitor"], "ml.m4.xlarge")
    assert_fails(result, "sagemaker-instance-types", urn, "step 'Train' (Training) of pipeline training-pipeline: ml.g5.xlarge")
    # Patterns: every ml.c5 size is allowed in prod.
    allowed = Stack()
    c5 = Endpoint(allowed)
    c5.config["productionVariants"][0]["instanceType"] = "ml.c5.9xlarge"
    c5.declare()
    assert_passes(analyze(pack, allowed), "sagemaker-instance-types")


def test_stack_policies_skip_nothing_they_cannot_judge(pack):
    """A provisioned endpoint next to a serverless one is still judged: not-applicable is per endpoint."""
    stack = Stack()
    Endpoint(stack, serverless=True, name="dev-like").declare()
    bad = Endpoint(stack, name="prod-like")
    bad.deployment = None
    bad.declare()
    # An endpoint whose configuration is not in this stack (made elsewhere, or named by text) is
    # judged on its own deployment settings, not skipped.
    stack.add("aws:sagemaker/endpoint:Endpoint", "unjoined", {"endpointConfigName": "config-made-elsewhere"})
    result = analyze(pack, stack)
    assert_fails(result, "sagemaker-endpoint-canary", bad.urns["endpoint"], "not CANARY or LINEAR")
    assert_fails(result, "sagemaker-endpoint-canary", stack.urn("aws:sagemaker/endpoint:Endpoint", "unjoined"), "not CANARY or LINEAR")
    assert not_applicable(result, "sagemaker-endpoint-canary") == []


def _register_step(body: dict[str, Any]) -> dict[str, Any]:
    return body["Steps"][3]["Arguments"]["IfSteps"][0]["Arguments"]


def test_a_pipeline_that_registers_pending_passes(pack):
    stack = Stack()
    pipeline(stack, definition())
    assert_passes(analyze(pack, stack), "sagemaker-pipeline-registers-pending")


def test_a_pipeline_that_registers_approved_or_leaves_it_to_a_parameter_or_to_the_default_fails(pack):
    stack, urns = Stack(), {}
    for case, status in {"approved": "Approved", "parameter": {"Get": "Parameters.ModelApprovalStatus"}, "unset": None}.items():
        body = definition()
        if status is None:
            del _register_step(body)["ModelApprovalStatus"]
        else:
            _register_step(body)["ModelApprovalStatus"] = status
        body["Parameters"].append({"Name": "ModelApprovalStatus", "Type": "String", "DefaultValue": "PendingManualApproval"})
        urns[case] = pipeline(stack, body, name=f"pipeline-{case}")
    result = analyze(pack, stack)
    assert_fails(result, "sagemaker-pipeline-registers-pending", urns["approved"], "step 'RegisterModel' registers versions Approved")
    assert_fails(result, "sagemaker-pipeline-registers-pending", urns["parameter"], "takes ModelApprovalStatus from")
    assert_fails(result, "sagemaker-pipeline-registers-pending", urns["unset"], "step 'RegisterModel' sets no ModelApprovalStatus")


def test_a_notebook_instance_type_must_be_allowed_too(pack):
    stack = Stack()
    stack.add("aws:sagemaker/notebookInstance:NotebookInstance", "small", {"instanceType": "ml.m5.large"})
    gpu = stack.add("aws:sagemaker/notebookInstance:NotebookInstance", "gpu", {"instanceType": "ml.p3.2xlarge"})
    result = analyze(pack, stack)
    assert [v.urn for v in findings(result, "sagemaker-instance-types")] == [gpu]  # not `small`
    assert_fails(result, "sagemaker-instance-types", gpu, "  - notebook: ml.p3.2xlarge")


def test_asynchronous_inference_output_is_encrypted_with_the_project_key(pack):
    stack = Stack()
    keyed, bare = Endpoint(stack, name="keyed"), Endpoint(stack, name="bare")
    keyed.config["asyncInferenceConfig"] = {"outputConfig": {"s3OutputPath": "s3://artifacts/async", "kmsKeyId": KEY_ARN}}
    bare.config["asyncInferenceConfig"] = {"outputConfig": {"s3OutputPath": "s3://artifacts/async"}}
    keyed.declare()
    bare.declare()
    result = analyze(pack, stack)
    assert [v.urn for v in findings(result, "sagemaker-kms-encryption")] == [bare.urns["config"]]
    assert_fails(result, "sagemaker-kms-encryption", bare.urns["config"], "  - asynchronous inference output without kms_key_id")


def test_each_definition_of_a_tuning_step_is_named_when_there_are_several(pack):
    stack = Stack()
    body = definition()
    body["Steps"][2] = {
        "Name": "Tune",
        "Type": "Tuning",
        "Arguments": {"TrainingJobDefinitions": [training_spec(), {**training_spec(), "EnableNetworkIsolation": False}]},
    }
    several = pipeline(stack, body, name="several")
    body = definition()
    body["Steps"][2] = {
        "Name": "Tune",
        "Type": "Tuning",
        "Arguments": {"TrainingJobDefinition": {**training_spec(), "EnableNetworkIsolation": False}},
    }
    one = pipeline(stack, body, name="one")
    result = analyze(pack, stack)
    assert "\n  - step 'Tune' (Tuning) of pipeline several, training job definition 1\n" in assert_fails(
        result, "sagemaker-network-isolation", several
    )
    assert "\n  - step 'Tune' (Tuning) of pipeline one\n" in assert_fails(result, "sagemaker-network-isolation", one)


def test_each_endpoint_finding_names_every_problem_and_the_fix(pack):
    """The whole messages, as the preview prints them (the engine puts the policy's description first)."""
    stack = Stack()
    endpoint = Endpoint(stack)
    del endpoint.config["kmsKeyArn"]
    endpoint.config["dataCaptureConfig"] = {**data_capture(percent=5, modes=("Output",), key=None), "enableCapture": False}
    endpoint.scaling = {"min": 1, "max": 4}
    endpoint.deployment["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"] = {"type": "ALL_AT_ONCE"}
    endpoint.deployment["autoRollbackConfiguration"]["alarms"].append({"alarmName": "ghost"})
    endpoint.declare()
    result = analyze(pack, stack)
    config = "aws:sagemaker/endpointConfiguration:EndpointConfiguration 'endpoint-config'"
    assert assert_fails(result, "sagemaker-kms-encryption", endpoint.urns["config"]) == (
        "SageMaker endpoint volumes, data capture, pipeline job volumes/outputs and monitoring jobs use the project's KMS key.\n"
        f"{config} stores data without the project's KMS key:\n"
        "  - no kms_key_arn: the instances' ML storage volumes are encrypted with an AWS-managed key\n"
        "  - data capture without kms_key_id: captured requests and responses (customer data) are not encrypted with the project key\n"
        "Pass the project KMS key ARN (foundation.key_arn) as the volume and output KMS key of every job, and as "
        "kms_key_arn / data_capture_config.kms_key_id of endpoint configurations."
    )
    assert assert_fails(result, "sagemaker-data-capture", endpoint.urns["config"]) == (
        "Provisioned endpoint configurations capture requests and responses at or above the configured sampling percentage.\n"
        f"{config} captures too little inference data:\n"
        "  - enable_capture is not true\n"
        "  - initial_sampling_percentage is 5, below the minimum of 10\n"
        "  - requests (capture mode Input) are not captured, and Model Monitor compares requests with the baseline\n"
        "Set data_capture_config with enable_capture=True, initial_sampling_percentage >= 10, capture options Input and Output, "
        "a destination in the artifact bucket and the project KMS key."
    )
    assert assert_fails(result, "sagemaker-endpoint-ha", endpoint.urns["scaling"]) == (
        "Provisioned endpoint variants run at least the configured number of instances, and autoscaling never goes below it.\n"
        "aws:appautoscaling/target:Target 'endpoint-scaling' lets autoscaling shrink the endpoint variant to 1 instance(s), below the "
        "minimum of 2: one instance is a single point of failure (an AZ outage or a bad host takes the model down). Set min_capacity >= 2."
    )
    assert assert_fails(result, "sagemaker-endpoint-canary", endpoint.urns["endpoint"]) == (
        "Provisioned endpoints update blue/green with CANARY or LINEAR traffic shifting and roll back on alarms declared in the stack.\n"
        "aws:sagemaker/endpoint:Endpoint 'endpoint-endpoint' is not updated safely:\n"
        "  - traffic routing is ALL_AT_ONCE, not CANARY or LINEAR\n"
        "  - rollback alarms not declared in this stack (an alarm that does not exist never fires): ghost\n"
        "Set deployment_config.blue_green_update_policy.traffic_routing_configuration (type CANARY with a canary_size "
        "and wait_interval_in_seconds, or LINEAR) and auto_rollback_configuration.alarms naming the endpoint's "
        "error and latency alarms."
    )


def test_a_provisioned_configuration_without_capture_is_judged_not_skipped(pack):
    stack = Stack()
    endpoint = Endpoint(stack)
    del endpoint.config["dataCaptureConfig"]
    endpoint.declare()
    assert not_applicable(analyze(pack, stack), "sagemaker-kms-encryption") == []


@pytest.mark.parametrize(
    ("config", "refused"),
    [
        ({"sagemaker-data-capture": {"minimumSamplingPercent": "10"}}, "minimumSamplingPercent: '10' is not of type 'integer'"),
        ({"sagemaker-data-capture": {"minimumSamplingPercent": 0}}, "minimumSamplingPercent: 0 is less than the minimum of 1"),
        ({"sagemaker-data-capture": {"minimumSamplingPercent": 101}}, "minimumSamplingPercent: 101 is greater than the maximum of 100"),
        ({"sagemaker-endpoint-ha": {"minInstanceCount": 0}}, "minInstanceCount: 0 is less than the minimum of 1"),
        ({"sagemaker-endpoint-ha": {"minInstanceCount": "2"}}, "minInstanceCount: '2' is not of type 'integer'"),
    ],
)
def test_a_config_value_sagemaker_could_not_mean_is_refused(pack, config, refused):
    with pytest.raises(PolicyPackError, match=re.escape(refused)):
        analyze(pack, Stack(), config)


def _step(name: str, kind: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"Name": name, "Type": kind, "Arguments": arguments}


def test_clarify_and_transform_steps_are_jobs_with_volumes_and_outputs(pack):
    stack = Stack()
    body = definition()
    clarify = processing_step("Bias", kind="ClarifyCheck")
    del clarify["Arguments"]["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"]
    keyed = {"TransformResources": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeKmsKeyId": KEY_ARN}}
    body["Steps"] += [
        clarify,
        _step("BatchKeyed", "Transform", {**keyed, "TransformOutput": {"S3OutputPath": "s3://artifacts/t", "KmsKeyId": KEY_ARN}}),
        _step("BatchBare", "Transform", {**keyed, "TransformOutput": {"S3OutputPath": "s3://artifacts/t"}}),
    ]
    urn = pipeline(stack, body)
    message = assert_fails(analyze(pack, stack), "sagemaker-kms-encryption", urn)
    assert "step 'Bias' (ClarifyCheck) of pipeline training-pipeline: no VolumeKmsKeyId" in message
    assert "step 'BatchBare' (Transform) of pipeline training-pipeline: no output KmsKeyId" in message
    assert "BatchKeyed" not in message


def test_each_container_is_named_and_so_is_the_artifact_it_serves(pack):
    stack = Stack()
    model = stack.add(
        "aws:sagemaker/model:Model",
        "containers",
        {
            "executionRoleArn": ROLE,
            "containers": [
                {"image": MODEL_IMAGE, "modelDataSource": {"s3DataSource": {"s3Uri": "s3://artifacts/model/", "s3DataType": "S3Prefix"}}},
                {"image": MODEL_IMAGE, "containerHostname": "postprocess"},
            ],
        },
    )
    message = assert_fails(analyze(pack, stack), "sagemaker-model-from-registry", model)
    assert message.split("\n")[1:4] == [
        "aws:sagemaker/model:Model 'containers' is not deployed from the model registry:",
        "  - container 0 serves the raw artifact s3://artifacts/model/ instead of a registered model package",
        "  - postprocess serves an image and artifact instead of a registered model package",
    ]


def test_models_served_only_by_serverless_configurations_are_found_by_dependency_or_by_name(pack):
    """A serverless configuration names its model by a dependency (the model's name unknown until it
    exists) or, made elsewhere, by name; a model no configuration serves is judged."""
    stack = Stack()
    open_model = {"executionRoleArn": ROLE, "primaryContainer": {"modelPackageName": PACKAGE_ARN}, "enableNetworkIsolation": False}
    serverless = {"serverlessConfig": {"memorySizeInMb": 2048, "maxConcurrency": 5}}
    by_dependency = stack.add("aws:sagemaker/model:Model", "by-dependency", open_model)
    stack.add(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "config-a",
        {"productionVariants": [{"variantName": "a", "modelName": UNKNOWN, **serverless}]},
        deps={"productionVariants": [by_dependency]},
    )
    stack.add("aws:sagemaker/model:Model", "by-name", open_model, outputs={"name": "by-name-1"})
    stack.add(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "config-b",
        {"productionVariants": [{"variantName": "b", "modelName": "by-name-1", **serverless}]},
    )
    unserved = stack.add("aws:sagemaker/model:Model", "unserved", open_model, outputs={"name": "unserved-1"})
    result = analyze(pack, stack)
    assert [v.urn for v in findings(result, "sagemaker-network-isolation")] == [unserved]


def test_each_model_and_pipeline_finding_names_every_problem_and_the_fix(pack):
    """The whole messages, as the preview prints them (the engine puts the policy's description first)."""
    stack = Stack()
    endpoint = Endpoint(stack)
    endpoint.model = {
        "executionRoleArn": ROLE,
        "primaryContainer": {
            "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-prod-model:latest",
            "modelDataUrl": "s3://a/m.tar.gz",
        },
        "enableNetworkIsolation": False,
    }
    endpoint.config["productionVariants"][0]["initialInstanceCount"] = 1
    endpoint.declare()
    body = definition()
    _register_step(body)["ModelApprovalStatus"] = "Approved"
    urn = pipeline(stack, body)
    result = analyze(pack, stack)
    model = "aws:sagemaker/model:Model 'endpoint-model'"
    assert assert_fails(result, "sagemaker-model-from-registry", endpoint.urns["model"]) == (
        "SageMaker models are created from a registered model package version, not from a raw model artifact.\n"
        f"{model} is not deployed from the model registry:\n"
        "  - primary container serves the raw artifact s3://a/m.tar.gz instead of a registered model package\n"
        "Set primary_container=aws.sagemaker.ModelPrimaryContainerArgs(model_package_name=<the approved model package "
        "version ARN>): only a registered, approved version (with its metrics and baselines) may be served."
    )
    assert assert_fails(result, "sagemaker-images-pinned", endpoint.urns["model"]).split("\n", 1)[1] == (
        f"{model} runs images that are not pinned:\n"
        "  - container 0: 123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-prod-model:latest is not pinned by digest "
        "(<repository>@sha256:<digest>): a tag can be moved to another image\n"
        "Reference the project's images by digest (components.shared.container_image.ContainerImage.image_uri is "
        "<repository>@sha256:<digest>). Only AWS-owned SageMaker images (registries the sagemaker SDK lists for the "
        "region) may be referenced without a digest."
    )
    assert assert_fails(result, "sagemaker-network-isolation", endpoint.urns["model"]).split("\n", 1)[1] == (
        f"{model} serves the model with network access: a compromised model or dependency could reach the internet. Set "
        "enable_network_isolation=True (only models served by serverless endpoints, which do not support it, are exempt)."
    )
    assert assert_fails(result, "sagemaker-endpoint-ha", endpoint.urns["config"]).split("\n", 1)[1] == (
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration 'endpoint-config' runs production variants on fewer than 2 "
        "instances: AllTraffic (1). SageMaker spreads the instances of a variant across AZs only when there are several. "
        "Set initial_instance_count >= 2."
    )
    assert assert_fails(result, "sagemaker-pipeline-registers-pending", urn) == (
        "Training pipelines register model versions as PendingManualApproval (a literal): only a person approves a version.\n"
        "aws:sagemaker/pipeline:Pipeline 'training-pipeline' registers model versions that are not pending a person's approval:\n"
        "  - step 'RegisterModel' registers versions Approved\n"
        "Register with ModelApprovalStatus='PendingManualApproval' (a literal, not a pipeline parameter): only a person "
        "approves a version (docs/gitops.md, the approver role), and only an approved version can be pinned."
    )
