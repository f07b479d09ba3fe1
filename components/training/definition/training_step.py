"""3. The training step of the pipeline: one training job, or a Bayesian tuning job over
`training.tuning.ranges` whose best model goes on."""

from __future__ import annotations

import functools
from typing import Any

from components.training.definition.args import ParameterRangeSpec
from components.training.definition.layout import METRIC_DEFINITIONS, OBJECTIVE_METRIC, STEP_TRAIN, STEP_TUNE
from components.training.definition.steps import StepContext, preprocess_output


def training_step(ctx: StepContext, preprocess: Any) -> tuple[Any, Any]:
    """3. Train (or tune): the step and the S3 URI of the model it produces.

    The image's `train` program is what SageMaker runs for a training job.
    """
    from sagemaker.core.parameter import CategoricalParameter, ContinuousParameter, IntegerParameter
    from sagemaker.core.shapes import MetricDefinition, StoppingCondition
    from sagemaker.core.training.configs import CheckpointConfig, Compute, InputData, Networking, OutputDataConfig
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join
    from sagemaker.mlops.workflow import TrainingStep
    from sagemaker.train.model_trainer import ModelTrainer
    from sagemaker.train.tuner import HyperparameterTuner

    args, session, kms = ctx.args, ctx.session, ctx.args.kms_key_arn
    spot = args.use_spot
    trainer = ModelTrainer(
        training_image=args.image_uri,
        role=args.role_arn,
        sagemaker_session=session,
        base_job_name="train",
        compute=Compute(
            instance_type=ctx.training_instance_type,
            instance_count=1,
            volume_size_in_gb=args.training_volume_size_gb,
            volume_kms_key_id=kms,
            enable_managed_spot_training=True if spot else None,
        ),
        stopping_condition=StoppingCondition(
            max_runtime_in_seconds=args.max_run_seconds, **({"max_wait_time_in_seconds": args.max_wait_seconds} if spot else {})
        ),
        # SageMaker appends <training job name>/output/model.tar.gz: unique per run without an execution id.
        output_data_config=OutputDataConfig(
            s3_output_path=f"s3://{args.artifact_bucket}/pipelines/{args.pipeline_name}/training", kms_key_id=kms
        ),
        # Per execution: a new run must never resume from the previous run's checkpoints.
        checkpoint_config=(
            CheckpointConfig(
                s3_uri=Join(
                    on="/",
                    values=["s3:/", args.artifact_bucket, "checkpoints", args.pipeline_name, ExecutionVariables.PIPELINE_EXECUTION_ID],
                ),
                local_path="/opt/ml/checkpoints",
            )
            if spot
            else None
        ),
        networking=Networking(enable_network_isolation=True) if args.network_isolation else None,
        hyperparameters=dict(args.hyperparameters),
    ).with_metric_definitions([MetricDefinition(name=name, regex=regex) for name, regex in METRIC_DEFINITIONS])
    channels = [
        InputData(channel_name=name, data_source=preprocess_output(preprocess, name), content_type="text/csv")
        for name in ("train", "validation")
    ]

    tuning = args.tuning if args.tuning_enabled else None
    if tuning is not None:
        tuner = HyperparameterTuner(
            model_trainer=trainer,
            objective_metric_name=OBJECTIVE_METRIC,
            objective_type="Maximize",
            hyperparameter_ranges={
                name: _sdk_range(spec, ContinuousParameter, IntegerParameter, CategoricalParameter) for name, spec in tuning.ranges.items()
            },
            metric_definitions=[{"Name": name, "Regex": regex} for name, regex in METRIC_DEFINITIONS],
            strategy="Bayesian",
            max_jobs=tuning.max_jobs,
            max_parallel_jobs=tuning.max_parallel,
            early_stopping_type="Auto",
            base_tuning_job_name="tune",
        )
        step: Any = _tuning_step_class()(
            name=STEP_TUNE, step_args=tuner.tune(inputs=channels), volume_kms_key=kms, network_isolation=args.network_isolation
        )
        # The best training job's model.tar.gz (index 0 = best by the objective).
        model_data = step.get_top_model_s3_uri(top_k=0, s3_bucket=args.artifact_bucket, prefix=f"pipelines/{args.pipeline_name}/training")
    else:
        with session.telemetry_opted_out():
            train_args = trainer.train(input_data_config=channels)
        step = TrainingStep(name=STEP_TRAIN, step_args=train_args)
        model_data = step.properties.ModelArtifacts.S3ModelArtifacts
    return step, model_data


@functools.cache
def _tuning_step_class() -> Any:
    from sagemaker.mlops.workflow import TuningStep

    class TuningStepKeepingTrainerSettings(TuningStep):
        """A TuningStep whose training jobs keep the trainer's volume key and network isolation.

        HyperparameterTuner._build_training_job_definition (SDK 3.27) rebuilds ResourceConfig from
        instance type, count and volume size only, and takes from Networking only the VPC config:
        Compute.volume_kms_key_id and Networking.enable_network_isolation are dropped, so tuned
        jobs would run on AWS-managed-key volumes with network access. Put them back.
        """

        def __init__(self, *, volume_kms_key: str, network_isolation: bool, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._volume_kms_key = volume_kms_key
            self._network_isolation = network_isolation

        @property
        def arguments(self) -> Any:
            request = super().arguments
            definition = request["TrainingJobDefinition"]
            definition["ResourceConfig"].setdefault("VolumeKmsKeyId", self._volume_kms_key)
            if self._network_isolation:
                definition.setdefault("EnableNetworkIsolation", True)
            return request

    return TuningStepKeepingTrainerSettings


def _sdk_range(spec: ParameterRangeSpec, continuous: Any, integer: Any, categorical: Any) -> Any:
    if spec.type == "categorical":
        return categorical(list(spec.values or ()))
    if spec.type == "integer":
        # SageMaker wants "3", not "3.0", for an integer range: the SDK stringifies what it gets.
        return integer(int(spec.min or 0), int(spec.max or 0), scaling_type=spec.scaling)
    return continuous(float(spec.min or 0.0), float(spec.max or 0.0), scaling_type=spec.scaling)
