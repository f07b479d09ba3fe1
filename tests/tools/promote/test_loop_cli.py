"""The closed loop's flags on tools.promote: misuse exits 2 with a message; the deploy gate refuses a
prod pin without evidence (exit 1); --soak and --approved need credentials."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from ruamel.yaml import YAML

from tools.promote.cli import EXIT_REFUSED, EXIT_USAGE, main, promote_soaked
from tools.promote.soak import promotion_config
from tools.promote.stack_file import PromoteError

ROOT = Path(__file__).resolve().parents[3]
ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-dev-churn/1"


@pytest.fixture
def stacks(tmp_path: Path, monkeypatch) -> Path:
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    for stack in ("dev", "prod"):
        shutil.copy(ROOT / f"Pulumi.{stack}.yaml", tmp_path / f"Pulumi.{stack}.yaml")
    (tmp_path / "dev.json").write_text(f'{{"modelPackageArn": "{ARN}"}}')
    return tmp_path


@pytest.mark.parametrize(
    "args, message",
    [
        (["--to", "dev", "--soak"], "--soak goes with --to prod"),
        (["--to", "prod", "--approved"], "--approved goes with --to dev"),
        (["--to", "dev", "--approved", "--version", "2"], "--approved goes with --to dev and no --version"),
        (["--to", "prod", "--soak", "--version", "1"], "--soak takes the version dev serves"),
        (["--check-evidence", "dev"], "invalid choice"),
    ],
)
def test_misuse_exits_2_with_a_message(stacks: Path, capsys, args, message):
    with pytest.raises(SystemExit) as exited:
        main([*args, "--stack-dir", str(stacks)])
    assert exited.value.code == EXIT_USAGE and message in capsys.readouterr().err


def test_a_prod_pin_without_evidence_does_not_deploy(stacks: Path, capsys):
    assert main(["--check-evidence", "prod", "--dev-outputs", str(stacks / "dev.json"), "--stack-dir", str(stacks)]) == EXIT_REFUSED
    assert "no soak evidence at" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["--to", "prod", "--soak"], ["--to", "dev", "--approved"], ["--restore", "prod"]])
def test_measuring_needs_credentials(stacks: Path, capsys, args):
    assert main([*args, "--dev-outputs", str(stacks / "dev.json"), "--stack-dir", str(stacks)]) == EXIT_USAGE
    assert "needs AWS credentials" in capsys.readouterr().err


class Asked(Exception):
    """Raised by every AWS call of RecordingSession: the test needs only who was asked where."""


class RecordingSession:
    """A session with credentials whose clients record their region and answer nothing."""

    def __init__(self) -> None:
        self.regions: dict[str, str] = {}

    def get_credentials(self) -> object:
        return object()

    def client(self, service: str, region_name: str) -> object:
        self.regions[service] = region_name

        def call(**_: object) -> None:
            raise Asked(service)

        return SimpleNamespace(describe_endpoint=call, describe_alarms=call, get_metric_data=call, get_paginator=call)


def test_the_soak_is_measured_in_the_region_of_the_package_dev_serves(stacks: Path):
    # Another region than the stack files' us-east-1: only the ARN can have said it.
    (stacks / "dev.json").write_text(json.dumps({"modelPackageArn": ARN.replace("us-east-1", "eu-west-1")}))
    session = RecordingSession()
    with pytest.raises(Asked):
        promote_soaked(stacks, session, stacks / "dev.json")
    assert session.regions == dict.fromkeys(("sagemaker", "cloudwatch", "s3"), "eu-west-1")


def test_prod_without_a_promotion_section_is_told_what_to_set(stacks: Path):
    path = stacks / "Pulumi.prod.yaml"
    yaml = YAML(typ="rt")
    document = yaml.load(path.read_text())
    del document["config"]["sagemaker-mlops:promotion"]
    with path.open("w") as out:
        yaml.dump(document, out)
    with pytest.raises(PromoteError) as refused:
        promotion_config(stacks)
    assert str(refused.value) == ("Pulumi.prod.yaml has no sagemaker-mlops:promotion section: set promotion.soakHours and promotion.slo")
