"""The generated SageMaker Pipeline definition: structure, settings, determinism, offline-ness."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from pipeline_testkit import (
    ACCOUNT,
    ARTIFACTS,
    DATA,
    GROUP,
    HYPERPARAMETERS,
    IMAGE,
    KMS,
    PIPELINE,
    REGION,
    REPO_ROOT,
    ROLE,
    TUNING,
    VARIANTS,
    Built,
    make_args,
)

from components.training.definition.definition import (
    DATASET_FORMAT,
    OfflineViolationError,
    ParameterRangeSpec,
    TuningSpec,
    _analyzer_registries,
    _offline_boto_session,
    baseline_prefix,
    baseline_uris,
    build_pipeline_definition,
    model_monitor_image_uri,
)

EXECUTION_ID = {"Get": "Execution.PipelineExecutionId"}
ANALYZER = "468650794304.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-model-monitor-analyzer"


# ---- helpers ---------------------------------------------------------------------------------------


def all_steps(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every step by name, the condition's branches included."""
    steps: dict[str, dict[str, Any]] = {}

    def visit(step: dict[str, Any]) -> None:
        assert step["Name"] not in steps, f"duplicate step name {step['Name']}"
        steps[step["Name"]] = step
        if step["Type"] == "Condition":
            for branch in ("IfSteps", "ElseSteps"):
                for inner in step["Arguments"][branch]:
                    visit(inner)

    for step in definition["Steps"]:
        visit(step)
    return steps


def walk(node: Any) -> Iterator[tuple[str, Any]]:
    """(key, value) of every dict entry, depth first."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def execution_join(*parts: str) -> dict[str, Any]:
    return {"Std:Join": {"On": "/", "Values": ["s3:/", ARTIFACTS, "pipelines", PIPELINE, EXECUTION_ID, *parts]}}


def output_of(step: str, name: str) -> dict[str, str]:
    return {"Get": f"Steps.{step}.ProcessingOutputConfig.Outputs['{name}'].S3Output.S3Uri"}


def outputs(step: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["OutputName"]: o["S3Output"] for o in step["Arguments"]["ProcessingOutputConfig"]["Outputs"]}


def inputs(step: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["InputName"]: i["S3Input"] for i in step["Arguments"]["ProcessingInputs"]}


@pytest.fixture(scope="module")
def on_demand(built: dict[str, Built]) -> dict[str, dict[str, Any]]:
    return all_steps(built["on_demand"].definition)


@pytest.fixture(scope="module")
def spot(built: dict[str, Built]) -> dict[str, dict[str, Any]]:
    return all_steps(built["spot"].definition)


@pytest.fixture(scope="module")
def tuned(built: dict[str, Built]) -> dict[str, dict[str, Any]]:
    return all_steps(built["tuned"].definition)


# ---- structure ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "training"), [("on_demand", ("Train", "Training")), ("spot", ("Train", "Training")), ("tuned", ("Tune", "Tuning"))]
)
def test_steps_and_types_in_order(built: dict[str, Built], variant: str, training: tuple[str, str]) -> None:
    definition = built[variant].definition
    assert [(s["Name"], s["Type"]) for s in definition["Steps"]] == [
        ("Preprocess", "Processing"),
        ("DataQualityBaseline", "QualityCheck"),
        training,
        ("Evaluate", "Processing"),
        ("CheckAuc", "Condition"),
    ]
    condition = definition["Steps"][-1]["Arguments"]
    assert [(s["Name"], s["Type"]) for s in condition["IfSteps"]] == [
        ("SealModel", "Processing"),
        ("RegisterModel", "RegisterModel"),
        ("PublishBaseline", "Processing"),
    ]
    assert [(s["Name"], s["Type"]) for s in condition["ElseSteps"]] == [("AucBelowThreshold", "Fail")]
    assert definition["Version"] == "2020-12-01"
    assert definition["PipelineExperimentConfig"] is None


def test_parameters_default_to_the_stack_values(built: dict[str, Built]) -> None:
    assert built["on_demand"].definition["Parameters"] == [
        {"Name": "InputDataUri", "Type": "String", "DefaultValue": f"s3://{DATA}/incoming/"},
        {"Name": "ProcessingInstanceType", "Type": "String", "DefaultValue": "ml.m5.large"},
        {"Name": "TrainingInstanceType", "Type": "String", "DefaultValue": "ml.m5.xlarge"},
    ]


def test_preprocess_reads_the_input_parameter_and_writes_per_execution(on_demand: dict[str, dict[str, Any]]) -> None:
    step = on_demand["Preprocess"]
    app = step["Arguments"]["AppSpecification"]
    assert app == {"ImageUri": IMAGE, "ContainerEntrypoint": ["preprocess"]}
    assert inputs(step)["input"]["S3Uri"] == {"Get": "Parameters.InputDataUri"}
    assert inputs(step)["input"]["LocalPath"] == "/opt/ml/processing/input"
    assert list(outputs(step)) == ["train", "validation", "test", "baseline"]
    for name, output in outputs(step).items():
        assert output["LocalPath"] == f"/opt/ml/processing/{name}"
        assert output["S3Uri"] == execution_join(name)
    assert step["Arguments"]["ProcessingResources"]["ClusterConfig"]["InstanceType"] == {"Get": "Parameters.ProcessingInstanceType"}
    assert step["Arguments"]["NetworkConfig"] == {"EnableNetworkIsolation": True}
    assert step["Arguments"]["RoleArn"] == ROLE


def test_baseline_runs_the_analyzer_on_baseline_csv(on_demand: dict[str, dict[str, Any]]) -> None:
    step = on_demand["DataQualityBaseline"]
    arguments = step["Arguments"]
    assert arguments["AppSpecification"] == {"ImageUri": ANALYZER}
    # What DefaultModelMonitor.suggest_baseline sets for a CSV with a header.
    assert arguments["Environment"] == {
        "dataset_format": json.dumps(DATASET_FORMAT),
        "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
        "output_path": "/opt/ml/processing/output",
        "publish_cloudwatch_metrics": "Disabled",
    }
    assert json.loads(arguments["Environment"]["dataset_format"]) == {"csv": {"header": True, "output_columns_position": "START"}}
    dataset = inputs(step)["baseline_dataset_input"]
    assert dataset["S3Uri"] == {"Std:Join": {"On": "/", "Values": [output_of("Preprocess", "baseline"), "baseline.csv"]}}
    assert outputs(step)["quality_check_output"]["S3Uri"] == execution_join("data-quality-baseline")
    assert (step["CheckType"], step["SkipCheck"], step["RegisterNewBaseline"]) == ("DATA_QUALITY", True, True)


def test_every_image_is_the_pinned_model_image_or_the_regions_analyzer(built: dict[str, Built]) -> None:
    for variant in built.values():
        images = [value for key, value in walk(variant.definition) if key in ("ImageUri", "TrainingImage", "Image")]
        assert len(images) >= 6
        for image in images:
            assert image in (IMAGE, ANALYZER)
            if image == IMAGE:
                assert re.fullmatch(r".+\.dkr\.ecr\..+\.amazonaws\.com/.+@sha256:[0-9a-f]{64}", image)


# ---- training --------------------------------------------------------------------------------------


def test_on_demand_training_has_no_spot_settings(on_demand: dict[str, dict[str, Any]]) -> None:
    arguments = on_demand["Train"]["Arguments"]
    assert not arguments.get("EnableManagedSpotTraining")
    assert "CheckpointConfig" not in arguments
    assert arguments["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}


def test_spot_training_checkpoints_per_execution_and_waits(spot: dict[str, dict[str, Any]]) -> None:
    arguments = spot["Train"]["Arguments"]
    assert arguments["EnableManagedSpotTraining"] is True
    assert arguments["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200}
    assert arguments["CheckpointConfig"] == {
        "LocalPath": "/opt/ml/checkpoints",
        "S3Uri": {"Std:Join": {"On": "/", "Values": ["s3:/", ARTIFACTS, "checkpoints", PIPELINE, EXECUTION_ID]}},
    }


def test_training_job_settings(on_demand: dict[str, dict[str, Any]]) -> None:
    arguments = on_demand["Train"]["Arguments"]
    assert arguments["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    assert "ContainerEntrypoint" not in arguments["AlgorithmSpecification"]  # SageMaker runs `train`
    assert arguments["AlgorithmSpecification"]["MetricDefinitions"] == [
        {"Name": "validation:auc", "Regex": r"validation:auc=([0-9\.]+)"},
        {"Name": "train:auc", "Regex": r"train:auc=([0-9\.]+)"},
        {"Name": "validation:logloss", "Regex": r"validation:logloss=([0-9\.]+)"},
    ]
    assert arguments["HyperParameters"] == HYPERPARAMETERS
    channels = {c["ChannelName"]: c for c in arguments["InputDataConfig"]}
    assert list(channels) == ["train", "validation"]
    for name, channel in channels.items():
        assert channel["ContentType"] == "text/csv"
        assert channel["DataSource"]["S3DataSource"]["S3Uri"] == output_of("Preprocess", name)
    assert arguments["ResourceConfig"]["InstanceType"] == {"Get": "Parameters.TrainingInstanceType"}
    assert arguments["OutputDataConfig"]["S3OutputPath"] == f"s3://{ARTIFACTS}/pipelines/{PIPELINE}/training"
    assert arguments["EnableNetworkIsolation"] is True
    assert arguments["RoleArn"] == ROLE


def test_kms_key_on_every_volume_and_output(built: dict[str, Built]) -> None:
    for variant in built.values():
        for step in all_steps(variant.definition).values():
            arguments = step["Arguments"]
            if step["Type"] in ("Processing", "QualityCheck"):
                assert arguments["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == KMS, step["Name"]
                if "ProcessingOutputConfig" in arguments:
                    assert arguments["ProcessingOutputConfig"]["KmsKeyId"] == KMS, step["Name"]
                else:
                    assert step["Name"] == "PublishBaseline"  # no outputs; it encrypts with --kms-key-id
            elif step["Type"] in ("Training", "Tuning"):
                job = arguments.get("TrainingJobDefinition", arguments)
                assert job["ResourceConfig"]["VolumeKmsKeyId"] == KMS, step["Name"]
                assert job["OutputDataConfig"]["KmsKeyId"] == KMS, step["Name"]


def test_tuning_step_only_when_tuning_is_enabled(built: dict[str, Built], tuned: dict[str, dict[str, Any]]) -> None:
    assert "Tune" not in all_steps(built["on_demand"].definition)  # max_jobs == 0 switches it off
    assert "Tune" not in all_steps(built["spot"].definition)
    assert "Train" not in tuned
    config = tuned["Tune"]["Arguments"]["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Bayesian"
    assert config["TrainingJobEarlyStoppingType"] == "Auto"
    assert config["HyperParameterTuningJobObjective"] == {"MetricName": "validation:auc", "Type": "Maximize"}
    assert config["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 6, "MaxParallelTrainingJobs": 2}
    assert config["ParameterRanges"] == {
        "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "3", "MaxValue": "8", "ScalingType": "Auto"}],
        "ContinuousParameterRanges": [{"Name": "learning_rate", "MinValue": "0.01", "MaxValue": "0.3", "ScalingType": "Logarithmic"}],
        "CategoricalParameterRanges": [{"Name": "boosting", "Values": ["gbdt", "dart"]}],
    }


def test_tuned_training_jobs_keep_the_trainer_settings(tuned: dict[str, dict[str, Any]]) -> None:
    job = tuned["Tune"]["Arguments"]["TrainingJobDefinition"]
    # Tuned hyper-parameters leave the static ones; the others stay.
    assert job["StaticHyperParameters"] == {"num_round": "300", "seed": "42"}
    assert job["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    assert [m["Name"] for m in job["AlgorithmSpecification"]["MetricDefinitions"]] == ["validation:auc", "train:auc", "validation:logloss"]
    # Restored by the step subclass: the SDK's tuner drops both.
    assert job["ResourceConfig"]["VolumeKmsKeyId"] == KMS
    assert job["EnableNetworkIsolation"] is True
    assert job["EnableManagedSpotTraining"] is True
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200}
    assert job["CheckpointConfig"]["S3Uri"]["Std:Join"]["Values"] == ["s3:/", ARTIFACTS, "checkpoints", PIPELINE, EXECUTION_ID]
    assert [c["ChannelName"] for c in job["InputDataConfig"]] == ["train", "validation"]


def test_the_best_tuned_model_is_evaluated_and_sealed(tuned: dict[str, dict[str, Any]]) -> None:
    best_model = {
        "Std:Join": {
            "On": "/",
            "Values": [
                "s3:/",
                ARTIFACTS,
                f"pipelines/{PIPELINE}/training",
                {"Get": "Steps.Tune.TrainingJobSummaries[0].TrainingJobName"},
                "output/model.tar.gz",
            ],
        }
    }
    assert inputs(tuned["Evaluate"])["model"]["S3Uri"] == best_model
    assert inputs(tuned["SealModel"])["model"]["S3Uri"] == best_model
    assert tuned["RegisterModel"]["Arguments"]["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == SEALED_URI


# ---- evaluation, gate, registration -----------------------------------------------------------------


def test_evaluate_reads_model_and_test_split_and_declares_the_report(on_demand: dict[str, dict[str, Any]]) -> None:
    step = on_demand["Evaluate"]
    assert step["Arguments"]["AppSpecification"] == {"ImageUri": IMAGE, "ContainerEntrypoint": ["evaluate"]}
    assert inputs(step)["model"]["S3Uri"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    assert inputs(step)["model"]["LocalPath"] == "/opt/ml/processing/model"
    assert inputs(step)["test"]["S3Uri"] == output_of("Preprocess", "test")
    assert inputs(step)["test"]["LocalPath"] == "/opt/ml/processing/test"
    assert outputs(step)["evaluation"]["S3Uri"] == execution_join("evaluation")
    assert outputs(step)["evaluation"]["LocalPath"] == "/opt/ml/processing/evaluation"
    assert step["PropertyFiles"] == [{"PropertyFileName": "EvaluationReport", "OutputName": "evaluation", "FilePath": "evaluation.json"}]
    # One object, downloaded as it is (File mode): evaluate hashes the exact bytes RegisterModel names.
    assert (inputs(step)["model"]["S3DataType"], inputs(step)["model"]["S3InputMode"]) == ("S3Prefix", "File")


def from_evaluation_report(path: str) -> dict[str, Any]:
    """A JsonGet on Evaluate's evaluation.json, as the definition spells it."""
    return {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"}, "Path": path}}


AUC = from_evaluation_report("binary_classification_metrics.auc.value")


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_condition_threshold_is_min_auc(built: dict[str, Built], variant: str) -> None:
    condition = all_steps(built[variant].definition)["CheckAuc"]["Arguments"]["Conditions"]
    assert condition == [{"Type": "GreaterThanOrEqualTo", "LeftValue": AUC, "RightValue": built[variant].args.min_auc}]


def test_fail_step_names_threshold_and_actual_auc(spot: dict[str, dict[str, Any]]) -> None:
    message = spot["AucBelowThreshold"]["Arguments"]["ErrorMessage"]["Std:Join"]
    assert AUC in message["Values"]
    assert "0.8" in message["Values"]  # the spot variant's min_auc


MODEL_SHA256 = from_evaluation_report("model_artifact.sha256")
# Where SealModel writes the model once, and RegisterModel names it.
SEALED_URI = {"Std:Join": {"On": "/", "Values": ["s3:/", ARTIFACTS, f"pipelines/{PIPELINE}/registered", EXECUTION_ID, "model.tar.gz"]}}


def from_seal_report(path: str) -> dict[str, Any]:
    """A JsonGet on SealModel's seal.json, as the definition spells it."""
    return {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.SealModel.PropertyFiles.SealReport"}, "Path": path}}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_evaluated_model_is_sealed_under_the_registered_prefix(built: dict[str, Built], variant: str) -> None:
    steps = all_steps(built[variant].definition)
    step, evaluate = steps["SealModel"], steps["Evaluate"]
    assert step["Arguments"]["AppSpecification"]["ImageUri"] == IMAGE
    assert step["Arguments"]["AppSpecification"]["ContainerEntrypoint"] == ["seal"]
    argv = step["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert dict(zip(argv[::2], argv[1::2])) == {
        "--destination": SEALED_URI,
        # Only the bytes Evaluate scored: the seal job refuses an archive with another digest.
        "--expected-sha256": MODEL_SHA256,
        "--kms-key-id": KMS,
        "--region": REGION,
    }
    # The same object evaluate hashed, downloaded as it is.
    assert inputs(step)["model"] == inputs(evaluate)["model"]
    assert outputs(step)["seal"]["S3Uri"] == execution_join("seal")
    assert outputs(step)["seal"]["LocalPath"] == "/opt/ml/processing/seal"
    assert step["PropertyFiles"] == [{"PropertyFileName": "SealReport", "OutputName": "seal", "FilePath": "seal.json"}]
    # It calls S3 itself: no network isolation for this one; Evaluate keeps its isolation.
    assert "NetworkConfig" not in step["Arguments"]
    assert evaluate["Arguments"]["NetworkConfig"] == {"EnableNetworkIsolation": True}
    assert step["Arguments"]["ProcessingOutputConfig"]["KmsKeyId"] == KMS


def test_the_sealed_prefix_is_the_one_the_bucket_policy_guards() -> None:
    from components.training.definition.layout import sealed_model_prefix

    assert SEALED_URI["Std:Join"]["Values"][2] == sealed_model_prefix(PIPELINE) == f"pipelines/{PIPELINE}/registered"


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_register_records_the_sealed_objects_digest_and_version_under_the_keys_verify_reads(built: dict[str, Built], variant: str) -> None:
    from tools.promote.artifact import SHA256_KEY, VERSION_ID_KEY

    arguments = all_steps(built[variant].definition)["RegisterModel"]["Arguments"]
    assert arguments["CustomerMetadataProperties"] == {
        SHA256_KEY: from_seal_report("model_artifact.sha256"),
        VERSION_ID_KEY: from_seal_report("model_artifact.version_id"),
    }
    assert arguments["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == SEALED_URI


def test_register_step(on_demand: dict[str, dict[str, Any]]) -> None:
    arguments = on_demand["RegisterModel"]["Arguments"]
    assert arguments["ModelPackageGroupName"] == GROUP
    assert arguments["ModelApprovalStatus"] == "PendingManualApproval"
    spec = arguments["InferenceSpecification"]
    # The sealed copy, never the training output SageMaker could overwrite; registered after it exists.
    assert spec["Containers"] == [{"Image": IMAGE, "ModelDataUrl": SEALED_URI, "Environment": {}}]
    assert on_demand["RegisterModel"]["DependsOn"] == ["SealModel"]
    assert spec["SupportedContentTypes"] == ["text/csv", "application/json"]
    assert spec["SupportedResponseMIMETypes"] == ["text/csv", "application/json"]
    assert {"ml.t2.medium", "ml.m5.large"} <= set(spec["SupportedRealtimeInferenceInstanceTypes"])
    assert spec["SupportedTransformInstanceTypes"]
    evaluation = {"Std:Join": {"On": "/", "Values": [output_of("Evaluate", "evaluation"), "evaluation.json"]}}
    metrics = arguments["ModelMetrics"]
    assert metrics["ModelQuality"]["Statistics"] == {"ContentType": "application/json", "S3Uri": evaluation}
    assert metrics["ModelDataQuality"]["Statistics"]["S3Uri"] == {"Get": "Steps.DataQualityBaseline.CalculatedBaselineStatistics"}
    assert metrics["ModelDataQuality"]["Constraints"]["S3Uri"] == {"Get": "Steps.DataQualityBaseline.CalculatedBaselineConstraints"}
    drift = arguments["DriftCheckBaselines"]["ModelDataQuality"]
    assert drift == {
        "Statistics": {
            "ContentType": "application/json",
            "S3Uri": {"Get": "Steps.DataQualityBaseline.BaselineUsedForDriftCheckStatistics"},
        },
        "Constraints": {
            "ContentType": "application/json",
            "S3Uri": {"Get": "Steps.DataQualityBaseline.BaselineUsedForDriftCheckConstraints"},
        },
    }


def test_publish_baseline_gets_the_registered_arn(on_demand: dict[str, dict[str, Any]]) -> None:
    app = on_demand["PublishBaseline"]["Arguments"]["AppSpecification"]
    assert app["ImageUri"] == IMAGE
    assert app["ContainerEntrypoint"] == ["publish-baseline"]
    argv = app["ContainerArguments"]
    options = dict(zip(argv[::2], argv[1::2]))
    assert options == {
        "--model-package-arn": {"Get": "Steps.RegisterModel.ModelPackageArn"},
        "--model-package-group": GROUP,
        "--statistics-uri": {"Get": "Steps.DataQualityBaseline.CalculatedBaselineStatistics"},
        "--constraints-uri": {"Get": "Steps.DataQualityBaseline.CalculatedBaselineConstraints"},
        "--destination-prefix": f"s3://{ARTIFACTS}/baselines/{GROUP}",
        "--kms-key-id": KMS,
    }
    # It calls S3 itself: no network isolation for this one.
    assert "NetworkConfig" not in on_demand["PublishBaseline"]["Arguments"]


def test_definition_arguments_publish_where_the_endpoint_looks(on_demand: dict[str, dict[str, Any]], tmp_path, monkeypatch) -> None:
    """The publish step's real arguments, run against moto, land at baseline_uris(group, version)."""
    import boto3
    from churn.publish_baseline import main
    from moto import mock_aws

    monkeypatch.setenv("SM_BASE_DIR", str(tmp_path))
    concrete = {
        "Steps.RegisterModel.ModelPackageArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{GROUP}/7",
        "Steps.DataQualityBaseline.CalculatedBaselineStatistics": f"s3://{ARTIFACTS}/pipelines/{PIPELINE}/exec-1/data-quality-baseline/statistics.json",
        "Steps.DataQualityBaseline.CalculatedBaselineConstraints": f"s3://{ARTIFACTS}/pipelines/{PIPELINE}/exec-1/data-quality-baseline/constraints.json",
    }
    argv = [
        concrete[a["Get"]] if isinstance(a, dict) else a
        for a in on_demand["PublishBaseline"]["Arguments"]["AppSpecification"]["ContainerArguments"]
    ]
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=ARTIFACTS, CreateBucketConfiguration={"LocationConstraint": REGION})
        for name in ("statistics", "constraints"):
            key = concrete[f"Steps.DataQualityBaseline.CalculatedBaseline{name.title()}"].split(f"{ARTIFACTS}/", 1)[1]
            s3.put_object(Bucket=ARTIFACTS, Key=key, Body=json.dumps({"file": name}).encode())
        assert main(argv) == 0
        for uri, name in zip(baseline_uris(ARTIFACTS, GROUP, 7), ("statistics", "constraints")):
            bucket, key = uri[len("s3://") :].split("/", 1)
            assert json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) == {"file": name}


# ---- determinism and offline-ness ---------------------------------------------------------------------


def test_same_inputs_give_byte_identical_json(built: dict[str, Built]) -> None:
    # Equal arguments built separately, hyper-parameters and ranges in another insertion order.
    tuning = dict(TUNING, ranges=dict(reversed(list(TUNING["ranges"].items()))))
    again = make_args(**dict(VARIANTS["tuned"], tuning=TuningSpec(**tuning)), hyperparameters=dict(reversed(list(HYPERPARAMETERS.items()))))
    assert again == built["tuned"].args
    assert build_pipeline_definition(again) == built["tuned"].text


def test_fresh_offline_subprocess_gives_the_same_json(built: dict[str, Built], offline_subprocess: subprocess.Popen[str]) -> None:
    stdout, stderr = offline_subprocess.communicate(timeout=180)
    assert offline_subprocess.returncode == 0, stderr[-4000:]
    result = json.loads(stdout)
    assert result["network_attempts"] == []
    assert result["telemetry_sends"] == []
    assert result["env_changed"] == []
    assert result["root_logger_changed"] is False
    # The SDK's chatter about its own defaults stays out of `pulumi up` output.
    assert "Popping out" not in stderr and "PipelineSession" not in stderr, stderr[-2000:]
    assert result["definition"] == built["tuned"].text


def test_the_callers_environment_is_restored(built: dict[str, Built], env_before_builds: dict[str, str]) -> None:
    assert built  # the builds have run
    changed = {k for k in set(env_before_builds) | set(os.environ) if env_before_builds.get(k) != os.environ.get(k)}
    assert changed - {"PYTEST_CURRENT_TEST"} == set()


def test_partial_credentials_in_the_environment_do_not_matter(built: dict[str, Built], monkeypatch: pytest.MonkeyPatch) -> None:
    # botocore refuses a key id without a secret; the SDK's own sessions must never see that.
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    assert build_pipeline_definition(built["spot"].args) == built["spot"].text
    assert "AWS_SECRET_ACCESS_KEY" not in os.environ


def test_importing_the_module_does_not_import_the_sdk() -> None:
    code = "import sys, components.training.definition.definition; print(sorted(m for m in ('sagemaker', 'boto3', 'botocore') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_the_sdks_boto_session_refuses_to_send_anything() -> None:
    with pytest.raises(OfflineViolationError, match="ListBuckets"):
        _offline_boto_session(REGION).client("s3").list_buckets()


# ---- shared helpers and argument checks ---------------------------------------------------------------


def test_model_monitor_image_matches_the_sdk_for_every_region(built: dict[str, Built]) -> None:
    from sagemaker.core import image_uris  # already imported by the builds

    regions = _analyzer_registries()  # the SDK's own table, read from its installed JSON
    assert len(regions) > 20
    for region in regions:
        assert model_monitor_image_uri(region) == image_uris.retrieve("model-monitor", region), region
    assert model_monitor_image_uri(REGION) == ANALYZER
    with pytest.raises(ValueError, match="no Model Monitor analyzer image for region 'mars-north-1'"):
        model_monitor_image_uri("mars-north-1")


def test_baseline_layout() -> None:
    assert baseline_prefix(ARTIFACTS, GROUP) == f"s3://{ARTIFACTS}/baselines/{GROUP}"
    assert baseline_uris(ARTIFACTS, GROUP, 3) == (
        f"s3://{ARTIFACTS}/baselines/{GROUP}/3/statistics.json",
        f"s3://{ARTIFACTS}/baselines/{GROUP}/3/constraints.json",
    )
    for bad in (0, -1, True, "3"):
        with pytest.raises(ValueError, match="version must be an integer >= 1"):
            baseline_uris(ARTIFACTS, GROUP, bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (dict(image_uri=f"123456789012.dkr.ecr.{REGION}.amazonaws.com/mlops-dev-model:latest"), "image_uri .* pinned by digest"),
        (dict(image_uri=IMAGE.replace(REGION, "us-east-1")), "image_uri is in us-east-1, the pipeline in eu-west-1"),
        (dict(role_arn="mlops-dev-sagemaker-execution"), "role_arn .* IAM role ARN"),
        (dict(kms_key_arn="alias/aws/s3"), "kms_key_arn .* KMS key ARN"),
        (dict(min_auc=1.5), r"min_auc = 1.5: expected a number from 0 to 1"),
        (dict(use_spot=True, max_wait_seconds=600), "spot training needs max wait >= max run"),
        (dict(hyperparameters={"max_depth": 6}), "hyperparameters are strings"),
        (dict(training_instance_type="m5.large"), "training_instance_type .* ml.\\* instance type"),
        (
            dict(
                region="ap-southeast-9",
                image_uri=IMAGE.replace(REGION, "ap-southeast-9"),
                kms_key_arn=KMS.replace(REGION, "ap-southeast-9"),
            ),
            "no Model Monitor analyzer image",
        ),
    ],
)
def test_invalid_arguments_are_rejected_with_the_reason(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_args(**overrides)


def test_arguments_are_frozen() -> None:
    args = make_args()
    with pytest.raises(AttributeError):
        args.min_auc = 0.1  # type: ignore[misc]
    with pytest.raises(TypeError):
        args.hyperparameters["seed"] = "1"  # type: ignore[index]


class _ConfigRange:
    """Shaped like components.config.stack.TuningRange: attributes, floats for bounds."""

    def __init__(
        self, type: str, min: float | None = None, max: float | None = None, values: tuple[str, ...] | None = None, scaling: str = "Auto"
    ):
        self.type, self.min, self.max, self.values, self.scaling = type, min, max, values, scaling


def test_tuning_spec_accepts_config_objects_and_checks_ranges() -> None:
    spec = TuningSpec(
        max_jobs=4, max_parallel=2, ranges={"b": _ConfigRange("integer", 3.0, 8.0), "a": _ConfigRange("categorical", values=("x",))}
    )
    assert list(spec.ranges) == ["a", "b"]
    assert spec.ranges["b"] == ParameterRangeSpec(type="integer", min=3.0, max=8.0)
    assert not TuningSpec(max_jobs=0, max_parallel=1, ranges={}).enabled
    with pytest.raises(ValueError, match="max_parallel must be 1..max_jobs"):
        TuningSpec(max_jobs=2, max_parallel=3, ranges={"b": _ConfigRange("integer", 3.0, 8.0)})
    with pytest.raises(ValueError, match="categorical range takes a non-empty `values`"):
        ParameterRangeSpec.of({"type": "categorical"})
    with pytest.raises(ValueError, match="min .* must be below max"):
        ParameterRangeSpec.of({"type": "continuous", "min": 2, "max": 1})
    with pytest.raises(ValueError, match="whole bounds"):
        ParameterRangeSpec.of({"type": "integer", "min": 1.5, "max": 4})
    with pytest.raises(ValueError, match="at least one hyper-parameter range"):
        TuningSpec(max_jobs=2, max_parallel=1, ranges={})
