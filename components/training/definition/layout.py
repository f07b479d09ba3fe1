"""Names and S3 layout the training pipeline shares with the container entry points and the
ModelEndpoint component: step and parameter names, file names, where baselines live, and the Model
Monitor analyzer image. Cheap to import: no sagemaker SDK import (its image table is read as JSON).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib.util import find_spec
from pathlib import Path
from typing import Any

STEP_PREPROCESS = "Preprocess"
STEP_BASELINE = "DataQualityBaseline"
STEP_TRAIN = "Train"
STEP_TUNE = "Tune"
STEP_EVALUATE = "Evaluate"
STEP_CONDITION = "CheckAuc"
STEP_SEAL = "SealModel"
STEP_REGISTER = "RegisterModel"
STEP_PUBLISH_BASELINE = "PublishBaseline"
STEP_FAIL = "AucBelowThreshold"

PARAM_INPUT_DATA_URI = "InputDataUri"
PARAM_PROCESSING_INSTANCE_TYPE = "ProcessingInstanceType"
PARAM_TRAINING_INSTANCE_TYPE = "TrainingInstanceType"

PREPROCESS_OUTPUTS = ("train", "validation", "test", "baseline")
PROCESSING_ROOT = "/opt/ml/processing"
BASELINE_FILE = "baseline.csv"  # written by containers/model preprocess into the `baseline` output
EVALUATION_FILE = "evaluation.json"  # written by containers/model evaluate
AUC_JSON_PATH = "binary_classification_metrics.auc.value"
# evaluate's SHA-256 of the model.tar.gz it received: the seal step refuses other bytes.
MODEL_SHA256_JSON_PATH = "model_artifact.sha256"
# The seal step's report (containers/model churn/seal.py): where it wrote the model under the sealed
# prefix, the SHA-256 and the S3 version of that object. RegisterModel records digest and version
# under the CustomerMetadataProperties keys `python -m tools.promote --verify prod` reads
# (tools/promote/artifact.py).
SEAL_FILE = "seal.json"
SEALED_SHA256_JSON_PATH = "model_artifact.sha256"
SEALED_VERSION_ID_JSON_PATH = "model_artifact.version_id"
MODEL_DATA_SHA256_KEY = "ModelDataSha256"
MODEL_DATA_VERSION_ID_KEY = "ModelDataVersionId"
# Registered model bytes live under pipelines/<pipeline>/<SEALED_DIR>/<execution id>/model.tar.gz,
# written once with If-None-Match: * (the artifact bucket's policy refuses any other write there).
SEALED_DIR = "registered"
SEALED_ARCHIVE = "model.tar.gz"

OBJECTIVE_METRIC = "validation:auc"
# The trainer prints lines such as `[50] train:auc=0.9012 validation:auc=0.8731 validation:logloss=0.41`.
METRIC_DEFINITIONS: tuple[tuple[str, str], ...] = (
    ("validation:auc", r"validation:auc=([0-9\.]+)"),
    ("train:auc", r"train:auc=([0-9\.]+)"),
    ("validation:logloss", r"validation:logloss=([0-9\.]+)"),
)
# The serve contract of containers/model: CSV rows or JSON in, JSON or CSV out (honours Accept).
CONTENT_TYPES = ("text/csv", "application/json")

# The analyzer's two outputs; Model Monitor names them, not us.
STATISTICS_FILE = "statistics.json"
CONSTRAINTS_FILE = "constraints.json"
BASELINES_PREFIX = "baselines"
MODEL_MONITOR_REPOSITORY = "sagemaker-model-monitor-analyzer"
# Exactly what DefaultModelMonitor / QualityCheckStep pass for a CSV with a header (DatasetFormat.csv).
DATASET_FORMAT = {"csv": {"header": True, "output_columns_position": "START"}}


def sealed_model_prefix(pipeline_name: str) -> str:
    """`pipelines/<pipeline>/registered`: the key prefix of registered model bytes (no bucket, no slashes around)."""
    return f"pipelines/{pipeline_name}/{SEALED_DIR}"


def baseline_prefix(artifact_bucket: str, model_package_group_name: str) -> str:
    """`s3://<bucket>/baselines/<group>`: the publish-baseline job appends `/<version>/`."""
    return f"s3://{artifact_bucket}/{BASELINES_PREFIX}/{model_package_group_name}"


def baseline_uris(artifact_bucket: str, model_package_group_name: str, version: int) -> tuple[str, str]:
    """(statistics_uri, constraints_uri) of the data-quality baseline of one model package version."""
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"model package version must be an integer >= 1, got {version!r}")
    root = f"{baseline_prefix(artifact_bucket, model_package_group_name)}/{version}"
    return f"{root}/{STATISTICS_FILE}", f"{root}/{CONSTRAINTS_FILE}"


def analyzer_registries() -> Mapping[str, str]:
    """region -> account of the analyzer image, read from the SDK's own image_uris table.

    The JSON file is located without importing the SDK (find_spec on the top-level package runs
    no code), so the endpoint component can resolve the image without paying for the SDK import.
    """
    spec = find_spec("sagemaker")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the sagemaker SDK is not installed: it carries the Model Monitor image table")
    table = Path(next(iter(spec.submodule_search_locations))) / "core" / "image_uri_config" / "model-monitor.json"
    config = json.loads(table.read_text(encoding="utf-8"))
    version = config["versions"][""]
    if version["repository"] != MODEL_MONITOR_REPOSITORY:
        raise RuntimeError(f"unexpected repository {version['repository']!r} in {table}")
    return version["registries"]


def model_monitor_image_uri(region: str) -> str:
    """The Model Monitor analyzer image for `region`, as `image_uris.retrieve("model-monitor", region)`.

    Same table and same ECR host name resolution (botocore's endpoint data) as the SDK, without its
    3 s import; tests compare the two for every region of the table.
    """
    registries = analyzer_registries()
    if region not in registries:
        raise ValueError(f"no Model Monitor analyzer image for region {region!r}; known: {', '.join(sorted(registries))}")
    endpoint = _endpoint_resolver().construct_endpoint("ecr", region) or {"hostname": f"ecr.{region}.amazonaws.com"}
    return f"{registries[region]}.dkr.{endpoint['hostname']}/{MODEL_MONITOR_REPOSITORY}"


@functools.lru_cache(maxsize=1)
def _endpoint_resolver() -> Any:
    import botocore.loaders
    import botocore.regions

    return botocore.regions.EndpointResolver(botocore.loaders.create_loader().load_data("endpoints"))
