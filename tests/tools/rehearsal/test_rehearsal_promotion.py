"""The promotion rehearsal of `make demo` (tools/rehearsal/promotion.py): it passes on the real
program, and it fails, saying so, when a refusal it relies on does not happen."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tools.offline.records import ROOT
from tools.rehearsal import promotion as rehearsal_promotion
from tools.rehearsal.promotion import gating_preview, rehearse_promotion

SERVED = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-dev-churn/2"


@pytest.fixture(scope="module")
def rehearsed(tmp_path_factory):
    work = tmp_path_factory.mktemp("promotion")
    before = {stack: (ROOT / f"Pulumi.{stack}.yaml").read_text() for stack in ("dev", "prod")}
    result = rehearse_promotion(ROOT, work)
    assert {stack: (ROOT / f"Pulumi.{stack}.yaml").read_text() for stack in before} == before
    return result, work


def test_a_promotion_by_identity_is_rehearsed_end_to_end(rehearsed):
    result, work = rehearsed
    assert result.problems == []
    assert result.served_arn == SERVED
    text = "\n".join(result.lines)
    assert f"registry: {SERVED} registered by the pipeline run and approved" in text
    assert "dev pins version 2: dev: sagemaker-mlops:endpoint.modelPackageVersion 1 -> 2 in Pulumi.dev.yaml" in text
    assert "prod --version 3 refused: version 3 is not the version dev serves (2, from the outputs in dev-outputs.json)" in text
    assert "prod accepted: prod: sagemaker-mlops:endpoint.modelPackageVersion 1 -> 2 (the version dev serves" in text
    assert f"prod's offline preview serves {SERVED}: the package dev serves (policy verdict: OK)" in text
    # the provider step: prod's recorded release inputs, through the wire, against a validating client
    assert re.search(
        r"release: mlops-prod-churn endpoint-config-previous -> endpoint-config-\w+ \(updated, CANARY \d+%\), every request "
        r"valid for botocore; deleted endpoint-config/endpoint-config-previous, model/endpoint-model-previous",
        text,
    ), text
    # the repository's own stack files are untouched (the fixture compares them): the rehearsal promotes copies
    assert (work / "promotion" / "program" / "Pulumi.prod.yaml").read_text().count("modelPackageVersion: 2\n") == 1


def test_a_refusal_that_does_not_happen_fails_the_rehearsal(tmp_path, monkeypatch):
    real = rehearsal_promotion._promote

    def careless(stack_dir: Path, *args: str):
        # a promote that ignores --version: what the rehearsal must catch
        if args[:2] == ("--to", "prod"):
            args = tuple(a for a in args if a not in ("--version", "3"))
        return real(stack_dir, *args)

    monkeypatch.setattr(rehearsal_promotion, "_promote", careless)
    result = rehearse_promotion(ROOT, tmp_path)
    assert result.problems == ["promotion: promoting version 3, which dev does not serve, was not refused (exit 0)"]


def test_a_stack_serving_another_registry_is_gated_by_that_stack_s_pipeline():
    dev = {"stack": "dev", "resources": [{"type": "aws:sagemaker/pipeline:Pipeline", "name": "training-pipeline"}]}
    prod = {"stack": "prod", "resources": [{"type": "pulumi:pulumi:StackReference", "name": "organization/sagemaker-mlops/dev"}]}
    assert gating_preview({"dev": dev, "prod": prod}, "prod") is dev
    assert gating_preview({"dev": dev, "prod": prod}, "dev") is dev
    assert gating_preview({"prod": prod}, "prod") is None
