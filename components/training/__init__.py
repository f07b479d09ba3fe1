"""Training: the SageMaker Pipeline, its definition, the model registry, who may use them and what
starts a run."""

from components.training.args import RetrainOnDriftArgs, TrainingPipelineArgs
from components.training.definition.args import ParameterRangeSpec, TuningSpec
from components.training.model_schema import FEATURE_NAMES
from components.training.pipeline import TrainingPipeline
from components.training.registry import (
    SERVED_PACKAGE_OUTPUT,
    SERVED_VERSION_OUTPUT,
    RegistryCoordinates,
    from_stack_reference,
    same_region,
)
from components.training.retrain_on_drift import RetrainOnDrift

__all__ = [
    "FEATURE_NAMES",
    "ParameterRangeSpec",
    "RegistryCoordinates",
    "RetrainOnDrift",
    "RetrainOnDriftArgs",
    "SERVED_PACKAGE_OUTPUT",
    "SERVED_VERSION_OUTPUT",
    "TrainingPipeline",
    "TrainingPipelineArgs",
    "TuningSpec",
    "from_stack_reference",
    "same_region",
]
