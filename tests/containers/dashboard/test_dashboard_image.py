"""The dashboard image's recipe, checked without Docker: what it copies exists and is in the build
context, it runs as non-root with a health check, and the pins are what the tests ran with."""

from __future__ import annotations

import fnmatch
import importlib.metadata
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools.dashboard_demo.cli import demo_feature_names

CONTAINERS = Path(__file__).resolve().parents[3] / "containers"
DOCKERFILE = CONTAINERS / "dashboard" / "Dockerfile"
IGNORE = CONTAINERS / "dashboard" / "Dockerfile.dockerignore"
REQUIREMENTS = CONTAINERS / "dashboard" / "requirements.txt"
SCHEMA = CONTAINERS / "model" / "churn" / "schema.py"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def in_context(path: str, patterns: list[str]) -> bool:
    """dockerignore semantics that matter here: the last matching pattern wins; `!` re-includes."""
    included = True
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(path, body) or path.startswith(body + "/"):
            included = negated
    return included


def test_everything_copied_exists_and_is_sent_in_the_build_context() -> None:
    patterns = [line.strip() for line in IGNORE.read_text().splitlines() if line.strip() and not line.startswith("#")]
    copies = [shlex.split(args) for keyword, args in instructions() if keyword == "COPY"]
    assert copies, "the Dockerfile copies nothing"
    for source, _destination in copies:
        path = CONTAINERS / source
        assert path.exists(), f"COPY {source}: no such file in the build context {CONTAINERS}"
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        for file in files:
            relative = file.relative_to(CONTAINERS).as_posix()
            if "__pycache__" not in relative:
                assert in_context(relative, patterns), f"{relative} is excluded by {IGNORE.name}"
    # And nothing else of the model (its code, data) is sent along.
    assert not in_context("model/churn/data.py", patterns)


def test_image_runs_as_non_root_with_a_health_check_on_the_streamlit_endpoint() -> None:
    steps = instructions()
    users = [args for keyword, args in steps if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    (healthcheck,) = [args for keyword, args in steps if keyword == "HEALTHCHECK"]
    assert "http://127.0.0.1:8501/_stcore/health" in healthcheck
    assert "curl" not in healthcheck and "wget" not in healthcheck  # neither is in a slim image
    (entrypoint,) = [args for keyword, args in steps if keyword == "ENTRYPOINT"]
    flags = " ".join(re.findall(r'"([^"]*)"', entrypoint))
    for expected in (
        "--server.address 0.0.0.0",
        "--server.port 8501",
        "--server.headless true",
        "--browser.gatherUsageStats false",
    ):
        assert expected in flags


def test_requirements_pin_every_package_and_the_tests_ran_with_the_direct_ones() -> None:
    text = REQUIREMENTS.read_text().splitlines()
    lines = [x.strip() for x in text if x.strip() and not x.startswith("#")]
    pins = dict(line.split("==") for line in lines)
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[0-9][^\s=]*", line) for line in lines), lines
    for package in ("streamlit", "altair", "boto3", "botocore", "requests", "pandas", "numpy"):
        assert importlib.metadata.version(package) == pins[package], package


@pytest.mark.skipif(not SCHEMA.exists(), reason="containers/model/churn/schema.py is not in this checkout")
def test_the_schema_file_the_image_copies_works_on_its_own(tmp_path: Path) -> None:
    # Laid out as in the image (/app/churn/schema.py, nothing else of the model): a schema that
    # starts importing sibling modules would silently turn the form generic in production.
    (tmp_path / "churn").mkdir()
    shutil.copy(SCHEMA, tmp_path / "churn" / "schema.py")
    result = subprocess.run(
        [sys.executable, "-c", "import churn.schema as s; print(','.join(s.FEATURE_NAMES))"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert tuple(result.stdout.strip().split(",")) == demo_feature_names()
