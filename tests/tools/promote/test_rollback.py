"""Emergency rollback and restore on a real Git history of the stack files: prod goes back only to a
version it pinned before (no soak, evidence of kind rollback); the pin is restored to the package
the moto endpoint serves only when SageMaker rolled back the release of the pin (its configuration
tagged as EndpointRelease tags it, since the pin was committed), naming the alarm; a promotion
merged but not deployed yet is left alone."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tools.promote.cli import EXIT_OK, EXIT_REFUSED, main
from tools.promote.endpoint_rollback import EndpointNames
from tools.promote.evidence import ROLLBACK, Evidence
from tools.promote.pin_log import pin_changes, pin_history
from tools.promote.rollback import restore, rollback
from tools.promote.stack_file import CheckFailed, read_stack
from tools.rehearsal.rolled_back import moto_alarm, moto_endpoint, moto_release, moto_rolled_back_release

ROOT = Path(__file__).resolve().parents[3]
# When the fixture's pins were committed: the releases below are built before or after.
PINNED_AT = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
BASE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-dev-churn/9"


def git(repo: Path, *args: str, env_date: str = "") -> None:
    env = {**os.environ, "GIT_COMMITTER_DATE": env_date} if env_date else None
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=repo, capture_output=True, check=True, env=env
    )


def pin(repo: Path, stack: str, version: int) -> None:
    path = repo / f"Pulumi.{stack}.yaml"
    lines = path.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if "modelPackageVersion:" in line)
    lines[index] = lines[index].split(":")[0] + f": {version}\n"
    path.write_text("".join(lines))
    git(repo, "commit", "-qam", f"{stack} {version}", env_date=PINNED_AT.isoformat())


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


def test_a_pin_dates_from_the_commit_that_made_it(repo: Path):
    pin(repo, "dev", 5)  # commits touching only dev do not date prod's pin
    git(repo, "commit", "-q", "--allow-empty", "-m", "unrelated")
    pins = pin_changes(repo, "prod")
    shas = subprocess.run(["git", "log", "--format=%H", "--", "Pulumi.prod.yaml"], cwd=repo, capture_output=True, text=True).stdout.split()
    assert [p.version for p in pins] == [4, 3, 2, 1] and pins[0].commit == shas[0] and pins[-1].commit == shas[-1]
    # A comment changed after the pin: the pin still dates from the commit that set 4.
    path = repo / "Pulumi.prod.yaml"
    path.write_text(path.read_text() + "# reviewed\n")
    git(repo, "commit", "-qam", "a comment", env_date="2030-01-01T00:00:00+00:00")
    assert pin_changes(repo, "prod")[0] == pins[0] and pins[0].since.tzinfo is not None


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


# ---- the restore's endpoint half: only a rolled-back release of the pin restores ----------------------

PINNED, SERVING = BASE.replace("/9", "/4"), BASE.replace("/9", "/3")
ALARMS = ("mlops-prod-endpoint-5xx", "mlops-prod-endpoint-latency")
PROD = EndpointNames("mlops-prod-churn", "prod", ALARMS)


@pytest.fixture
def aws():
    """prod's endpoint serving version 3 (prod pins 4) and its alarms, the latency alarm in ALARM."""
    with mock.patch.dict(os.environ, {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}), mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        moto_endpoint(session, PROD.endpoint, SERVING, "prod")
        moto_alarm(session.client("cloudwatch"), ALARMS[0])
        moto_alarm(session.client("cloudwatch"), ALARMS[1], "ALARM", "p99 1.2 s > 0.5 s")
        yield session


def restore_prod(repo: Path, session, names: EndpointNames = PROD, sagemaker=None):
    return restore(repo, "prod", sagemaker or session.client("sagemaker"), session.client("cloudwatch"), names)


def test_restore_pins_what_serves_after_sagemaker_rolled_back_the_release_of_the_pin(repo: Path, aws):
    config = moto_rolled_back_release(aws, PROD.endpoint, PINNED, "prod", ALARMS[1])
    pr, notes = restore_prod(repo, aws)
    assert pr is not None and read_stack(repo, "prod").pinned_version() == 3 and pr.branch == "restore/prod"
    assert notes == [
        f"prod: the release of version 4 ({config['EndpointConfigName']}) was rolled back (rolled back: alarm {ALARMS[1]}); the endpoint serves version 3"
    ]
    assert pr.title == f"Restore prod's pin to model package version 3 (rolled back by {ALARMS[1]})"
    for fact in (
        config["EndpointConfigName"],
        f"rolled back: alarm {ALARMS[1]}",
        "p99 1.2 s > 0.5 s",
        SERVING,
        "pins model package version 4",
    ):
        assert fact in pr.body, fact
    assert "Prediction API" not in pr.body  # not asked about the API
    # Git says what serves now.
    assert restore_prod(repo, aws) == (None, ["prod: the endpoint serves the pinned version 3; nothing to restore"])


def test_a_merged_promotion_whose_deploy_has_not_run_is_not_reverted(repo: Path, aws):
    """prod's deploy waits for the `production` approval: the endpoint serves 3, Git pins 4, and no
    configuration was built for 4 (dev's, of another stack, does not count)."""
    moto_release(aws, PINNED, "dev")
    moto_rolled_back_release(aws, "mlops-dev-churn", PINNED, "dev", "mlops-dev-endpoint-5xx")
    pr, notes = restore_prod(repo, aws)
    assert pr is None and read_stack(repo, "prod").pinned_version() == 4 and git_status(repo) == ""
    (note,) = notes
    assert note.startswith(
        "prod: version 4 is pinned but not deployed yet (the endpoint serves version 3; no configuration for it was created"
    )
    assert note.endswith("its deploy waits for approval, is frozen or has not run); nothing to restore")


def test_a_release_of_the_pin_under_way_or_interrupted_is_not_reverted(repo: Path, aws):
    """The newest configuration built for the pin decides: an older rolled-back one of the same pin
    was followed by another release that recorded no rollback."""
    moto_rolled_back_release(aws, PROD.endpoint, PINNED, "prod", ALARMS[1], created=PINNED_AT + timedelta(minutes=30))
    config = moto_release(aws, PINNED, "prod")
    pr, (note,) = restore_prod(repo, aws)
    assert pr is None and read_stack(repo, "prod").pinned_version() == 4
    assert f"its configuration {config['EndpointConfigName']} (created" in note and "records no rollback" in note


def test_a_rollback_of_the_version_before_it_was_pinned_again_is_no_evidence(repo: Path, aws):
    """Version 4 was rolled back once, reverted, and promoted again (committed after that rollback):
    the new promotion's deploy has not run."""
    moto_rolled_back_release(aws, PROD.endpoint, PINNED, "prod", ALARMS[1], created=PINNED_AT - timedelta(minutes=1))
    pr, (note,) = restore_prod(repo, aws)
    assert pr is None and "no configuration for it was created since it was pinned" in note
    assert read_stack(repo, "prod").pinned_version() == 4


class DeniedTags:
    """SageMaker as a role scoped to its stack's tagged resources answers: another stack's tags are denied."""

    def __init__(self, client, denied: str) -> None:
        self._client, self._denied = client, denied

    def __getattr__(self, name: str):
        return getattr(self._client, name)

    def list_tags(self, ResourceArn: str):
        if ResourceArn == self._denied:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}, "ListTags")
        return self._client.list_tags(ResourceArn=ResourceArn)


def test_configurations_the_role_may_not_read_are_passed_over_and_counted(repo: Path, aws):
    theirs = moto_rolled_back_release(aws, "mlops-dev-churn", PINNED, "dev", "mlops-dev-endpoint-5xx")
    pr, (note,) = restore_prod(repo, aws, sagemaker=DeniedTags(aws.client("sagemaker"), theirs["EndpointConfigArn"]))
    assert pr is None and "; passed over 1 configuration(s) whose tags the role may not read: another stack's); nothing to restore" in note


def test_the_rollback_alarms_of_the_deployment_are_named_before_the_outputs(repo: Path, aws):
    """DescribeEndpoint's LastDeploymentConfig names the deployment's alarms (before the outputs'); the
    recorded reason picks the one that fired (the latency alarm, in ALARM now, is not it)."""
    moto_alarm(aws.client("cloudwatch"), "mlops-prod-endpoint-errors", "ALARM", "14 5XX errors")
    moto_rolled_back_release(aws, PROD.endpoint, PINNED, "prod", "mlops-prod-endpoint-errors")
    deployed = {"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "mlops-prod-endpoint-errors"}, {"AlarmName": ALARMS[1]}]}}
    sagemaker = LastDeployment(aws.client("sagemaker"), deployed)
    pr, _ = restore_prod(repo, aws, PROD, sagemaker)
    assert pr is not None and pr.title.endswith("(rolled back by mlops-prod-endpoint-errors)") and "14 5XX errors" in pr.body


class LastDeployment:
    """moto's DescribeEndpoint with the LastDeploymentConfig SageMaker answers after a blue/green update."""

    def __init__(self, client, deployed) -> None:
        self._client, self._deployed = client, deployed

    def __getattr__(self, name: str):
        return getattr(self._client, name)

    def describe_endpoint(self, EndpointName: str):
        return {**self._client.describe_endpoint(EndpointName=EndpointName), "LastDeploymentConfig": self._deployed}


@pytest.mark.parametrize(
    ("status", "outcome"),
    [("Updating", "prod: endpoint mlops-prod-churn is Updating; the endpoint is not compared now"), ("Failed", CheckFailed)],
)
def test_an_endpoint_updating_is_not_compared_and_a_failed_one_is_refused(repo: Path, aws, status, outcome):
    from moto.sagemaker.models import sagemaker_backends

    moto_rolled_back_release(aws, PROD.endpoint, PINNED, "prod", ALARMS[1])
    sagemaker_backends["123456789012"]["us-east-1"].endpoints[PROD.endpoint].endpoint_status = status
    if outcome is CheckFailed:
        with pytest.raises(
            CheckFailed, match="mlops-prod-churn is Failed: no reason given. A restore pins what an InService endpoint serves"
        ):
            restore_prod(repo, aws)
    else:
        assert restore_prod(repo, aws) == (None, [outcome])
    assert read_stack(repo, "prod").pinned_version() == 4


def test_a_pin_not_committed_is_refused(repo: Path, aws):
    pin_file = repo / "Pulumi.prod.yaml"
    pin_file.write_text(pin_file.read_text().replace("modelPackageVersion: 4", "modelPackageVersion: 5"))
    with pytest.raises(CheckFailed, match="pins version 5, but its last commit on this branch pins 4"):
        restore_prod(repo, aws)


def git_status(repo: Path) -> str:
    return subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True, check=True).stdout
