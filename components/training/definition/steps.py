"""The steps of the training pipeline, one builder per step (the training step in
`pipeline_training`); `pipeline_definition` assembles them.

Every builder imports the SDK names it needs when it runs (the SDK is imported once per process by
`pipeline_sdk.import_sdk`, inside `sdk_environment`): importing this module costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.training.definition.args import PipelineDefinitionArgs
from components.training.definition.layout import (
    AUC_JSON_PATH,
    BASELINE_FILE,
    CONTENT_TYPES,
    DATASET_FORMAT,
    EVALUATION_FILE,
    MODEL_DATA_SHA256_KEY,
    MODEL_DATA_VERSION_ID_KEY,
    MODEL_SHA256_JSON_PATH,
    PARAM_INPUT_DATA_URI,
    PARAM_PROCESSING_INSTANCE_TYPE,
    PARAM_TRAINING_INSTANCE_TYPE,
    PREPROCESS_OUTPUTS,
    PROCESSING_ROOT,
    SEAL_FILE,
    SEALED_ARCHIVE,
    SEALED_SHA256_JSON_PATH,
    SEALED_VERSION_ID_JSON_PATH,
    STEP_BASELINE,
    STEP_CONDITION,
    STEP_EVALUATE,
    STEP_FAIL,
    STEP_PREPROCESS,
    STEP_PUBLISH_BASELINE,
    STEP_REGISTER,
    STEP_SEAL,
    baseline_prefix,
    sealed_model_prefix,
)
from components.training.definition.sdk import offline_session


@dataclass(frozen=True)
class StepContext:
    """What every step of one build shares: the arguments, the session and the run parameters."""

    args: PipelineDefinitionArgs
    session: Any
    input_data_uri: Any
    processing_instance_type: Any
    training_instance_type: Any

    @classmethod
    def create(cls, args: PipelineDefinitionArgs) -> StepContext:
        from sagemaker.core.workflow.parameters import ParameterString

        return cls(
            args=args,
            session=offline_session(args.artifact_bucket, args.region),
            input_data_uri=ParameterString(name=PARAM_INPUT_DATA_URI, default_value=f"s3://{args.data_bucket}/incoming/"),
            processing_instance_type=ParameterString(name=PARAM_PROCESSING_INSTANCE_TYPE, default_value=args.processing_instance_type),
            training_instance_type=ParameterString(name=PARAM_TRAINING_INSTANCE_TYPE, default_value=args.training_instance_type),
        )

    @property
    def parameters(self) -> list[Any]:
        return [self.input_data_uri, self.processing_instance_type, self.training_instance_type]

    @property
    def isolated(self) -> Any:
        from sagemaker.core.network import NetworkConfig

        return NetworkConfig(enable_network_isolation=True) if self.args.network_isolation else None

    def execution_uri(self, *parts: str) -> Any:
        """s3://<artifact>/pipelines/<pipeline>/<execution id>/<parts...>: one prefix per run."""
        from sagemaker.core.workflow.execution_variables import ExecutionVariables
        from sagemaker.core.workflow.functions import Join

        args = self.args
        return Join(
            on="/", values=["s3:/", args.artifact_bucket, "pipelines", args.pipeline_name, ExecutionVariables.PIPELINE_EXECUTION_ID, *parts]
        )

    def sealed_model_uri(self) -> Any:
        """s3://<artifact>/pipelines/<pipeline>/registered/<execution id>/model.tar.gz: the one key a
        run's registered model is written to, once (the bucket policy refuses any other write there)."""
        from sagemaker.core.workflow.execution_variables import ExecutionVariables
        from sagemaker.core.workflow.functions import Join

        args = self.args
        return Join(
            on="/",
            values=[
                "s3:/",
                args.artifact_bucket,
                sealed_model_prefix(args.pipeline_name),
                ExecutionVariables.PIPELINE_EXECUTION_ID,
                SEALED_ARCHIVE,
            ],
        )

    @staticmethod
    def s3_input(name: str, uri: Any, local: str) -> Any:
        from sagemaker.core.shapes import ProcessingInput, ProcessingS3Input

        return ProcessingInput(
            input_name=name,
            s3_input=ProcessingS3Input(
                s3_uri=uri, local_path=local, s3_data_type="S3Prefix", s3_input_mode="File", s3_data_distribution_type="FullyReplicated"
            ),
        )

    @staticmethod
    def s3_output(name: str, uri: Any) -> Any:
        from sagemaker.core.shapes import ProcessingOutput, ProcessingS3Output

        return ProcessingOutput(
            output_name=name, s3_output=ProcessingS3Output(s3_uri=uri, local_path=f"{PROCESSING_ROOT}/{name}", s3_upload_mode="EndOfJob")
        )

    def model_image_processor(self, entrypoint: str, network_config: Any) -> Any:
        from sagemaker.core.processing import Processor

        args = self.args
        return Processor(
            role=args.role_arn,
            image_uri=args.image_uri,
            instance_count=1,
            instance_type=self.processing_instance_type,
            entrypoint=[entrypoint],
            volume_kms_key=args.kms_key_arn,
            output_kms_key=args.kms_key_arn,
            max_runtime_in_seconds=args.processing_max_runtime_seconds,
            base_job_name=entrypoint,
            sagemaker_session=self.session,
            network_config=network_config,
        )


def preprocess_step(ctx: StepContext) -> Any:
    """1. Preprocess: raw CSVs -> train/validation/test splits and the Model Monitor baseline.csv."""
    from sagemaker.mlops.workflow import ProcessingStep

    return ProcessingStep(
        name=STEP_PREPROCESS,
        step_args=ctx.model_image_processor("preprocess", ctx.isolated).run(
            inputs=[ctx.s3_input("input", ctx.input_data_uri, f"{PROCESSING_ROOT}/input")],
            outputs=[ctx.s3_output(name, ctx.execution_uri(name)) for name in PREPROCESS_OUTPUTS],
        ),
    )


def preprocess_output(preprocess: Any, name: str) -> Any:
    return preprocess.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri


def baseline_step(ctx: StepContext, preprocess: Any) -> Any:
    """2. Data-quality baseline.

    The SDK's QualityCheckStep runs the analyzer image with the env DefaultModelMonitor.suggest_baseline
    would (dataset_format, dataset_source, output_path, publish_cloudwatch_metrics=Disabled).
    skip_check: this step only computes the baseline of the new training data; comparing it with an
    older baseline is Model Monitor's job on the endpoint. An explicit output URI keeps the SDK's
    timestamped default path out of the definition.
    """
    from sagemaker.core.workflow.functions import Join
    from sagemaker.mlops.workflow import CheckJobConfig, QualityCheckStep
    from sagemaker.mlops.workflow.quality_check_step import DataQualityCheckConfig

    args = ctx.args
    return QualityCheckStep(
        name=STEP_BASELINE,
        quality_check_config=DataQualityCheckConfig(
            baseline_dataset=Join(on="/", values=[preprocess_output(preprocess, "baseline"), BASELINE_FILE]),
            dataset_format=DATASET_FORMAT,
            output_s3_uri=ctx.execution_uri("data-quality-baseline"),
        ),
        check_job_config=CheckJobConfig(
            role=args.role_arn,
            instance_count=1,
            instance_type=ctx.processing_instance_type,
            volume_kms_key=args.kms_key_arn,
            output_kms_key=args.kms_key_arn,
            max_runtime_in_seconds=args.processing_max_runtime_seconds,
            base_job_name="data-quality-baseline",
            sagemaker_session=ctx.session,
        ),
        skip_check=True,
        register_new_baseline=True,
    )


@dataclass(frozen=True)
class Evaluation:
    step: Any
    auc: Any  # JsonGet of the AUC in evaluation.json
    model_sha256: Any  # JsonGet of the SHA-256 of the model.tar.gz evaluate received
    report_uri: Any  # s3://.../evaluation/evaluation.json


def evaluate_step(ctx: StepContext, preprocess: Any, model_data: Any) -> Evaluation:
    """4. Evaluate the model on the held-out test split; evaluation.json feeds the gate and the registry."""
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow import ProcessingStep

    evaluation_report = PropertyFile(name="EvaluationReport", output_name="evaluation", path=EVALUATION_FILE)
    evaluate = ProcessingStep(
        name=STEP_EVALUATE,
        step_args=ctx.model_image_processor("evaluate", ctx.isolated).run(
            inputs=[
                ctx.s3_input("model", model_data, f"{PROCESSING_ROOT}/model"),
                ctx.s3_input("test", preprocess_output(preprocess, "test"), f"{PROCESSING_ROOT}/test"),
            ],
            outputs=[ctx.s3_output("evaluation", ctx.execution_uri("evaluation"))],
        ),
        property_files=[evaluation_report],
    )
    auc = JsonGet(step_name=evaluate.name, property_file=evaluation_report, json_path=AUC_JSON_PATH)
    model_sha256 = JsonGet(step_name=evaluate.name, property_file=evaluation_report, json_path=MODEL_SHA256_JSON_PATH)
    report_uri = Join(on="/", values=[evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri, EVALUATION_FILE])
    return Evaluation(evaluate, auc, model_sha256, report_uri)


@dataclass(frozen=True)
class Seal:
    step: Any
    uri: Any  # Join: s3://<artifact>/pipelines/<pipeline>/registered/<execution id>/model.tar.gz
    sha256: Any  # JsonGet of the sealed object's SHA-256 in seal.json
    version_id: Any  # JsonGet of the sealed object's S3 version id in seal.json


def seal_step(ctx: StepContext, model_data: Any, evaluation: Evaluation) -> Seal:
    """6a. Seal the evaluated model under a key written once (`If-None-Match: *`), which RegisterModel names.

    SageMaker writes the training output without If-None-Match, so that object could be replaced
    after registration and an endpoint would load the new bytes at its next instance start. The
    `seal` job copies the very archive the gate passed (it refuses bytes whose SHA-256 is not the one
    Evaluate computed) to the sealed prefix, where the artifact bucket's policy refuses every write
    without If-None-Match and every delete (components/training/access.py). It calls S3 itself, so it
    runs without network isolation, like publish-baseline.
    """
    from sagemaker.core.workflow.functions import JsonGet
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow import ProcessingStep

    args = ctx.args
    uri = ctx.sealed_model_uri()
    report = PropertyFile(name="SealReport", output_name="seal", path=SEAL_FILE)
    step = ProcessingStep(
        name=STEP_SEAL,
        step_args=ctx.model_image_processor("seal", None).run(
            inputs=[ctx.s3_input("model", model_data, f"{PROCESSING_ROOT}/model")],
            outputs=[ctx.s3_output("seal", ctx.execution_uri("seal"))],
            arguments=[
                "--destination",
                uri,
                "--expected-sha256",
                evaluation.model_sha256,
                "--kms-key-id",
                args.kms_key_arn,
                "--region",
                args.region,
            ],
        ),
        property_files=[report],
    )
    sha256 = JsonGet(step_name=step.name, property_file=report, json_path=SEALED_SHA256_JSON_PATH)
    version_id = JsonGet(step_name=step.name, property_file=report, json_path=SEALED_VERSION_ID_JSON_PATH)
    return Seal(step, uri, sha256, version_id)


def register_step(ctx: StepContext, baseline: Any, seal: Seal, evaluation: Evaluation) -> Any:
    """6b. Register a version (PendingManualApproval: promotion is a human decision and a PR).

    The package's model data is the sealed object, and it records that object's SHA-256 and S3
    version (CustomerMetadataProperties `ModelDataSha256`, `ModelDataVersionId`): `--verify prod`
    refuses a package without the digest and checks both again before prod's update.
    """
    from sagemaker.core.drift_check_baselines import DriftCheckBaselines
    from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.mlops.workflow import ModelStep
    from sagemaker.serve.model_builder import ModelBuilder

    args, session = ctx.args, ctx.session
    statistics_uri = baseline.properties.CalculatedBaselineStatistics
    constraints_uri = baseline.properties.CalculatedBaselineConstraints
    builder = ModelBuilder(
        image_uri=args.image_uri,
        s3_model_data_url=seal.uri,
        role_arn=args.role_arn,
        sagemaker_session=session,
        # An explicit type, or ModelBuilder looks a default up; log_level None leaves loggers alone;
        # dependencies None, or the deprecated {"auto": True} default switches on script mode
        # (empty SAGEMAKER_PROGRAM/SUBMIT_DIRECTORY in the container environment).
        instance_type=args.inference_instance_types[0],
        log_level=None,
        dependencies=None,
    )
    with session.telemetry_opted_out():
        register_args = builder.register(
            model_package_group_name=args.model_package_group_name,
            content_types=list(CONTENT_TYPES),
            response_types=list(CONTENT_TYPES),
            inference_instances=list(args.inference_instance_types),
            transform_instances=list(args.transform_instance_types),
            model_metrics=ModelMetrics(
                model_statistics=MetricsSource(content_type="application/json", s3_uri=evaluation.report_uri),
                model_data_statistics=MetricsSource(content_type="application/json", s3_uri=statistics_uri),
                model_data_constraints=MetricsSource(content_type="application/json", s3_uri=constraints_uri),
            ),
            drift_check_baselines=DriftCheckBaselines(
                model_data_statistics=MetricsSource(
                    content_type="application/json", s3_uri=baseline.properties.BaselineUsedForDriftCheckStatistics
                ),
                model_data_constraints=MetricsSource(
                    content_type="application/json", s3_uri=baseline.properties.BaselineUsedForDriftCheckConstraints
                ),
            ),
            approval_status="PendingManualApproval",
            customer_metadata_properties={MODEL_DATA_SHA256_KEY: seal.sha256, MODEL_DATA_VERSION_ID_KEY: seal.version_id},
        )
    # Explicit as well as through the JsonGets: the URI it registers exists only once SealModel ran.
    return ModelStep(name=STEP_REGISTER, step_args=register_args, depends_on=[seal.step])


def publish_baseline_step(ctx: StepContext, baseline: Any, register: Any) -> Any:
    """6c. Copy the baseline to s3://<artifact>/baselines/<group>/<version>/.

    The endpoint component knows only the pinned version number. The version exists only once
    RegisterModel has run, so the job receives the registered ModelPackageArn (a RegisterModel step
    property; the v3 ModelStep exposes the DescribeModelPackage shape) and parses the version out of it.
    """
    from sagemaker.mlops.workflow import ProcessingStep

    args = ctx.args
    return ProcessingStep(
        name=STEP_PUBLISH_BASELINE,
        step_args=ctx.model_image_processor("publish-baseline", None).run(
            arguments=[
                "--model-package-arn",
                register.properties.ModelPackageArn,
                "--model-package-group",
                args.model_package_group_name,
                "--statistics-uri",
                baseline.properties.CalculatedBaselineStatistics,
                "--constraints-uri",
                baseline.properties.CalculatedBaselineConstraints,
                "--destination-prefix",
                baseline_prefix(args.artifact_bucket, args.model_package_group_name),
                "--kms-key-id",
                args.kms_key_arn,
            ],
        ),
    )


def fail_step(ctx: StepContext, auc: Any) -> Any:
    """6'. Below the gate: fail the run with the reason, so it shows as Failed with the numbers."""
    from sagemaker.core.workflow.functions import Join
    from sagemaker.mlops.workflow import FailStep

    return FailStep(
        name=STEP_FAIL,
        error_message=Join(
            on=" ", values=["Model AUC", auc, "is below the required minimum", threshold_literal(ctx.args.min_auc), "- not registered."]
        ),
    )


def gate_step(ctx: StepContext, auc: Any, if_steps: list[Any], else_steps: list[Any]) -> Any:
    """5. The gate: AUC >= training.minAuc.

    The threshold is a literal, not a pipeline parameter: lowering it must be a reviewed change of
    `training.minAuc`, not an override on `start-pipeline-execution`.
    """
    from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo
    from sagemaker.mlops.workflow import ConditionStep

    return ConditionStep(
        name=STEP_CONDITION,
        conditions=[ConditionGreaterThanOrEqualTo(left=auc, right=float(ctx.args.min_auc))],
        if_steps=if_steps,
        else_steps=else_steps,
    )


def threshold_literal(value: float) -> str:
    """The threshold as the gate compares it (`0.8`, not `0.80000001` or `8e-01`)."""
    return repr(float(value))
