"""The training package's Args: the pipeline with its registry (TrainingPipelineArgs), the
retrain-on-drift route (RetrainOnDriftArgs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Protocol, Sequence

import pulumi

from components.training.definition.args import TuningSpec

DEFAULT_HYPERPARAMETERS = {
    "max_depth": "6",
    "learning_rate": "0.1",
    "num_round": "300",
    "early_stopping_rounds": "20",
    "seed": "42",
}


@dataclass(frozen=True)
class TrainingPipelineArgs:
    name_prefix: str
    region: str
    kms_key_arn: pulumi.Input[str]
    alarm_topic_arn: pulumi.Input[str]
    training_instance_type: str
    processing_instance_type: str
    use_spot: bool
    schedule: str
    min_auc: float
    tuning: Optional[TuningSpec] = None
    hyperparameters: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_HYPERPARAMETERS))
    drift_alarm_name: Optional[str] = None
    """Name of the endpoint's drift alarm: when set, the alarm entering ALARM starts a run."""
    force_destroy: bool = False
    protect_registry: bool = False
    """Another stack or account serves this registry: the model package group, the artifact bucket
    and the image repository (with their parts) are protected, so no destroy or replacement of this
    stack takes away what the other one serves."""
    consumer_accounts: Sequence[str] = ()
    """AWS accounts whose stacks serve this registry's packages: granted read access to the packages,
    their artifacts and baselines, the model image, and PutEvents to this account's default bus for
    their drift alarms. The KMS key's grant is the Foundation's (FoundationArgs.consumer_accounts)."""
    max_run_seconds: int = 3600
    max_wait_seconds: int = 7200


@dataclass(frozen=True)
class RetrainOnDriftArgs:
    name_prefix: str
    region: str
    drift_alarm_name: str
    pipeline_arn: pulumi.Input[str]
    registry_account_id: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]


class TrainingResources(Protocol):
    """What the pipeline's access and trigger helpers read of a TrainingPipeline (which satisfies it):
    typed by shape so that those helpers need not import the component that calls them."""

    data_bucket: Any
    artifact_bucket: Any
    image: Any
    pipeline: Any
    pipeline_name: Any
    model_package_group: Any
    model_package_group_name: Any
