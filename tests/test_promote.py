"""The promote command on copies of the real stack files; the registry check against moto."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from ruamel.yaml import YAML

from tools.promote import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def stacks(tmp_path: Path) -> Path:
    for stack in ("dev", "prod"):
        shutil.copy(ROOT / f"Pulumi.{stack}.yaml", tmp_path / f"Pulumi.{stack}.yaml")
    return tmp_path


def set_version_line(path: Path, new_line: str) -> None:
    lines = path.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if "modelPackageVersion:" in line)
    if new_line:
        lines[index] = new_line
    else:
        del lines[index]
    path.write_text("".join(lines))


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:2] in ("- ", "+ ")]


def pinned(path: Path) -> object:
    return YAML(typ="safe").load(path.read_text())["config"]["sagemaker-mlops:endpoint"].get("modelPackageVersion")


def run(stacks: Path, *args: str) -> int:
    return main([*args, "--stack-dir", str(stacks)])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_only_the_version_changes_comments_and_formatting_stay(stacks, stack, capsys):
    before = (stacks / f"Pulumi.{stack}.yaml").read_text()
    assert run(stacks, "--to", stack, "--version", "12") == EXIT_OK
    after = (stacks / f"Pulumi.{stack}.yaml").read_text()
    assert changed_lines(before, after) == ["-     modelPackageVersion: 1", "+     modelPackageVersion: 12"]
    assert f"{stack}: sagemaker-mlops:endpoint.modelPackageVersion 1 -> 12" in capsys.readouterr().out


def test_from_dev_copies_the_version_dev_pins(stacks, capsys):
    assert run(stacks, "--to", "dev", "--version", "3") == EXIT_OK
    dev_after = (stacks / "Pulumi.dev.yaml").read_text()
    assert run(stacks, "--to", "prod", "--from", "dev") == EXIT_OK
    assert pinned(stacks / "Pulumi.prod.yaml") == 3
    assert (stacks / "Pulumi.dev.yaml").read_text() == dev_after  # the source is only read
    assert "prod: sagemaker-mlops:endpoint.modelPackageVersion 1 -> 3 (the version dev pins)" in capsys.readouterr().out


def test_an_already_pinned_version_leaves_the_file_untouched(stacks, capsys):
    path = stacks / "Pulumi.prod.yaml"
    path.write_text(path.read_text().replace("minAuc: 0.80", "minAuc: 0.80   # keep this spacing"))
    before = path.read_bytes()
    assert run(stacks, "--to", "prod", "--from", "dev") == EXIT_OK
    assert path.read_bytes() == before
    assert "prod: already pins model package version 1 (the version dev pins); nothing to change" in capsys.readouterr().out


def test_a_quoted_value_with_a_trailing_comment_keeps_the_comment(stacks):
    path = stacks / "Pulumi.prod.yaml"
    set_version_line(path, '    modelPackageVersion: "1"  # promoted 2026-11-01\n')
    assert run(stacks, "--to", "prod", "--version", "2") == EXIT_OK
    assert "    modelPackageVersion: 2  # promoted 2026-11-01\n" in path.read_text()
    assert pinned(path) == 2


def test_an_absent_version_is_added_as_the_first_endpoint_key(stacks):
    path = stacks / "Pulumi.prod.yaml"
    set_version_line(path, "")
    before = path.read_text()
    assert run(stacks, "--to", "prod", "--version", "5") == EXIT_OK
    after = path.read_text()
    assert changed_lines(before, after) == ["+     modelPackageVersion: 5"]
    assert after.index("  sagemaker-mlops:endpoint:\n    modelPackageVersion: 5\n    mode: provisioned\n") > 0


def test_promoting_from_a_stack_without_a_version_is_refused(stacks, capsys):
    set_version_line(stacks / "Pulumi.dev.yaml", "")
    before = (stacks / "Pulumi.prod.yaml").read_text()
    assert run(stacks, "--to", "prod", "--from", "dev") == EXIT_USAGE
    assert "dev pins no model package version" in capsys.readouterr().err
    assert (stacks / "Pulumi.prod.yaml").read_text() == before


@pytest.mark.parametrize(
    "line, message",
    [
        ("    modelPackageVersion: latest\n", "modelPackageVersion = 'latest': expected a model package version, an integer >= 1"),
        ("    modelPackageVersion: 0\n", "modelPackageVersion = 0: expected a model package version"),
    ],
)
def test_a_bad_source_value_is_named(stacks, capsys, line, message):
    set_version_line(stacks / "Pulumi.dev.yaml", line)
    assert run(stacks, "--to", "prod", "--from", "dev") == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_a_target_config_the_program_would_reject_is_not_written(stacks, capsys):
    path = stacks / "Pulumi.prod.yaml"
    path.write_text(path.read_text().replace("instanceCount: 2\n", "instanceCount: 2\n    colour: blue\n", 1))
    before = path.read_text()
    assert run(stacks, "--to", "prod", "--version", "4") == EXIT_USAGE
    err = capsys.readouterr().err
    assert "invalid configuration for stack 'prod'" in err and "colour" in err
    assert path.read_text() == before


def test_a_stack_without_an_endpoint_map_is_explained(stacks, capsys):
    path = stacks / "Pulumi.dev.yaml"
    text = path.read_text()
    start = text.index("  sagemaker-mlops:endpoint:")
    end = text.index("  sagemaker-mlops:monitoring:")
    path.write_text(text[:start] + text[end:])
    assert run(stacks, "--to", "dev", "--version", "2") == EXIT_USAGE
    assert "'sagemaker-mlops:endpoint' is missing or not a map" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--to", "prod", "--from", "prod"], "--from prod and --to prod name the same stack"),
        (["--to", "prod", "--version", "0"], "expected a model package version, an integer >= 1"),
        (["--to", "staging", "--version", "2"], "invalid choice: 'staging'"),
        (["--to", "prod", "--version", "2", "--from", "dev"], "not allowed with argument"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(stacks, capsys, args, message):
    try:
        code = run(stacks, *args)
    except SystemExit as exc:  # argparse's own refusals
        code = exc.code
    assert code == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_a_missing_stack_file_is_named(tmp_path, capsys):
    assert main(["--to", "prod", "--version", "2", "--stack-dir", str(tmp_path)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("error: cannot read") and "Pulumi.prod.yaml" in err


# ---- --check against the registry (moto) --------------------------------------------------------

CONTAINER = {
    "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-model@sha256:" + "0" * 64,
    "ModelDataUrl": "s3://artifacts/model.tar.gz",
}


@pytest.fixture
def registry():
    """Two registries as the stacks create them: mlops-dev-churn and mlops-prod-churn."""
    with mock_aws():
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")

        def register(group: str, status: str) -> int:
            answer = sagemaker.create_model_package(
                ModelPackageGroupName=group,
                ModelApprovalStatus=status,
                InferenceSpecification={
                    "Containers": [CONTAINER],
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedResponseMIMETypes": ["application/json"],
                },
            )
            return int(answer["ModelPackageArn"].rsplit("/", 1)[1])

        for group in ("mlops-dev-churn", "mlops-prod-churn"):
            sagemaker.create_model_package_group(ModelPackageGroupName=group)
        yield register


def test_check_accepts_an_approved_version_in_the_target_registry(stacks, registry, capsys):
    registry("mlops-prod-churn", "Rejected")
    assert registry("mlops-prod-churn", "Approved") == 2
    assert run(stacks, "--to", "prod", "--version", "2", "--check") == EXIT_OK
    out = capsys.readouterr().out
    assert "checked: arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-prod-churn/2 is Approved" in out
    assert pinned(stacks / "Pulumi.prod.yaml") == 2


@pytest.mark.parametrize("status", ["PendingManualApproval", "Rejected"])
def test_check_refuses_a_version_that_is_not_approved(stacks, registry, capsys, status):
    registry("mlops-dev-churn", "Approved")
    registry("mlops-dev-churn", status)
    before = (stacks / "Pulumi.dev.yaml").read_text()
    assert run(stacks, "--to", "dev", "--version", "2", "--check") == EXIT_REFUSED
    err = capsys.readouterr().err
    assert f"refused: model package version 2 in mlops-dev-churn is {status}, not Approved" in err
    assert "update-model-package" in err
    assert (stacks / "Pulumi.dev.yaml").read_text() == before


def test_check_looks_in_the_registry_the_target_stack_deploys_from(stacks, registry, capsys):
    # Version 1 is approved in dev's registry only: prod would deploy mlops-prod-churn/1, which does not exist.
    registry("mlops-dev-churn", "Approved")
    assert run(stacks, "--to", "dev", "--version", "1", "--check") == EXIT_OK
    assert run(stacks, "--to", "prod", "--version", "1", "--check") == EXIT_REFUSED
    assert "model package version 1 does not exist in mlops-prod-churn (us-east-1)" in capsys.readouterr().err


def test_check_without_credentials_says_so(stacks, monkeypatch, capsys):
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(stacks / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(stacks / "no-config"))
    assert run(stacks, "--to", "prod", "--version", "2", "--check") == EXIT_USAGE
    assert "--check needs AWS credentials" in capsys.readouterr().err
