"""A promotion pull request, and a team's own settings, pass the check unchanged.

In a temporary copy of the repository: a team puts in its own owner, cost centre and repository (one
commit), then promote.yml's change is made - the pin moved with tools.promote.cli's own stack-file editing
(dev, or dev then prod) - and promote.yml's "Regenerate what the stack file feeds" step runs verbatim.
Then the generated docs are unchanged (that step regenerated them from the promoted and the team's
values: the check `tools.docs --check` makes, since they describe keys, not values), and in that copy
every test that reads a promotion's values passes (in the prod copy, also every test that reads only
the team's). A name in the lists that no longer names a test fails the run (pytest: "not found",
exit 4)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from gitops_workflows import ROOT, named, run_bash, step, workflow

from tools.offline.program_server import SHARED_SERVER_VARIABLE
from tools.offline.stack_files import stack_config
from tools.promote.stack_file import read_stack, with_version

TEAM = {"owner": "churn-team", "costCenter": "cc-4242", "githubRepository": "acme-corp/churn-models"}

# The tests that read what a promotion or a team changes: each reads the stack files (or the records
# of the program run on them), never this repository's example values. Those that read the pins run
# in both copies (the dev pull request pins dev and prod apart, the prod one alike).
PIN_READERS = [
    "tests/components/config/test_config.py::test_shipped_dev_config_parses_with_spec_values",
    "tests/components/config/test_config.py::test_shipped_prod_config_parses_with_spec_values",
    "tests/components/endpoint/test_model_endpoint.py::test_model_serves_the_pinned_registry_version",
    "tests/components/endpoint/test_model_endpoint.py::test_data_quality_job_uses_this_versions_baseline_with_kms_and_isolation",
    "tests/components/training/test_registry.py",
    "tests/tools/rehearsal/test_rehearsal_promotion.py",
]
# Those that read only the team's values, which are the same in both copies (their own fixtures pin
# version 1 in copies of the stack files, or they read no pin): once, in the prod copy, which has
# both promotions and the team's values.
TEAM_VALUE_READERS = [
    "tests/components/foundation/test_foundation.py::test_common_tags_come_from_the_provider_default_tags",
    "tests/tools/promote/test_promote.py",
    "tests/bootstrap/test_trust.py::test_each_ci_role_trusts_exactly_its_runs",
    "tests/bootstrap/test_trust.py::test_each_run_gets_at_most_the_one_role_the_table_names",
    "tests/gitops/test_verify_artifact.py",
    "tests/gitops/test_codeowners.py",
]
# In those files, what reads no stack file value: a config error names the key whatever the pins; the
# careless-promote rehearsal checks only that a refusal it relies on is checked.
NOT_VALUE_READERS = [
    "tests/components/training/test_registry.py::test_invalid_registry_config_exits_2_naming_the_key",
    "tests/components/training/test_registry.py::test_consumer_account_ids_must_be_quoted_12_digit_strings",
    "tests/tools/rehearsal/test_rehearsal_promotion.py::test_a_refusal_that_does_not_happen_fails_the_rehearsal",
]


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def set_scalar(path: Path, key: str, value: str) -> None:
    """One `key: value` line of a stack file rewritten, the rest byte for byte."""
    text, count = re.subn(rf"(?m)^(\s*[\w-]+:{re.escape(key)}:) .*$", rf"\g<1> {value}", path.read_text())
    assert count == 1, f"{path.name}: expected one {key} line"
    path.write_text(text)


def copy_of_the_repository(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    for name in git(ROOT, "ls-files", "-z").split("\0"):
        if name and (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            (repo / name).write_bytes((ROOT / name).read_bytes())
    (repo / "venv").symlink_to(Path(sys.executable).parent.parent)  # the workflow's venv/bin/python
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "main")
    return repo


def pytest_in(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=900)


def promote(repo: Path, stack: str, version: int) -> None:
    """What `tools.promote --to <stack>` writes (its registry checks aside)."""
    target = read_stack(repo, stack)
    target.path.write_text(with_version(target, version))


@pytest.fixture(scope="module", params=["dev", "prod"])
def promoted(request, tmp_path_factory) -> tuple[Path, str, int]:
    repo = copy_of_the_repository(tmp_path_factory.mktemp(f"promotion-{request.param}"))
    for stack in ("dev", "prod"):
        set_scalar(repo / f"Pulumi.{stack}.yaml", "owner", TEAM["owner"])
        set_scalar(repo / f"Pulumi.{stack}.yaml", "costCenter", TEAM["costCenter"])
    set_scalar(repo / "bootstrap" / "Pulumi.github.yaml", "githubRepository", TEAM["githubRepository"])
    git(repo, "commit", "-qam", "our own owner, cost centre and repository")
    version = stack_config(repo, "dev")["sagemaker-mlops:endpoint"]["modelPackageVersion"] + 1
    promote(repo, "dev", version)
    if request.param == "prod":  # the prod pull request comes after dev's was merged
        git(repo, "commit", "-qam", "promote to dev")
        promote(repo, "prod", version)
    regenerate = step(workflow("promote.yml")["jobs"]["promote"], named("Regenerate what the stack file feeds"))
    env = {"PATH": "/usr/bin:/bin", "TO": request.param, "HOME": str(repo.parent / "home")}
    if SHARED_SERVER_VARIABLE in os.environ:  # the session's program server serves the copy (same tools/)
        env[SHARED_SERVER_VARIABLE] = os.environ[SHARED_SERVER_VARIABLE]
    done = run_bash(regenerate["run"], env, repo, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return repo, request.param, version


def test_the_promotion_changes_only_the_stack_file(promoted):
    repo, stack, version = promoted
    changed = git(repo, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert changed == [f" M Pulumi.{stack}.yaml"], changed
    assert stack_config(repo, stack)["sagemaker-mlops:endpoint"]["modelPackageVersion"] == version
    assert stack_config(repo, stack)["sagemaker-mlops:owner"] == TEAM["owner"]


def test_the_tests_that_read_promoted_and_team_values_pass(promoted):
    repo, stack, _ = promoted
    readers = PIN_READERS + (TEAM_VALUE_READERS if stack == "prod" else [])
    done = pytest_in(repo, "-x", *readers, *(f"--deselect={node}" for node in NOT_VALUE_READERS))
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
