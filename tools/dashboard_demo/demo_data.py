"""What the dashboard demo shows: resource names, the registry's story, the model's features."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass

from tools.repository import ROOT

DASHBOARD_DIR = ROOT / "containers" / "dashboard"
REGION = "us-east-1"
MOTO_ACCOUNT = "123456789012"  # moto's default account

BANNER = (
    "Demo data: a local moto server seeded by tools/dashboard_demo/cli.py stands in for AWS; predictions "
    "come from a model trained on generated data by the pipeline's own entry points, served by "
    "bin/serve behind the real prediction Lambda handler."
)
# Used only when the model's schema (containers/model/churn/schema.py) is not in the checkout.
FALLBACK_FEATURES = ("tenure_months", "monthly_charges", "service_calls", "autopay")


@dataclass(frozen=True)
class DemoNames:
    group: str = "churn-demo"
    bucket: str = "churn-demo-artifacts"
    endpoint: str = "churn-demo-endpoint"
    variant: str = "AllTraffic"
    alarm: str = "churn-demo-drift"


DEFAULT_NAMES = DemoNames()


@dataclass(frozen=True)
class DemoVersion:
    approval: str
    age_days: int
    metrics: Mapping[str, float]
    description: str


# Three versions that tell a plausible story: v1 approved and deployed, v2 rejected (recall fell),
# v3 better and waiting for a reviewer.
DEMO_VERSIONS = (
    DemoVersion(
        "Approved",
        41,
        {"auc": 0.812, "accuracy": 0.781, "precision": 0.702, "recall": 0.611, "f1": 0.653},
        "monthly retraining",
    ),
    DemoVersion(
        "Rejected",
        12,
        {"auc": 0.804, "accuracy": 0.789, "precision": 0.744, "recall": 0.538, "f1": 0.624},
        "retrained on drift alarm; recall regressed",
    ),
    DemoVersion(
        "PendingManualApproval",
        2,
        {"auc": 0.846, "accuracy": 0.803, "precision": 0.731, "recall": 0.664, "f1": 0.696},
        "monthly retraining",
    ),
)


def demo_feature_names() -> tuple[str, ...]:
    """The model's encoded feature names, read from its schema the way the dashboard reads it."""
    if str(DASHBOARD_DIR) not in sys.path:
        sys.path.insert(0, str(DASHBOARD_DIR))
    from mlops_dashboard.features import load_schema

    schema = load_schema()
    return tuple(schema.FEATURE_NAMES) if schema is not None else FALLBACK_FEATURES
