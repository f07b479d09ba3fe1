"""Fixtures for the pipeline definition: each variant is generated once per session.

Importing the sagemaker SDK costs a few seconds and a build about two more, so the variants are
built once and shared; the fresh-subprocess build is started first and runs while they build.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from pipeline_testkit import REPO_ROOT, SUBPROCESS_RUNNER, VARIANTS, Built, args_as_json, make_args

from components.training.definition.definition import build_pipeline_definition


@pytest.fixture(scope="session")
def offline_subprocess(tmp_path_factory: pytest.TempPathFactory) -> Iterator[subprocess.Popen[str]]:
    """The `tuned` variant built in a fresh interpreter; started before the in-process builds."""
    home = tmp_path_factory.mktemp("empty-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGEMAKER_", "BOTO"))}
    env.update(HOME=str(home), PYTHONPATH=str(REPO_ROOT), PYTHONDONTWRITEBYTECODE="1")
    process = subprocess.Popen(
        [sys.executable, "-c", SUBPROCESS_RUNNER, args_as_json(make_args(**VARIANTS["tuned"]))],
        cwd=str(home),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def env_before_builds() -> dict[str, str]:
    return dict(os.environ)


@pytest.fixture(scope="session")
def built(offline_subprocess: subprocess.Popen[str], env_before_builds: dict[str, str]) -> dict[str, Built]:
    results = {}
    for name, overrides in VARIANTS.items():
        args = make_args(**overrides)
        results[name] = Built(args, build_pipeline_definition(args))
    return results
