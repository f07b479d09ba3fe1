"""The Dockerfile cannot be built here: check what it relies on instead — every file it copies
exists in the build context, every entry point it names runs, every pin is what the tests use."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from importlib import metadata

import pytest
from model_testkit import BIN, ENTRY_POINTS, MODEL_ROOT, clean_env

DOCKERFILE = (MODEL_ROOT / "Dockerfile").read_text()


def _instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def test_every_copied_file_exists_in_the_build_context():
    stages = {rest.split()[-1] for keyword, rest in _instructions() if keyword == "FROM" and " AS " in f" {rest.upper()} "}
    copies = [rest for keyword, rest in _instructions() if keyword == "COPY"]
    assert copies
    ignored = (MODEL_ROOT / ".dockerignore").read_text().split()
    for rest in copies:
        parts = shlex.split(rest)
        flags = [p for p in parts if p.startswith("--")]
        sources = [p for p in parts if not p.startswith("--")][:-1]
        if any(f.startswith("--from=") for f in flags):
            assert flags[0].removeprefix("--from=") in stages  # copied from an earlier build stage
            continue
        for source in sources:
            assert (MODEL_ROOT / source).exists(), f"COPY source {source} missing from {MODEL_ROOT}"
            assert source not in ignored, f"{source} is excluded by .dockerignore"


def test_base_image_is_slim_python_and_the_user_is_not_root():
    bases = [rest.split()[0] for keyword, rest in _instructions() if keyword == "FROM"]
    assert re.fullmatch(r"python:3\.11-slim-\w+", bases[-1])
    users = [rest for keyword, rest in _instructions() if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")


def test_the_commands_sagemaker_runs_are_on_path_and_executable():
    paths = [rest for keyword, rest in _instructions() if keyword == "ENV" and "PATH=" in rest]
    assert any("/opt/program/bin" in p for p in paths)
    cmd = [rest for keyword, rest in _instructions() if keyword == "CMD"][-1]
    assert cmd == '["serve"]'
    assert set(ENTRY_POINTS) <= {p.name for p in BIN.iterdir()}
    for script in BIN.iterdir():
        name = script.name
        assert script.is_file() and os.access(script, os.X_OK), f"bin/{name} is not executable"
        assert script.read_text().startswith("#!/usr/bin/env python3\n")


def test_every_entry_point_starts():
    processes = {
        script.name: subprocess.Popen(
            [sys.executable, str(script), "--help"], env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for script in sorted(BIN.iterdir())
    }
    for name, process in processes.items():
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, f"bin/{name} --help failed:\n{err}"
        assert "usage:" in out


def test_package_runs_as_python_m():
    modules = ["churn.train", "churn.serve", "churn.preprocess", "churn.evaluate", "churn.seal", "churn.data"]
    processes = {
        module: subprocess.Popen(
            [sys.executable, "-m", module, "--help"],
            cwd=MODEL_ROOT,
            env=clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for module in modules
    }
    for module, process in processes.items():
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, f"python -m {module} --help failed:\n{err}"
        assert "usage:" in out


def _pins(name: str) -> dict[str, str]:
    pins = {}
    for line in (MODEL_ROOT / name).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-r"):
            package, sep, version = line.partition("==")
            assert sep, f"{name}: {line!r} is not pinned with =="
            pins[package] = version
    return pins


@pytest.mark.parametrize("requirements", ["requirements.txt", "requirements-dev.txt"])
def test_requirements_are_pinned_to_what_the_tests_run(requirements):
    for package, version in _pins(requirements).items():
        assert metadata.version(package) == version, f"{package}: pinned {version}, installed {metadata.version(package)}"


def test_requirements_cover_every_import_of_the_package():
    imported = set()
    for source in (MODEL_ROOT / "churn").glob("*.py"):
        imported |= set(re.findall(r"^\s*(?:import|from)\s+([a-z_]\w*)", source.read_text(), re.MULTILINE))
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m != "churn"}
    assert {"lightgbm", "numpy", "pandas", "msgspec", "gunicorn", "uvicorn_worker", "sklearn"} <= third_party
    pinned = {p.lower() for p in _pins("requirements.txt")}
    distributions = metadata.packages_distributions()
    for module in third_party:
        assert any(name.lower() in pinned for name in distributions[module]), f"{module} is not pinned"
