"""CODEOWNERS: every path has a platform owner by default, with explicit carve-outs for the ML team
(the model's code, the prose docs) - and what builds, judges or deploys prod stays platform's even
inside a carve-out. Matching follows GitHub's rules: the last matching pattern wins; a leading `/`
anchors at the root; a trailing `/` owns everything below; `*` does not cross `/` except alone."""

from __future__ import annotations

import re
import subprocess
from functools import lru_cache

import pytest
from gitops_workflows import ROOT

PLATFORM = "@example-org/platform"
ML = "@example-org/ml"


@lru_cache(maxsize=1)
def rules() -> list[tuple[re.Pattern[str], list[str]]]:
    found = []
    for line in (ROOT / ".github" / "CODEOWNERS").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        pattern, *owners = line.split()
        found.append((compile_pattern(pattern), owners))
    return found


def compile_pattern(pattern: str) -> re.Pattern[str]:
    if pattern == "*":
        return re.compile(r".+")
    anchored = pattern.startswith("/")
    body = pattern.strip("/")
    regex = "".join("[^/]*" if c == "*" else re.escape(c) for c in body)
    prefix = "" if anchored or "/" in body else r"(?:.+/)?"
    suffix = r"/.+" if pattern.endswith("/") else r"(?:/.+)?"
    return re.compile(f"{prefix}{regex}{suffix}")


def owners_of(path: str) -> list[str]:
    found: list[str] = []
    for pattern, owners in rules():
        if pattern.fullmatch(path):
            found = owners
    return found


def test_the_matcher_follows_githubs_rules():
    assert compile_pattern("/docs/").fullmatch("docs/a/b.md") and not compile_pattern("/docs/").fullmatch("x/docs/a.md")
    assert compile_pattern("/Pulumi.*.yaml").fullmatch("Pulumi.prod.yaml")
    assert not compile_pattern("/Pulumi.*.yaml").fullmatch("bootstrap/Pulumi.github.yaml")
    assert compile_pattern("*").fullmatch("a/b/c")


def tracked() -> list[str]:
    return subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()


def test_every_tracked_path_has_an_owner_and_owners_are_teams():
    for path in tracked():
        owners = owners_of(path)
        assert owners, path
        assert all(re.fullmatch(r"@[\w.-]+/[\w.-]+", o) for o in owners), (path, owners)


@pytest.mark.parametrize(
    "path",
    [
        "requirements.txt",
        "requirements-dev.txt",
        "requirements.lock",
        "Pulumi.yaml",
        "Pulumi.dev.yaml",
        "Pulumi.prod.yaml",
        "Makefile",
        "__main__.py",
        "pyproject.toml",
        "tools/promote/cli.py",
        "components/config/stack.py",
        "containers/api/predict.py",
        "containers/model/requirements.txt",
        "containers/model/requirements.lock",
        "containers/model/Dockerfile",
        "policies/PulumiPolicy.yaml",
        "policies/requirements.lock",
        ".github/CODEOWNERS",
        ".github/workflows/deploy.yml",
        ".github/actions/guarded-pulumi/action.yml",
        "bootstrap/Pulumi.yaml",
        "docs/gitops.md",
        "docs/promotion.md",
        "docs/configuration.md",
        "README.md",
    ],
)
def test_what_builds_judges_or_deploys_prod_is_platforms(path):
    assert (ROOT / path).exists(), path
    assert owners_of(path) == [PLATFORM]


@pytest.mark.parametrize("path", ["containers/model/churn/app.py", "docs/api.md", "docs/dashboard.md"])
def test_the_carve_outs_belong_to_the_ml_team(path):
    assert (ROOT / path).exists(), path
    assert owners_of(path) == [ML]
