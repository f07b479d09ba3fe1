"""Shared values and helpers of the pipeline-definition tests (imported by conftest and tests)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.training.definition.definition import PipelineDefinitionArgs, TuningSpec

REPO_ROOT = Path(__file__).resolve().parents[4]
MODEL_ROOT = REPO_ROOT / "containers" / "model"
# The publish-baseline tests import the churn package the way the image's bin/ scripts do.
if str(MODEL_ROOT) not in sys.path:
    sys.path.insert(0, str(MODEL_ROOT))

ACCOUNT = "123456789012"
REGION = "eu-west-1"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/mlops-dev-model@sha256:{'0123456789abcdef' * 4}"
KMS = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/mlops-dev-sagemaker-execution"
GROUP = "mlops-dev-churn"
ARTIFACTS = "mlops-dev-artifacts"
DATA = "mlops-dev-data"
PIPELINE = "mlops-dev-training"
HYPERPARAMETERS = {"max_depth": "6", "learning_rate": "0.1", "num_round": "300", "seed": "42"}
TUNING = {
    "max_jobs": 6,
    "max_parallel": 2,
    "ranges": {
        "max_depth": {"type": "integer", "min": 3.0, "max": 8.0},
        "learning_rate": {"type": "continuous", "min": 0.01, "max": 0.3, "scaling": "Logarithmic"},
        "boosting": {"type": "categorical", "values": ["gbdt", "dart"]},
    },
}


def make_args(**overrides: Any) -> PipelineDefinitionArgs:
    values: dict[str, Any] = dict(
        pipeline_name=PIPELINE,
        region=REGION,
        role_arn=ROLE,
        image_uri=IMAGE,
        data_bucket=DATA,
        artifact_bucket=ARTIFACTS,
        kms_key_arn=KMS,
        model_package_group_name=GROUP,
        min_auc=0.75,
        training_instance_type="ml.m5.xlarge",
        processing_instance_type="ml.m5.large",
        use_spot=False,
        max_run_seconds=3600,
        max_wait_seconds=7200,
        hyperparameters=dict(HYPERPARAMETERS),
    )
    values.update(overrides)
    return PipelineDefinitionArgs(**values)


# The variants: on-demand with tuning switched off (max_jobs 0), spot without tuning, spot + tuning.
VARIANTS: dict[str, dict[str, Any]] = {
    "on_demand": dict(tuning=TuningSpec(max_jobs=0, max_parallel=1, ranges={})),
    "spot": dict(use_spot=True, min_auc=0.8),
    "tuned": dict(use_spot=True, min_auc=0.7, tuning=TuningSpec(**TUNING)),
}

# Runs in a fresh interpreter with no AWS variables and an empty HOME: every socket connection and
# name lookup that is not loopback is refused *and recorded* (telemetry runs on a thread that
# swallows errors, so a refusal alone could go unnoticed); telemetry sends are recorded too.
SUBPROCESS_RUNNER = r"""
import ipaddress, json, logging, os, socket, sys, threading

attempts = []

def _loopback(host):
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

_connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

def _guard(address):
    host = address[0] if isinstance(address, tuple) else address
    if not _loopback(host.decode() if isinstance(host, bytes) else host):
        attempts.append(repr(address))
        raise OSError(f"network blocked: {address!r}")

def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _guard(address)
    return _connect(self, address)

def connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _guard(address)
    return _connect_ex(self, address)

def getaddrinfo(host, *args, **kwargs):
    if host is not None:
        _guard((host,))
    return _getaddrinfo(host, *args, **kwargs)

socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo

import components.training.definition.definition as pd
assert "sagemaker" not in sys.modules, "importing the module imported the SDK"

spec = json.loads(sys.argv[1])
tuning = spec.pop("tuning")
args = pd.PipelineDefinitionArgs(**spec, tuning=pd.TuningSpec(**tuning) if tuning else None)
env_before = dict(os.environ)
root = logging.getLogger()
logging_before = (list(root.handlers), root.level)

import sagemaker.core.telemetry.telemetry_logging as telemetry
telemetry_sends = []
_send = telemetry._send_telemetry_request
def _record(*a, **k):
    telemetry_sends.append(repr(a[:2]))
    return _send(*a, **k)
telemetry._send_telemetry_request = _record

definition = pd.build_pipeline_definition(args)
for thread in threading.enumerate():
    if thread is not threading.main_thread():
        thread.join(timeout=5)
json.dump(
    {
        "definition": definition,
        "network_attempts": attempts,
        "telemetry_sends": telemetry_sends,
        "root_logger_changed": (list(root.handlers), root.level) != logging_before,
        "env_changed": sorted(k for k in set(env_before) | set(os.environ) if env_before.get(k) != os.environ.get(k)),
    },
    sys.stdout,
)
"""


@dataclass(frozen=True)
class Built:
    args: PipelineDefinitionArgs
    text: str

    @property
    def definition(self) -> dict[str, Any]:
        return json.loads(self.text)


def args_as_json(args: PipelineDefinitionArgs) -> str:
    spec = {
        name: getattr(args, name)
        for name in (
            "pipeline_name",
            "region",
            "role_arn",
            "image_uri",
            "data_bucket",
            "artifact_bucket",
            "kms_key_arn",
            "model_package_group_name",
            "min_auc",
            "training_instance_type",
            "processing_instance_type",
            "use_spot",
            "max_run_seconds",
            "max_wait_seconds",
        )
    }
    spec["hyperparameters"] = dict(args.hyperparameters)
    spec["tuning"] = None
    if args.tuning is not None:
        spec["tuning"] = {
            "max_jobs": args.tuning.max_jobs,
            "max_parallel": args.tuning.max_parallel,
            "ranges": {
                name: {"type": r.type, "min": r.min, "max": r.max, "values": list(r.values) if r.values else None, "scaling": r.scaling}
                for name, r in args.tuning.ranges.items()
            },
        }
    return json.dumps(spec)
