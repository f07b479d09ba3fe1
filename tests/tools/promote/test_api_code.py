"""The API half of `--restore` on a real Git history of containers/api: the code a Lambda version
serves (its description's digest) is found in the commit that holds it, the folder is written back
to that commit, and only a rolled-back release of HEAD's code is restored; what cannot be named is
refused. Lambda in moto, CodeDeploy through a validating Stubber (tools/rehearsal/api_rollback.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import boto3
import pytest
from moto import mock_aws

from components.api.function_package import source_digest
from tools.promote import cli
from tools.promote.api_code import ApiNames, commit_with_digest, find_rollback, restore_folder, tree_digest
from tools.promote.cli import EXIT_REFUSED, main
from tools.promote.stack_file import CheckFailed, read_stack
from tools.rehearsal.loop import RehearsalSession
from tools.rehearsal.rolled_back import (
    ROLLED_BACK_ID,
    Deployment,
    api_function,
    moto_alarm,
    moto_endpoint,
    moto_rolled_back_release,
    publish,
    rolled_back_api,
    rolled_back_codedeploy,
    serve,
)

ROOT = Path(__file__).resolve().parents[3]
API = "containers/api"
NAMES = ApiNames("mlops-prod-predict", "live", "mlops-prod-predict-api", "mlops-prod-predict-live", "us-east-1")
PACKAGES = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-dev-churn"
ALARMS = ["mlops-prod-predict-new-version-errors", "mlops-prod-predict-duration-p99", "mlops-prod-predict-api-5xx"]


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=repo, capture_output=True, check=True)
    return done.stdout.decode().strip()


@dataclass(frozen=True)
class History:
    repo: Path
    shipped: str
    """The commit adding the API as shipped (digest `old`)."""
    readme: str
    """A later commit touching only a file the archive leaves out: the newest with digest `old`."""
    new: str
    """The API's new code (digest `head`): predict.py changed, hooks/extra.py added."""
    old: str
    head: str


@pytest.fixture
def history(tmp_path: Path) -> History:
    repo = tmp_path / "repo"
    for stack in ("dev", "prod"):
        (repo / f"Pulumi.{stack}.yaml").parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / f"Pulumi.{stack}.yaml", repo / f"Pulumi.{stack}.yaml")
    shutil.copytree(ROOT / API, repo / API, ignore=shutil.ignore_patterns("__pycache__"))
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "the API as shipped")
    shipped = git(repo, "rev-parse", "HEAD")
    old = source_digest(repo / API)
    (repo / API / "README.md").write_text("how the API is packaged\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "a README beside the API")
    readme = git(repo, "rev-parse", "HEAD")
    with (repo / API / "predict.py").open("a") as handle:
        handle.write("# the new code\n")
    (repo / API / "hooks" / "extra.py").write_text("EXTRA = 1\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "the API's new code")
    new = git(repo, "rev-parse", "HEAD")
    (repo / "NOTES.md").write_text("not the API\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "something else")
    return History(repo, shipped, readme, new, old, source_digest(repo / API))


def test_the_digest_read_from_git_is_the_programs_digest_of_the_checkout(history: History):
    assert tree_digest(history.repo, "HEAD") == history.head != history.old
    assert tree_digest(history.repo, history.shipped) == tree_digest(history.repo, history.readme) == history.old


def test_the_history_search_finds_the_newest_commit_holding_the_digest(history: History):
    assert commit_with_digest(history.repo, history.old).sha == history.readme
    found = commit_with_digest(history.repo, history.head)
    assert found.sha == history.new and found.subject == "the API's new code"
    assert commit_with_digest(history.repo, "0" * 64) is None


def test_restoring_writes_the_commits_content_back(history: History):
    repo = history.repo
    changed = restore_folder(repo, history.readme)
    assert source_digest(repo / API) == history.old
    assert not (repo / API / "hooks" / "extra.py").exists() and (repo / API / "README.md").exists()
    assert changed == [f"deleted {API}/hooks/extra.py", f"restored {API}/predict.py"]
    assert git(repo, "diff", "--name-status", "--", API).splitlines() == [f"D\t{API}/hooks/extra.py", f"M\t{API}/predict.py"]
    # To the first commit: the README it did not have goes too; nothing else is touched.
    git(repo, "checkout", "-q", "--", API)
    assert restore_folder(repo, history.shipped) == [
        f"deleted {API}/README.md",
        f"deleted {API}/hooks/extra.py",
        f"restored {API}/predict.py",
    ]
    assert (repo / "NOTES.md").exists() and git(repo, "diff", "--quiet", history.shipped, "--", API) == ""


def test_a_linked_folder_is_never_written_through(history: History, tmp_path: Path):
    elsewhere = tmp_path / "elsewhere"
    shutil.move(history.repo / "containers", elsewhere)
    (history.repo / "containers").symlink_to(elsewhere)
    with pytest.raises(Exception, match="outside"):
        restore_folder(history.repo, history.readme)
    assert (elsewhere / "api" / "hooks" / "extra.py").exists()


@pytest.fixture
def aws():
    with (
        mock.patch.dict(os.environ, {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"}),
        mock_aws(),
    ):
        session = boto3.session.Session(region_name="us-east-1")
        role = session.client("iam").create_role(RoleName="predict", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        lambda_ = session.client("lambda")
        api_function(lambda_, NAMES, role)
        yield session, lambda_


ROLLED_BACK = Deployment(ROLLED_BACK_ID, "1", "2", "mlops-prod-predict-api-5xx")


def test_a_rolled_back_release_of_heads_code_names_the_commit_the_deployment_and_the_alarm(history: History, aws):
    session, lambda_ = aws
    assert publish(lambda_, NAMES, history.old) == "1" and publish(lambda_, NAMES, history.head) == "2"
    serve(lambda_, NAMES, "1")
    earlier = Deployment("d-EARLIER", "1", "2", "mlops-prod-predict-duration-p99", ROLLED_BACK.created.replace(hour=3))
    codedeploy, stubber = rolled_back_codedeploy(session, NAMES, [earlier, ROLLED_BACK], ALARMS)
    found, note = find_rollback(history.repo, lambda_, codedeploy, NAMES)
    stubber.assert_no_pending_responses()
    assert (found.version, found.digest, found.head_digest, found.commit.sha) == ("1", history.old, history.head, history.readme)
    # The newest of the rollbacks from the serving version, and the alarm CodeDeploy's account names.
    assert found.deployment.deployment_id == "d-ROLLEDBACK" and found.deployment.target_version == "2"
    assert "ALARM_ACTIVE" in found.deployment.account and "version 1 -> 2" in found.deployment.account
    assert found.alarm_names == ("mlops-prod-predict-api-5xx",)
    assert note.endswith("the release of HEAD's code was rolled back") and history.readme[:12] in note


@pytest.mark.parametrize(
    "case, expected",
    [
        ("serves head", "runs the code of containers/api at HEAD"),
        ("shifting", "a CodeDeploy release is shifting traffic"),
        ("not released yet", "no release of HEAD's code was rolled back: its deploy has not run yet"),
        ("other code rolled back", "the newest rolled back, d-OTHER, was of other code"),
    ],
)
def test_nothing_is_restored_without_a_rolled_back_release_of_heads_code(history: History, aws, case: str, expected: str):
    session, lambda_ = aws
    publish(lambda_, NAMES, history.old)
    publish(lambda_, NAMES, history.head)
    other = publish(lambda_, NAMES, "ab" * 32)
    deployments = []
    if case == "serves head":
        serve(lambda_, NAMES, "2")
    elif case == "shifting":
        serve(lambda_, NAMES, "1", {"2": 0.1})
    else:
        serve(lambda_, NAMES, "1")
        deployments = [Deployment("d-OTHER", "1", other, ALARMS[0])] if case == "other code rolled back" else []
    codedeploy, stubber = rolled_back_codedeploy(session, NAMES, deployments, ALARMS, reads_group=False)
    found, note = find_rollback(history.repo, lambda_, codedeploy, NAMES)
    assert found is None and expected in note
    if case in ("serves head", "shifting"):
        with pytest.raises(AssertionError):  # CodeDeploy was not asked
            stubber.assert_no_pending_responses()
    else:
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    "digest, refusal",
    [
        (None, "names no code digest"),
        ("cd" * 32, f"code sha256:{'cd' * 32}, which no commit touching containers/api holds"),
    ],
)
def test_code_that_cannot_be_named_is_refused_not_guessed(history: History, aws, digest, refusal):
    session, lambda_ = aws
    codedeploy, _ = rolled_back_api(session, NAMES, digest, history.head, ALARMS[2], ALARMS, reads_group=False)
    before = git(history.repo, "status", "--porcelain")
    with pytest.raises(CheckFailed, match=refusal) as refused:
        find_rollback(history.repo, lambda_, codedeploy, NAMES)
    assert ROLLED_BACK_ID in str(refused.value) and git(history.repo, "status", "--porcelain") == before


def test_a_shallow_clone_is_named_as_the_reason_the_code_is_not_found(history: History, aws, tmp_path: Path):
    session, _ = aws
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{history.repo}", str(shallow))
    codedeploy, _ = rolled_back_api(session, NAMES, history.old, history.head, ALARMS[2], ALARMS, reads_group=False)
    with pytest.raises(CheckFailed, match=r"the clone is shallow: check out the full history \(fetch-depth: 0\)"):
        find_rollback(shallow, session.client("lambda"), codedeploy, NAMES)


# ---- the restore command: one pull request for the endpoint and the API ------------------------------


def outputs_file(tmp_path: Path, **api: str) -> Path:
    path = tmp_path / "prod-outputs.json"
    alarms = {"errors": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:mlops-prod-endpoint-5xx"}
    path.write_text(json.dumps({"endpointName": "mlops-prod-churn", "endpointAlarmArns": alarms, **api}))
    return path


def test_both_rolled_back_make_one_pull_request_with_both(history: History, aws, tmp_path: Path):
    session, lambda_ = aws
    pinned = read_stack(history.repo, "prod").pinned_version()
    # The endpoint's release of the pin was rolled back too: it serves another version, and the
    # configuration built for the pin carries EndpointRelease's record of the rollback.
    moto_endpoint(session, "mlops-prod-churn", f"{PACKAGES}/{pinned + 1}", "prod")
    moto_rolled_back_release(session, "mlops-prod-churn", f"{PACKAGES}/{pinned}", "prod", "mlops-prod-endpoint-5xx")
    cloudwatch = session.client("cloudwatch")
    moto_alarm(cloudwatch, "mlops-prod-endpoint-5xx", "ALARM", "Threshold Crossed: 3 5XX > 0")
    moto_alarm(cloudwatch, "mlops-prod-predict-api-5xx", "OK", "back to normal after the rollback")
    moto_alarm(cloudwatch, "mlops-prod-predict-duration-p99")
    # Names from the stack's outputs (here not the program's defaults, so they must be the ones used).
    names = ApiNames("mlops-prod-predict", "live", "mlops-prod-predict-api-b", "mlops-prod-predict-live-b", "us-east-1")
    outputs = outputs_file(
        tmp_path, apiFunctionName=names.function, apiApplicationName=names.application, apiDeploymentGroupName=names.deployment_group
    )
    codedeploy, stubber = rolled_back_api(session, names, history.old, history.head, ALARMS[2], ALARMS)
    done = cli.restore(history.repo, "prod", RehearsalSession({}, {"codedeploy": codedeploy}), outputs, tmp_path / "pr.md")
    stubber.assert_no_pending_responses()
    title = done.splitlines()[-1]
    assert title == (
        f"Restore prod's pin to model package version {pinned + 1} and API code to {history.readme[:12]} "
        "(rolled back by mlops-prod-endpoint-5xx, mlops-prod-predict-api-5xx)"
    )
    body = (tmp_path / "pr.md").read_text()
    endpoint = body.split("### Prediction API", 1)[0]
    assert "### Endpoint: model package version" in endpoint and "Threshold Crossed: 3 5XX > 0" in endpoint
    assert "recorded by\n  the release: rolled back: alarm mlops-prod-endpoint-5xx" in endpoint
    api = body.split("### Prediction API", 1)[1]
    for fact in (
        history.readme,
        history.old,
        history.head,
        "d-ROLLEDBACK",
        "**`mlops-prod-predict-api-5xx`**",
        "back to normal after the rollback",
    ):
        assert fact in api, fact
    assert f"deleted {API}/hooks/extra.py" in api and f"restored {API}/predict.py" in api and "one folder for every stack" in api
    assert read_stack(history.repo, "prod").pinned_version() == pinned + 1 and source_digest(history.repo / API) == history.old


def test_the_api_alone_rolled_back_and_the_programs_names_without_outputs(history: History, aws, tmp_path: Path):
    session, lambda_ = aws
    pinned = read_stack(history.repo, "prod").pinned_version()
    moto_endpoint(session, "mlops-prod-churn", f"{PACKAGES}/{pinned}")
    moto_alarm(session.client("cloudwatch"), "mlops-prod-predict-api-5xx", "ALARM", "5xx > 0")
    codedeploy, stubber = rolled_back_api(session, NAMES, history.old, history.head, ALARMS[2], ALARMS)
    done = cli.restore(history.repo, "prod", RehearsalSession({}, {"codedeploy": codedeploy}), None, tmp_path / "pr.md")
    stubber.assert_no_pending_responses()
    assert done.splitlines()[0] == f"prod: the endpoint serves the pinned version {pinned}; nothing to restore"
    assert done.splitlines()[-1] == f"Restore prod's API code to {history.readme[:12]} (rolled back by mlops-prod-predict-api-5xx)"
    assert "### Endpoint" not in (tmp_path / "pr.md").read_text()
    assert git(history.repo, "diff", "--name-only").splitlines() == [f"{API}/hooks/extra.py", f"{API}/predict.py"]


def test_a_pin_not_deployed_yet_stays_while_the_apis_rollback_is_restored(history: History, aws, tmp_path: Path):
    """prod's deploy of a merged promotion waits for its approval: the endpoint serves another
    version and nothing was released for the pin; only the API's rolled-back code is restored."""
    session, lambda_ = aws
    pinned = read_stack(history.repo, "prod").pinned_version()
    moto_endpoint(session, "mlops-prod-churn", f"{PACKAGES}/{pinned + 1}", "prod")
    moto_alarm(session.client("cloudwatch"), "mlops-prod-predict-api-5xx", "ALARM", "5xx > 0")
    codedeploy, stubber = rolled_back_api(session, NAMES, history.old, history.head, ALARMS[2], ALARMS)
    done = cli.restore(history.repo, "prod", RehearsalSession({}, {"codedeploy": codedeploy}), None, tmp_path / "pr.md")
    stubber.assert_no_pending_responses()
    assert done.splitlines()[0].startswith(
        f"prod: version {pinned} is pinned but not deployed yet (the endpoint serves version {pinned + 1};"
    )
    assert done.splitlines()[-1] == f"Restore prod's API code to {history.readme[:12]} (rolled back by mlops-prod-predict-api-5xx)"
    assert "### Endpoint" not in (tmp_path / "pr.md").read_text() and read_stack(history.repo, "prod").pinned_version() == pinned
    assert git(history.repo, "status", "--porcelain", "--", "Pulumi.prod.yaml") == ""


def test_the_command_exits_1_naming_what_it_cannot_tell(history: History, aws, tmp_path: Path, monkeypatch, capsys):
    session, lambda_ = aws
    pinned = read_stack(history.repo, "prod").pinned_version()
    moto_endpoint(session, "mlops-prod-churn", f"{PACKAGES}/{pinned + 1}", "prod")
    moto_rolled_back_release(session, "mlops-prod-churn", f"{PACKAGES}/{pinned}", "prod", "mlops-prod-endpoint-5xx")
    codedeploy, _ = rolled_back_api(session, NAMES, "ef" * 32, history.head, ALARMS[2], ALARMS, reads_group=False)
    rehearsed = RehearsalSession({}, {"codedeploy": codedeploy})
    monkeypatch.setattr(boto3.session, "Session", lambda *args, **kwargs: rehearsed)
    args = ["--restore", "prod", "--stack-dir", str(history.repo), "--dev-outputs", str(outputs_file(tmp_path))]
    assert main([*args, "--pr-body", str(tmp_path / "pr.md")]) == EXIT_REFUSED
    assert f"which no commit touching {API} holds" in capsys.readouterr().err
    # Nothing written: not the endpoint's pin either.
    assert read_stack(history.repo, "prod").pinned_version() == pinned and not (tmp_path / "pr.md").exists()
    assert git(history.repo, "status", "--porcelain") == ""
