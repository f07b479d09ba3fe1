"""The prod promotion gated by dev's soak, and the deploy's re-check of its evidence.

    python -m tools.promote --to prod --soak [--evidence-out FILE] [--pr-body FILE] [--dev-outputs FILE]
    python -m tools.promote --check-evidence prod [--evidence FILE]

`--soak` measures, with the caller's credentials, that dev served the exact ARN it would pin for
`promotion.soakHours` (Pulumi.prod.yaml) with every SLO met, and writes the pin only then. The
evidence goes to evidence/prod.json (committed with the pin) and the pull request body.
`--check-evidence prod` is the deploy's gate: the evidence in the commit is about the ARN prod pins,
passed and at most `promotion.evidenceMaxAgeHours` old, or records an emergency rollback to a version
prod pinned before (tools/promote/rollback.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Optional

from components.config.promotion import PromotionConfig
from components.endpoint.model_endpoint import VARIANT_NAME, endpoint_name
from components.endpoint.monitoring import drift_alarm_name
from tools.promote.evidence import ROLLBACK, Evidence, SoakTarget, measure_soak, refusal, verify_evidence
from tools.promote.registry import Served, owner_config, registry_stack
from tools.promote.stack_file import CheckFailed, PromoteError, read_stack

EVIDENCE_FILE = Path("evidence") / "prod.json"


@dataclass(frozen=True)
class Clients:
    sagemaker: Any
    cloudwatch: Any
    s3: Any

    @classmethod
    def of(cls, session: Any, region: str) -> Clients:
        return cls(*(session.client(name, region_name=region) for name in ("sagemaker", "cloudwatch", "s3")))


def promotion_config(stack_dir: Path, stack: str = "prod") -> PromotionConfig:
    config = owner_config(stack_dir, stack).promotion
    if config is None:
        raise PromoteError(f"Pulumi.{stack}.yaml has no sagemaker-mlops:promotion section: set promotion.soakHours and promotion.slo")
    return config


def soak_target(stack_dir: Path, served: Served, outputs: Optional[dict[str, Any]]) -> SoakTarget:
    """dev's endpoint, variant, drift alarm and Model Monitor reports: its outputs, else its names."""
    prod = read_stack(stack_dir, "prod")
    dev = owner_config(stack_dir, registry_stack(prod).rsplit("/", 1)[-1])
    outputs = outputs or {}
    name = outputs.get("endpointName") or endpoint_name(dev.name_prefix)
    if served.arn is None:
        raise CheckFailed("the soak is measured for the ARN dev's stack outputs name: pass --dev-outputs FILE or a Pulumi backend")
    return SoakTarget(
        arn=served.arn,
        endpoint_name=name,
        variant_name=outputs.get("endpointVariantName") or VARIANT_NAME,
        drift_alarm_name=drift_alarm_name(dev.name_prefix),
        reports_bucket=outputs.get("endpointDataBucket") or outputs.get("artifactBucket"),
        reports_prefix=f"monitoring/{name}/reports",
    )


def soak(stack_dir: Path, served: Served, outputs: Optional[dict[str, Any]], clients: Clients, now: Optional[datetime] = None) -> Evidence:
    """Measure dev's soak of the ARN it serves; CheckFailed naming each failed SLO when it does not pass."""
    evidence = measure_soak(clients, soak_target(stack_dir, served, outputs), promotion_config(stack_dir), now)
    if not evidence.passed:
        raise SoakFailed(evidence)
    return evidence


class SoakFailed(CheckFailed):
    def __init__(self, evidence: Evidence) -> None:
        super().__init__(f"dev's soak of {evidence.arn} does not allow promotion to prod: {refusal(evidence)}")
        self.evidence = evidence


def read_evidence(path: Path) -> Evidence:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CheckFailed(f"no soak evidence at {path} ({exc.strerror or exc}): a prod pin without evidence does not deploy") from None
    return Evidence.from_json(text, str(path))


def check_evidence(
    stack_dir: Path,
    arn: str,
    history: Callable[[], tuple[int, ...]],
    evidence_path: Optional[Path] = None,
    now: Optional[datetime] = None,
) -> str:
    """The deploy's gate: evidence/prod.json passes verify_evidence for the ARN prod pins.

    `history` (the versions prod pinned, from Git) is read only for a rollback's evidence."""
    config = promotion_config(stack_dir)
    evidence = read_evidence(evidence_path or stack_dir / EVIDENCE_FILE)
    if evidence.kind == "soak" and evidence.soak_hours < config.soak_hours:
        raise CheckFailed(f"the evidence soaked {evidence.soak_hours:g} h; prod requires promotion.soakHours {config.soak_hours:g}")
    return verify_evidence(evidence, arn, config.evidence_max_age_hours, now, history() if evidence.kind == ROLLBACK else ())


def write_outputs(evidence: Evidence, evidence_out: Optional[Path], body: Optional[str], body_out: Optional[Path]) -> None:
    if evidence_out is not None:
        evidence_out.parent.mkdir(parents=True, exist_ok=True)
        evidence_out.write_text(evidence.to_json(), encoding="utf-8")
    if body_out is not None and body is not None:
        body_out.write_text(body, encoding="utf-8")


def load_outputs(dev_outputs: Optional[Path]) -> Optional[dict[str, Any]]:
    if dev_outputs is None:
        return None
    try:
        outputs = json.loads(dev_outputs.read_text())
    except (OSError, ValueError) as exc:
        raise PromoteError(f"--dev-outputs {dev_outputs}: cannot read it as JSON ({exc})") from None
    return outputs if isinstance(outputs, dict) else None
