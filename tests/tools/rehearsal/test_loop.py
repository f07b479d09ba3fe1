"""The closed loop rehearsed in moto (tools/rehearsal/loop.py): every fault refuses the prod promotion
naming its SLO and opens no prod pull request; a clean soak promotes the identical ARN with the
evidence table, passes the deploy's evidence gate; the restore opens nothing while prod's promotion
is merged but not deployed, then (endpoint and API rolled back, one body) its body and the rollback
body are written."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tools.rehearsal.loop import FAULTS, MODEL_BYTES, SEALED_MODEL, main, rehearse_loop

ROOT = Path(__file__).resolve().parents[3]
ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-dev-churn/2"
SLO_OF_FAULT = {"errors": "5xx rate", "latency": "p99 latency", "drift": "drift alarm", "quality": "data-quality violations"}


def test_a_clean_soak_promotes_the_identical_arn_with_its_evidence(tmp_path: Path):
    result = rehearse_loop(ROOT, tmp_path)
    assert result.problems == [] and result.refusal == ""
    assert set(result.bodies) == {"dev", "prod", "restore", "rollback"}
    prod = result.bodies["prod"]
    assert f"dev served `{ARN}`" in prod and "| 5xx rate | 0.0000% (0/7200) | <= 1.00% |" in prod and "**FAILED**" not in prod
    assert "approved by:" in result.bodies["dev"] and "rehearsal01" in result.bodies["dev"]
    assert "mlops-prod-churn-5xx" in result.bodies["restore"] and "EMERGENCY ROLLBACK" in result.bodies["rollback"]
    # The API's release rolled back too: one body, the shipped commit's code back, the deployment and alarm named.
    api = result.bodies["restore"].split("### Prediction API", 1)[1]
    assert "**`mlops-prod-predict-api-5xx`**" in api and "`d-ROLLEDBACK` (version 1 -> 2)" in api and "ALARM_ACTIVE" in api
    assert "as shipped)" in api and "deleted containers/api/feature_flags.json" in api and "restored containers/api/predict.py" in api
    # Before prod's deploy ran (waiting for its approval): pinned 2, serving 1, and no pull request.
    (pending,) = [line for line in result.lines if line.startswith("merged, not deployed -> no restore PR:")]
    assert "prod: version 2 is pinned but not deployed yet (the endpoint serves version 1; no configuration for it" in pending
    # After it ran and SageMaker rolled it back: the configuration EndpointRelease tagged is named with its record.
    endpoint = result.bodies["restore"].split("### Prediction API", 1)[0]
    assert "pins model package version 2" in endpoint and "endpoint configuration `endpoint-config-" in endpoint
    assert "the release: rolled back: alarm mlops-prod-churn-5xx" in endpoint
    (restored,) = [line for line in result.lines if line.startswith("alarm rollbacks -> restore PR:")]
    assert "pin to model package version 1 and API code to" in restored and "mlops-prod-predict-api-5xx" in restored
    gates = [line for line in result.lines if line.startswith("deploy gate (--check-evidence")]
    assert len(gates) == 2 and f"{ARN} soaked 24 h" in gates[0] and "emergency rollback" in gates[1]
    # The digest the pipeline recorded at registration is shown to the dev reviewer and re-checked before prod.
    digest = hashlib.sha256(MODEL_BYTES).hexdigest()
    assert f"SHA-256 {digest} (recorded with the package, ModelDataSha256)" in result.bodies["dev"]
    verified = [line for line in result.lines if line.startswith("deploy gate (--verify prod)")]
    assert len(verified) == 1 and f"pins {ARN}" in verified[0] and f"sha256 {digest}" in verified[0]
    # The package names the sealed object (written by the image's seal code), whose version --verify checks too.
    assert "/registered/" in SEALED_MODEL and f"{SEALED_MODEL} sha256 {digest}" in verified[0]
    assert SEALED_MODEL in result.bodies["dev"]
    # The rehearsal's own copies: the real stack files and API code are untouched.
    assert "modelPackageVersion: 1" in (ROOT / "Pulumi.prod.yaml").read_text()
    assert (
        not (ROOT / "containers" / "api" / "feature_flags.json").exists()
        and "CodeDeploy rolls back" not in (ROOT / "containers/api/predict.py").read_text()
    )


@pytest.mark.parametrize("fault", FAULTS)
def test_each_fault_refuses_the_prod_promotion_naming_the_slo(tmp_path: Path, fault: str):
    result = rehearse_loop(ROOT, tmp_path, fault)
    assert f"SLO '{SLO_OF_FAULT[fault]}' failed" in result.refusal
    assert [p for p in result.problems if "SLO" in p] == [f"prod promotion refused: {result.refusal}"]
    assert "prod" not in result.bodies and sum(f"SLO '{s}' failed" in result.refusal for s in SLO_OF_FAULT.values()) == 1


def test_the_command_exits_1_and_says_which_slo_on_stderr(capsys):
    assert main(["--soak-fault", "latency"]) == 1
    assert "SLO 'p99 latency' failed" in capsys.readouterr().err
