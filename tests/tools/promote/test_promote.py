"""The promote command on copies of the real stack files; the registry checks against moto (botocore's
Stubber where an error moto does not produce is needed); dev's stack outputs from a file or a fake
`pulumi` CLI on PATH."""

from __future__ import annotations

import difflib
import hashlib
import io
import json
import os
import re
from pathlib import Path

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto import mock_aws
from ruamel.yaml import YAML

from tools.promote.cli import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, PromoteError, main, verify

ROOT = Path(__file__).resolve().parents[3]


CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


@pytest.fixture(autouse=True)
def no_credentials(tmp_path: Path, monkeypatch):
    """Offline by default: no AWS credentials (the registry check is then skipped unless --check)."""
    for variable in CREDENTIALS:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.delenv("PULUMI", raising=False)  # the CLI is looked up on PATH (a fake one, where a test puts it)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))


@pytest.fixture
def stacks(tmp_path: Path) -> Path:
    """Copies of the real stack files, both pinning version 1 whatever the shipped pins are (a
    promotion changes them; these tests must not)."""
    for stack in ("dev", "prod"):
        text = (ROOT / f"Pulumi.{stack}.yaml").read_text()
        text, count = re.subn(r"(?m)^(\s+modelPackageVersion:) \S+$", r"\1 1", text)
        assert count == 1, f"Pulumi.{stack}.yaml: expected one modelPackageVersion line"
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(text)
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


def test_only_the_version_changes_comments_and_formatting_stay(stacks, capsys):
    for stack in ("dev", "prod"):  # prod takes what dev now pins
        before = (stacks / f"Pulumi.{stack}.yaml").read_text()
        assert run(stacks, "--to", stack, *(["--version", "12"] if stack == "dev" else [])) == EXIT_OK
        after = (stacks / f"Pulumi.{stack}.yaml").read_text()
        assert changed_lines(before, after) == ["-     modelPackageVersion: 1", "+     modelPackageVersion: 12"]
        assert f"{stack}: sagemaker-mlops:endpoint.modelPackageVersion 1 -> 12" in capsys.readouterr().out


def test_prod_takes_the_version_dev_serves(stacks, capsys):
    assert run(stacks, "--to", "dev", "--version", "3") == EXIT_OK
    dev_after = (stacks / "Pulumi.dev.yaml").read_text()
    for args in (["--from", "dev"], []):
        assert run(stacks, "--to", "prod", *args) == EXIT_OK
        assert pinned(stacks / "Pulumi.prod.yaml") == 3
    assert (stacks / "Pulumi.dev.yaml").read_text() == dev_after  # the source is only read
    out = capsys.readouterr().out
    assert "prod: sagemaker-mlops:endpoint.modelPackageVersion 1 -> 3 (the version dev serves, from the pin in Pulumi.dev.yaml)" in out
    assert "note: organization/sagemaker-mlops/dev's stack outputs are not available (no Pulumi CLI" in out
    assert "not checked: no AWS credentials" in out


@pytest.mark.parametrize("version", ["7", "1"])
def test_prod_refuses_any_version_dev_does_not_serve(stacks, capsys, version):
    assert run(stacks, "--to", "dev", "--version", "2") == EXIT_OK
    capsys.readouterr()
    before = (stacks / "Pulumi.prod.yaml").read_text()
    assert run(stacks, "--to", "prod", "--version", version) == EXIT_REFUSED
    err = capsys.readouterr().err
    assert (
        err
        == f"refused: version {version} is not the version dev serves (2, from the pin in Pulumi.dev.yaml): prod serves only what dev served; pin {version} in dev first (python -m tools.promote --to dev --version {version}), then promote it\n"
    )
    assert (stacks / "Pulumi.prod.yaml").read_text() == before


def test_an_already_pinned_version_leaves_the_file_untouched(stacks, capsys):
    path = stacks / "Pulumi.prod.yaml"
    path.write_text(path.read_text().replace("minAuc: 0.80", "minAuc: 0.80   # keep this spacing"))
    before = path.read_bytes()
    assert run(stacks, "--to", "prod", "--from", "dev") == EXIT_OK
    assert path.read_bytes() == before
    assert (
        "prod: already pins model package version 1 (the version dev serves, from the pin in Pulumi.dev.yaml); nothing to change"
        in capsys.readouterr().out
    )


def test_a_quoted_value_with_a_trailing_comment_keeps_the_comment(stacks):
    path = stacks / "Pulumi.dev.yaml"
    set_version_line(path, '    modelPackageVersion: "1"  # promoted 2026-11-01\n')
    assert run(stacks, "--to", "dev", "--version", "2") == EXIT_OK
    assert "    modelPackageVersion: 2  # promoted 2026-11-01\n" in path.read_text()
    assert pinned(path) == 2


def test_an_absent_version_is_added_as_the_first_endpoint_key(stacks):
    path = stacks / "Pulumi.prod.yaml"
    set_version_line(path, "")
    before = path.read_text()
    set_version_line(stacks / "Pulumi.dev.yaml", "    modelPackageVersion: 5\n")
    assert run(stacks, "--to", "prod") == EXIT_OK
    after = path.read_text()
    assert changed_lines(before, after) == ["+     modelPackageVersion: 5"]
    assert after.index("    modelPackageVersion: 5\n    mode: provisioned\n") > after.index("  sagemaker-mlops:endpoint:\n")


def test_promoting_from_a_stack_without_a_version_is_refused(stacks, capsys):
    set_version_line(stacks / "Pulumi.dev.yaml", "")
    before = (stacks / "Pulumi.prod.yaml").read_text()
    assert run(stacks, "--to", "prod", "--from", "dev") == EXIT_REFUSED
    assert (
        capsys.readouterr().err
        == "refused: dev serves no model package: Pulumi.dev.yaml pins none (sagemaker-mlops:endpoint.modelPackageVersion is absent)\n"
    )
    assert (stacks / "Pulumi.prod.yaml").read_text() == before


@pytest.mark.parametrize(
    "line, message",
    [
        ("    modelPackageVersion: latest\n", "modelPackageVersion = 'latest': expected a model package version, an integer >= 1"),
        ("    modelPackageVersion: 0\n", "modelPackageVersion = 0: expected a model package version"),
        # YAML reads these as a bool and a float, whose text is no version.
        ("    modelPackageVersion: true\n", "modelPackageVersion = True: expected a model package version"),
        ("    modelPackageVersion: 3.0\n", "modelPackageVersion = 3.0: expected a model package version"),
        # A digit to str.isdigit(), not to int(): refused, not a ValueError.
        ('    modelPackageVersion: "\u00b2"\n', "modelPackageVersion = '\u00b2': expected a model package version"),
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
    assert run(stacks, "--to", "prod") == EXIT_USAGE
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
        (["--to", "prod", "--version", "0"], "argument --version: --version = '0': expected a model package version, an integer >= 1"),
        (["--to", "staging", "--version", "2"], "invalid choice: 'staging'"),
        (["--to", "prod", "--version", "2", "--from", "dev"], "not allowed with argument"),
        (["--to", "dev"], "--to dev needs --version N"),
        (["--verify", "prod", "--version", "2"], "--verify takes no --version"),
        (["--verify", "prod", "--to", "prod"], "not allowed with argument"),
        (["--verify", "dev"], "dev is the registry's own stack"),
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


# ---- the shared registry (moto) ------------------------------------------------------------------
CONTAINER = {
    "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-model@sha256:" + "0" * 64,
    "ModelDataUrl": "s3://artifacts/model.tar.gz",
}
SHARED = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-dev-churn"
MODEL_BYTES = b"the approved model.tar.gz"


@pytest.fixture
def registry(monkeypatch):
    """The one registry dev owns (mlops-dev-churn), with credentials: register(status) -> version."""
    for variable in CREDENTIALS:
        monkeypatch.setenv(variable, "testing")
    with mock_aws():
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        sagemaker.create_model_package_group(ModelPackageGroupName="mlops-dev-churn")
        # The bytes behind every package, with their digest recorded as the package's metadata.
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="artifacts")
        s3.put_object(Bucket="artifacts", Key="model.tar.gz", Body=MODEL_BYTES)

        def register(status: str) -> int:
            answer = sagemaker.create_model_package(
                ModelPackageGroupName="mlops-dev-churn",
                ModelApprovalStatus=status,
                CustomerMetadataProperties={"ModelDataSha256": hashlib.sha256(MODEL_BYTES).hexdigest()},
                InferenceSpecification={
                    "Containers": [CONTAINER],
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedResponseMIMETypes": ["application/json"],
                },
            )
            return int(answer["ModelPackageArn"].rsplit("/", 1)[1])

        register.client = sagemaker  # type: ignore[attr-defined]
        yield register


def test_with_credentials_prod_gets_the_approved_package_dev_serves(stacks, registry, capsys):
    registry("Rejected")
    assert registry("Approved") == 2
    assert run(stacks, "--to", "dev", "--version", "2") == EXIT_OK
    assert run(stacks, "--to", "prod") == EXIT_OK  # checked without --check: credentials exist
    out = capsys.readouterr().out
    assert f"checked: {SHARED}/2 is Approved" in out and pinned(stacks / "Pulumi.prod.yaml") == 2


@pytest.mark.parametrize("status", ["PendingManualApproval", "Rejected"])
def test_a_package_that_is_not_approved_is_refused(stacks, registry, capsys, status):
    registry("Approved")
    registry(status)
    before = (stacks / "Pulumi.dev.yaml").read_text()
    assert run(stacks, "--to", "dev", "--version", "2", "--check") == EXIT_REFUSED
    err = capsys.readouterr().err
    assert err.startswith(f"refused: model package version 2 in mlops-dev-churn is {status}, not Approved") and err.count("\n") == 1
    assert "update-model-package" in err
    assert (stacks / "Pulumi.dev.yaml").read_text() == before


def test_prod_refuses_dev_s_version_once_it_is_no_longer_approved(stacks, registry, capsys):
    registry("Approved")
    registry.client.update_model_package(ModelPackageArn=f"{SHARED}/1", ModelApprovalStatus="Rejected")
    assert run(stacks, "--to", "prod") == EXIT_REFUSED
    assert "refused: model package version 1 in mlops-dev-churn is Rejected, not Approved" in capsys.readouterr().err


def test_a_version_missing_from_the_shared_registry_is_refused(stacks, registry, capsys):
    assert run(stacks, "--to", "dev", "--version", "4", "--check") == EXIT_REFUSED
    assert "refused: model package version 4 does not exist in mlops-dev-churn (us-east-1)" in capsys.readouterr().err


def test_check_without_credentials_says_so(stacks, capsys):
    assert run(stacks, "--to", "prod", "--check") == EXIT_USAGE
    assert "checking the registry needs AWS credentials" in capsys.readouterr().err


# ---- dev's stack outputs: a file, or the Pulumi CLI ------------------------------------------------
def outputs_file(tmp_path: Path, version: int, account: str = "123456789012") -> Path:
    path = tmp_path / "dev-outputs.json"
    arn = f"arn:aws:sagemaker:us-east-1:{account}:model-package/mlops-dev-churn/{version}"
    path.write_text(json.dumps({"modelPackageArn": arn, "modelPackageVersion": version, "endpointName": "mlops-dev-churn"}))
    return path


def fake_pulumi(tmp_path: Path, monkeypatch, stdout: str, code: int = 0) -> Path:
    """A `pulumi` on PATH that prints `stdout` and records its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "pulumi"
    script.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path / 'pulumi-args'}\ncat <<'EOF'\n{stdout}\nEOF\nexit {code}\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return tmp_path / "pulumi-args"


def test_the_version_dev_serves_comes_from_its_stack_output_over_its_pin(stacks, tmp_path, monkeypatch, capsys):
    # dev's file pins 1, but its stack (deployed from a later commit) serves 3: the output wins.
    arguments = fake_pulumi(tmp_path, monkeypatch, outputs_file(tmp_path, 3).read_text())
    assert run(stacks, "--to", "prod") == EXIT_OK
    assert pinned(stacks / "Pulumi.prod.yaml") == 3
    assert arguments.read_text().split() == [
        "stack",
        "output",
        "--json",
        "--stack",
        "organization/sagemaker-mlops/dev",
        "--non-interactive",
    ]
    assert "(the version dev serves, from organization/sagemaker-mlops/dev's stack output)" in capsys.readouterr().out
    assert run(stacks, "--to", "prod", "--version", "1") == EXIT_REFUSED


def test_an_unreachable_backend_falls_back_to_dev_s_pin(stacks, tmp_path, monkeypatch, capsys):
    fake_pulumi(tmp_path, monkeypatch, "", code=255)
    assert run(stacks, "--to", "prod", "--version", "1") == EXIT_OK
    assert "note: organization/sagemaker-mlops/dev's stack outputs are not available (pulumi stack output failed" in capsys.readouterr().out


def test_dev_outputs_file_and_a_dev_that_serves_nothing(stacks, tmp_path, capsys):
    assert run(stacks, "--to", "prod", "--dev-outputs", str(outputs_file(tmp_path, 5))) == EXIT_OK
    assert pinned(stacks / "Pulumi.prod.yaml") == 5
    (tmp_path / "empty.json").write_text("{}")
    assert run(stacks, "--to", "prod", "--dev-outputs", str(tmp_path / "empty.json")) == EXIT_REFUSED
    assert "refused: dev serves no model package: the outputs in empty.json has no modelPackageArn" in capsys.readouterr().err


def test_prod_without_a_registry_stack_is_a_config_error(stacks, capsys):
    path = stacks / "Pulumi.prod.yaml"
    path.write_text(path.read_text().replace("    stack: organization/sagemaker-mlops/dev\n", "    consumerAccounts: []\n"))
    assert run(stacks, "--to", "prod") == EXIT_USAGE
    assert "sagemaker-mlops:registry.stack is not set" in capsys.readouterr().err


# ---- --verify prod: what deploy.yml runs right before `pulumi up --stack prod` -----------------------
def served_by_dev(stacks: Path, tmp_path: Path) -> Path:
    """dev's outputs saying it serves the version Pulumi.prod.yaml pins (whatever a promotion set)."""
    return outputs_file(tmp_path, pinned(stacks / "Pulumi.prod.yaml"))  # type: ignore[arg-type]


def test_verify_passes_when_prod_pins_the_approved_package_dev_serves(stacks, registry, tmp_path, capsys):
    for _ in range(pinned(stacks / "Pulumi.prod.yaml")):  # type: ignore[arg-type]
        registry("Approved")
    version = pinned(stacks / "Pulumi.prod.yaml")
    assert run(stacks, "--verify", "prod", "--dev-outputs", str(served_by_dev(stacks, tmp_path))) == EXIT_OK
    out = capsys.readouterr().out
    assert f"verified: prod pins {SHARED}/{version}, the package dev serves (the outputs in dev-outputs.json), it is Approved" in out
    assert f"s3://artifacts/model.tar.gz sha256 {hashlib.sha256(MODEL_BYTES).hexdigest()}" in out


def test_verify_refuses_a_pin_dev_does_not_serve(stacks, registry, tmp_path, capsys):
    registry("Approved")
    registry("Approved")
    assert run(stacks, "--verify", "prod", "--dev-outputs", str(outputs_file(tmp_path, 2))) == EXIT_REFUSED
    err = capsys.readouterr().err
    assert (
        err
        == "refused: prod pins model package version 1 but dev serves version 2 (from the outputs in dev-outputs.json): promote the version dev serves (python -m tools.promote --to prod)\n"
    )


def test_verify_refuses_a_package_rejected_after_the_pr_was_opened(stacks, registry, tmp_path, capsys):
    version = pinned(stacks / "Pulumi.prod.yaml")
    for _ in range(version):  # type: ignore[arg-type]
        registry("Approved")
    registry.client.update_model_package(ModelPackageArn=f"{SHARED}/{version}", ModelApprovalStatus="Rejected")
    assert run(stacks, "--verify", "prod", "--dev-outputs", str(served_by_dev(stacks, tmp_path))) == EXIT_REFUSED
    assert capsys.readouterr().err.startswith(f"refused: model package version {version} in mlops-dev-churn is Rejected, not Approved")


def test_verify_checks_the_arn_dev_serves_in_the_owner_s_account(stacks, tmp_path, capsys):
    """prod in another account: the ARN comes from dev's outputs; AccessDenied (no group policy) is an error, not a pass."""
    arn = "arn:aws:sagemaker:us-east-1:111122223333:model-package/mlops-dev-churn/1"
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    client = session.client("sagemaker", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_response(
        "describe_model_package",
        {
            "ModelPackageName": "mlops-dev-churn",
            "ModelPackageArn": arn,
            "ModelApprovalStatus": "Approved",
            "CreationTime": "2026-11-29T00:00:00Z",
            "ModelPackageStatus": "Completed",
            "ModelPackageStatusDetails": {"ValidationStatuses": []},
            "InferenceSpecification": {
                "Containers": [CONTAINER],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["application/json"],
            },
            "CustomerMetadataProperties": {"ModelDataSha256": hashlib.sha256(MODEL_BYTES).hexdigest()},
        },
        {"ModelPackageName": arn},
    )
    s3 = session.client("s3", region_name="us-east-1")
    s3_stubber = Stubber(s3)
    s3_stubber.add_response(
        "get_object",
        {"Body": StreamingBody(io.BytesIO(MODEL_BYTES), len(MODEL_BYTES))},
        {"Bucket": "artifacts", "Key": "model.tar.gz"},
    )
    stubber.add_client_error(
        "describe_model_package", "AccessDeniedException", "not authorized to perform sagemaker:DescribeModelPackage", 400
    )

    class Session:
        def client(self, service, region_name=None):
            assert service in ("sagemaker", "s3")
            return client if service == "sagemaker" else s3

        def get_credentials(self):
            return session.get_credentials()

    outputs = outputs_file(tmp_path, 1, account="111122223333")
    with stubber, s3_stubber:
        assert "verified: prod pins " + arn in verify(stacks, "prod", session=Session(), dev_outputs=outputs)
        with pytest.raises(PromoteError, match="AccessDeniedException"):
            verify(stacks, "prod", session=Session(), dev_outputs=outputs)
        stubber.assert_no_pending_responses()


def test_verify_without_credentials_is_a_usage_error(stacks, capsys):
    assert run(stacks, "--verify", "prod") == EXIT_USAGE
    assert "--verify prod needs AWS credentials" in capsys.readouterr().err


def test_the_default_stack_dir_is_the_repository():
    """`--stack-dir` defaults to the folder holding the stack files (it once named tools/, where a
    workflow's `python -m tools.promote --to prod` would have found no Pulumi.prod.yaml)."""
    from tools.promote import cli

    assert {"Pulumi.dev.yaml", "Pulumi.prod.yaml"} <= {p.name for p in cli.ROOT.glob("Pulumi.*.yaml")}
