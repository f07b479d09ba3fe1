"""Emergency rollback and restore on a real Git history of the stack files: prod goes back only to a
version it pinned before (no soak, evidence of kind rollback); after an alarm rollback the pin is
restored to the package the moto endpoint serves, naming the alarm."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from unittest import mock

import boto3
import pytest
from moto import mock_aws

from tools.promote.cli import EXIT_OK, EXIT_REFUSED, main
from tools.promote.evidence import ROLLBACK, Evidence
from tools.promote.rollback import pin_history, restore, rollback
from tools.promote.stack_file import CheckFailed, read_stack
from tools.rehearsal.rolled_back import moto_alarm, moto_endpoint

ROOT = Path(__file__).resolve().parents[3]
BASE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-dev-churn/9"


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=repo, capture_output=True, check=True)


def pin(repo: Path, stack: str, version: int) -> None:
    path = repo / f"Pulumi.{stack}.yaml"
    lines = path.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if "modelPackageVersion:" in line)
    lines[index] = lines[index].split(":")[0] + f": {version}\n"
    path.write_text("".join(lines))
    git(repo, "commit", "-qam", f"{stack} {version}")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    for stack in ("dev", "prod"):
        shutil.copy(ROOT / f"Pulumi.{stack}.yaml", tmp_path / f"Pulumi.{stack}.yaml")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "base")
    pin(tmp_path, "prod", 2)
    pin(tmp_path, "dev", 4)
    pin(tmp_path, "prod", 3)
    pin(tmp_path, "prod", 4)
    return tmp_path


def test_the_pin_history_is_newest_first_one_entry_per_change(repo: Path):
    assert pin_history(repo, "prod") == (4, 3, 2, 1)  # 1: the shipped pin


def test_rollback_goes_to_the_version_before_without_a_soak(repo: Path):
    checked = []
    evidence, pr, done = rollback(repo, BASE, None, "p99 regression", check=lambda arn: checked.append(arn) or arn)
    assert read_stack(repo, "prod").pinned_version() == 3 and read_stack(repo, "dev").pinned_version() == 4
    assert evidence.kind == ROLLBACK and evidence.arn == BASE.replace("/9", "/3") and checked == [evidence.arn]
    assert pr.branch == "rollback/prod" and "EMERGENCY ROLLBACK" in pr.title and "p99 regression" in pr.body
    assert done.endswith("4 -> 3 (emergency rollback)")


def test_rollback_to_a_named_earlier_version_and_refusals(repo: Path):
    rollback(repo, BASE, 1, "bad data", check=None)
    assert read_stack(repo, "prod").pinned_version() == 1
    git(repo, "checkout", "-q", "Pulumi.prod.yaml")
    with pytest.raises(CheckFailed, match="prod never pinned version 6 before"):
        rollback(repo, BASE, 6, "", check=None)
    with pytest.raises(CheckFailed, match="prod never pinned version 4 before"):
        rollback(repo, BASE, 4, "", check=None)  # the current pin is not a rollback


def test_a_package_no_longer_approved_is_not_rolled_back_to(repo: Path):
    def rejected(arn: str) -> str:
        raise CheckFailed(f"{arn} is Rejected")

    with pytest.raises(CheckFailed, match="Rejected"):
        rollback(repo, BASE, None, "", check=rejected)
    assert read_stack(repo, "prod").pinned_version() == 4


def test_the_cli_rollback_writes_evidence_the_deploy_gate_accepts(repo: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    outputs = tmp_path / "dev.json"
    outputs.write_text(f'{{"modelPackageArn": "{BASE.replace("/9", "/4")}"}}')
    args = ["--stack-dir", str(repo), "--dev-outputs", str(outputs)]
    assert main(["--rollback", "prod", "--reason", "incident 42", "--pr-body", str(tmp_path / "pr.md"), *args]) == EXIT_OK
    evidence = Evidence.from_json((repo / "evidence" / "prod.json").read_text(), "evidence")
    assert evidence.kind == ROLLBACK and "incident 42" in (tmp_path / "pr.md").read_text()
    git(repo, "commit", "-qam", "rollback")
    assert main(["--check-evidence", "prod", *args]) == EXIT_OK
    # A hand-written pin of a version prod never served, with that rollback evidence: refused.
    pin(repo, "prod", 6)
    assert main(["--check-evidence", "prod", *args]) == EXIT_REFUSED


def test_restore_pins_what_serves_after_an_alarm_rollback_and_names_the_alarm(repo: Path):
    with mock.patch.dict(os.environ, {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}), mock_aws():
        moto_endpoint(boto3.session.Session(region_name="us-east-1"), "mlops-prod-churn", BASE.replace("/9", "/3"))
        cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
        moto_alarm(cloudwatch, "mlops-prod-churn-5xx")
        moto_alarm(cloudwatch, "mlops-prod-churn-latency", "ALARM", "p99 1.2 s > 0.5 s")
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        pr, notes = restore(repo, "prod", sagemaker, cloudwatch, "mlops-prod-churn", ["mlops-prod-churn-5xx", "mlops-prod-churn-latency"])
        assert pr is not None and read_stack(repo, "prod").pinned_version() == 3 and notes == []
        assert "mlops-prod-churn-latency" in pr.title and "p99 1.2 s > 0.5 s" in pr.body and pr.branch == "restore/prod"
        assert "Prediction API" not in pr.body  # not asked about the API
        # Git says what serves now.
        assert restore(repo, "prod", sagemaker, cloudwatch, "mlops-prod-churn", []) == (
            None,
            ["prod: the endpoint serves the pinned version 3; nothing to restore"],
        )
