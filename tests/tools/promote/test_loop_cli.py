"""The closed loop's flags on tools.promote: misuse exits 2 with a message; the deploy gate refuses a
prod pin without evidence (exit 1); --soak and --approved need credentials."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tools.promote.cli import EXIT_REFUSED, EXIT_USAGE, main

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
