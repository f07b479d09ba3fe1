"""The pins check on a real Git repository: a commit (or a whole change) that moves the dev and the
prod pin together is refused; moving one of them is not."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tools.promote.pins import main, problems

ROOT = Path(__file__).resolve().parents[3]


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=repo, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def pin(repo: Path, stack: str, version: int) -> None:
    path = repo / f"Pulumi.{stack}.yaml"
    lines = path.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if "modelPackageVersion:" in line)
    lines[index] = lines[index].split(":")[0] + f": {version}\n"
    path.write_text("".join(lines))


def commit(repo: Path, message: str) -> str:
    git(repo, "commit", "-qam", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    for stack in ("dev", "prod"):
        shutil.copy(ROOT / f"Pulumi.{stack}.yaml", tmp_path / f"Pulumi.{stack}.yaml")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    commit(tmp_path, "base")
    return tmp_path


def test_one_commit_moving_both_pins_is_refused_naming_it(repo: Path, capsys):
    base = git(repo, "rev-parse", "HEAD")
    pin(repo, "dev", 2)
    pin(repo, "prod", 2)
    sha = commit(repo, "both")
    assert problems(repo, base) == [
        f"commit {sha[:12]} changes both the dev and the prod pin (sagemaker-mlops:endpoint.modelPackageVersion)"
    ]
    assert main(["--repo", str(repo), base]) == 1
    assert "pin dev first, let it soak" in capsys.readouterr().err


def test_moving_both_pins_in_separate_commits_of_one_change_is_refused_too(repo: Path):
    base = git(repo, "rev-parse", "HEAD")
    pin(repo, "dev", 2)
    commit(repo, "dev")
    pin(repo, "prod", 2)
    commit(repo, "prod")
    assert problems(repo, base) == [
        f"the change {base}..HEAD moves both the dev and the prod pin (a squash merge would make it one commit)"
    ]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_moving_one_pin_passes(repo: Path, stack: str, capsys):
    base = git(repo, "rev-parse", "HEAD")
    pin(repo, stack, 3)
    commit(repo, stack)
    assert main(["--repo", str(repo), base]) == 0
    assert capsys.readouterr().out.startswith("ok:")


def test_an_unknown_base_is_a_usage_error(repo: Path, capsys):
    assert main(["--repo", str(repo), "no-such-revision"]) == 2
    assert capsys.readouterr().err.startswith("error: git rev-list no-such-revision..HEAD: ")
