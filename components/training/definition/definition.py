"""The SageMaker Pipeline definition (JSON) of the training pipeline, generated offline.

The TrainingPipeline component calls `build_pipeline_definition` inside an `Output.apply` and hands
the result to `aws.sagemaker.Pipeline(pipeline_definition=...)`. The definition is produced by the
sagemaker SDK v3 (`sagemaker.mlops.workflow`), but:

* offline: no STS/S3/IAM/SageMaker call is made, with or without real credentials in the
  environment (a real `pulumi up` has them). The SDK gets a private boto3 session with static
  dummy credentials whose every HTTP request is refused before it is sent, so a code path of the
  SDK that would reach AWS fails loudly instead of silently creating a bucket or resolving a role;
* deterministic: the same `PipelineDefinitionArgs` give byte-identical JSON (no timestamps, job
  names or uuids survive into the definition; the SDK's user/admin config files are not read);
* cheap to import: the SDK (~3 s, ~250 MB) is imported only inside `build_pipeline_definition`.

Steps: Preprocess -> DataQualityBaseline -> Train (or Tune) -> Evaluate -> CheckAuc ->
(SealModel -> RegisterModel -> PublishBaseline) | AucBelowThreshold (Fail).

This module assembles the pipeline; the parts live beside it:
- `pipeline_layout`: step/parameter/file names and the S3 layout shared with containers/model and
  the ModelEndpoint component (`baseline_uris`, `model_monitor_image_uri`: the Model Monitor
  schedule reads the very baseline the pipeline published for the pinned version);
- `pipeline_args`: `PipelineDefinitionArgs`, `TuningSpec`, `ParameterRangeSpec` (validated values);
- `pipeline_sdk`: the SDK made offline, deterministic and quiet;
- `pipeline_steps`, `pipeline_training`: one builder per step.
The names are re-exported here, so `components.training.definition.definition` stays the one import.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

from components.training.definition import args as pipeline_args
from components.training.definition import layout as pipeline_layout
from components.training.definition import sdk as pipeline_sdk
from components.training.definition import steps as pipeline_steps
from components.training.definition import training_step as pipeline_training
from components.training.definition.args import ParameterRangeSpec, PipelineDefinitionArgs, TuningSpec
from components.training.definition.layout import (
    AUC_JSON_PATH,
    BASELINE_FILE,
    BASELINES_PREFIX,
    CONSTRAINTS_FILE,
    CONTENT_TYPES,
    DATASET_FORMAT,
    EVALUATION_FILE,
    METRIC_DEFINITIONS,
    MODEL_MONITOR_REPOSITORY,
    OBJECTIVE_METRIC,
    PARAM_INPUT_DATA_URI,
    PARAM_PROCESSING_INSTANCE_TYPE,
    PARAM_TRAINING_INSTANCE_TYPE,
    PREPROCESS_OUTPUTS,
    PROCESSING_ROOT,
    STATISTICS_FILE,
    STEP_BASELINE,
    STEP_CONDITION,
    STEP_EVALUATE,
    STEP_FAIL,
    STEP_PREPROCESS,
    STEP_PUBLISH_BASELINE,
    STEP_REGISTER,
    STEP_SEAL,
    STEP_TRAIN,
    STEP_TUNE,
    baseline_prefix,
    baseline_uris,
    model_monitor_image_uri,
    sealed_model_prefix,
)
from components.training.definition.layout import analyzer_registries as _analyzer_registries
from components.training.definition.sdk import OfflineViolationError, import_sdk, quiet_sdk, sdk_environment
from components.training.definition.sdk import offline_boto_session as _offline_boto_session
from components.training.definition.steps import (
    StepContext,
    baseline_step,
    evaluate_step,
    fail_step,
    gate_step,
    preprocess_step,
    publish_baseline_step,
    register_step,
    seal_step,
)
from components.training.definition.training_step import training_step

# Every source file the definition depends on: the definition cache keys on their bytes.
GENERATOR_SOURCES: tuple[Path, ...] = tuple(
    Path(inspect.getfile(module)) for module in (pipeline_args, pipeline_layout, pipeline_sdk, pipeline_steps, pipeline_training)
) + (Path(__file__),)

__all__ = [
    "AUC_JSON_PATH",
    "BASELINE_FILE",
    "BASELINES_PREFIX",
    "CONSTRAINTS_FILE",
    "CONTENT_TYPES",
    "DATASET_FORMAT",
    "EVALUATION_FILE",
    "GENERATOR_SOURCES",
    "METRIC_DEFINITIONS",
    "MODEL_MONITOR_REPOSITORY",
    "OBJECTIVE_METRIC",
    "PARAM_INPUT_DATA_URI",
    "PARAM_PROCESSING_INSTANCE_TYPE",
    "PARAM_TRAINING_INSTANCE_TYPE",
    "PREPROCESS_OUTPUTS",
    "PROCESSING_ROOT",
    "STATISTICS_FILE",
    "STEP_BASELINE",
    "STEP_CONDITION",
    "STEP_EVALUATE",
    "STEP_FAIL",
    "STEP_PREPROCESS",
    "STEP_PUBLISH_BASELINE",
    "STEP_REGISTER",
    "STEP_SEAL",
    "STEP_TRAIN",
    "STEP_TUNE",
    "OfflineViolationError",
    "ParameterRangeSpec",
    "PipelineDefinitionArgs",
    "TuningSpec",
    "baseline_prefix",
    "baseline_uris",
    "build_pipeline_definition",
    "model_monitor_image_uri",
    "sealed_model_prefix",
    "_analyzer_registries",
    "_offline_boto_session",
]


def build_pipeline_definition(args: PipelineDefinitionArgs) -> str:
    """The pipeline definition JSON for `args`: offline, and byte-identical for equal args."""
    with sdk_environment(args.region):
        import_sdk()
        with quiet_sdk():
            definition = _assemble(args)
    # Normalised through json: key order and separators no longer depend on how the SDK assembled it.
    return json.dumps(json.loads(definition), sort_keys=True, separators=(",", ":"))


def _assemble(args: PipelineDefinitionArgs) -> str:
    """Preprocess -> DataQualityBaseline -> Train|Tune -> Evaluate -> CheckAuc -> (SealModel ->
    RegisterModel -> PublishBaseline) | AucBelowThreshold, in the order the SDK needs them built."""
    from sagemaker.mlops.workflow import Pipeline

    ctx = StepContext.create(args)
    preprocess = preprocess_step(ctx)
    baseline = baseline_step(ctx, preprocess)
    train, model_data = training_step(ctx, preprocess)
    evaluation = evaluate_step(ctx, preprocess, model_data)
    # Only a model that passed the gate is sealed: a sealed object can never be deleted.
    seal = seal_step(ctx, model_data, evaluation)
    register = register_step(ctx, baseline, seal, evaluation)
    publish_baseline = publish_baseline_step(ctx, baseline, register)
    below_threshold = fail_step(ctx, evaluation.auc)
    gate = gate_step(ctx, evaluation.auc, if_steps=[seal.step, register, publish_baseline], else_steps=[below_threshold])

    pipeline = Pipeline(
        name=args.pipeline_name,
        parameters=ctx.parameters,
        steps=[preprocess, baseline, train, evaluation.step, gate],
        sagemaker_session=ctx.session,
        # No SageMaker Experiments trial per run: nothing reads it, and it would need extra IAM.
        pipeline_experiment_config=None,
    )
    return pipeline.definition()
