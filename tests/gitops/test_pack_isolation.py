"""The sitecustomize attack of issue 21, rebuilt against the workflows' way of running the pack.

A pull request adds a local package whose `sitecustomize.py` turns every policy's `validate` into a
no-op, and reaches the interpreter the old workflows ran the pack with (the workspace venv, first on
PATH, here through a `.pth` file; and PYTHONPATH through $GITHUB_ENV). The test runs the guarded-pulumi
action's own script to build the pack's interpreter (uv offline from its cache, standing in for the
hash-locked uv the action's previous step installs), resolves the interpreter the way the CLI's
Python runtime does (PulumiPolicy.yaml `runtime.options.virtualenv` against the pack folder, else the
first python3 on PATH), gives it the environment of the workflow's `pulumi preview` step, and drives
it with tools/offline/analyzer.py as the engine would: a BLOCKED prod change stays blocked. The same
attack against the old way (the first python3 on PATH) lets it through, so the attack is real.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from gitops_workflows import ROOT, action_step, outputs, run_bash, step, with_id, workflow
from ruamel.yaml import YAML

from tools.offline.analyzer import PolicyPackProcess, StackResource, run_analysis
from tools.offline.records import stack_records
from tools.offline.stack_files import engine_config

# uv on PATH, else the one `make` installs into the venv when none is on PATH (a fresh CI machine).
UV = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
BASE_PYTHON = Path(sys._base_executable).resolve()  # the interpreter setup-python would provide
EVIL_SITECUSTOMIZE = """\
import pulumi_policy.policy as _policy

def _disarm(cls):
    original = cls.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.validate = lambda args, report_violation: None

    cls.__init__ = __init__

_disarm(_policy.ResourceValidationPolicy)
_disarm(_policy.StackValidationPolicy)
"""

# In CI the attack must run: a skipped security test is a hole nobody sees.
pytestmark = pytest.mark.skipif(
    UV is None and not os.environ.get("CI"), reason="uv builds the pack's virtualenv from its lock (offline, from uv's cache)"
)


@pytest.fixture(scope="module")
def blocked_prod() -> dict[str, Any]:
    """prod on one instance (sagemaker-endpoint-ha is mandatory in prod): a change the pack blocks."""
    # A one-instance fleet cannot canary: without endpoint.canary=null the parser refuses the config.
    return stack_records("prod", "endpoint.instanceCount=1", "endpoint.autoscaling.min=1", "endpoint.canary=null").data


@pytest.fixture
def runner(tmp_path) -> dict[str, Path]:
    """A runner after checkout: base/policies at the base commit, the pull request's tree around it
    with its attack, and the pull request's venv (the old workflows' python3 on PATH)."""
    workspace = tmp_path / "workspace"
    shutil.copytree(ROOT / "policies", workspace / "base" / "policies", ignore=shutil.ignore_patterns("__pycache__", "venv"))
    evil = workspace / "evilpkg"
    evil.mkdir()
    (evil / "sitecustomize.py").write_text(EVIL_SITECUSTOMIZE)
    venv = workspace / "venv"
    uv_env = {**os.environ, "UV_OFFLINE": "1", "UV_NO_CONFIG": "1"}
    for command in (
        [UV, "venv", "--quiet", "--python", str(BASE_PYTHON), str(venv)],
        [
            UV,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            "--require-hashes",
            "--no-deps",
            "-r",
            str(ROOT / "policies" / "requirements.lock"),
        ],
    ):
        done = subprocess.run(command, env=uv_env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    site_packages = next((venv / "lib").glob("python3*/site-packages"))
    (site_packages / "evilpkg.pth").write_text(f"{evil}\n")
    temp = tmp_path / "runner-temp"
    (temp / "uv" / "bin").mkdir(parents=True)
    (temp / "uv" / "bin" / "uv").symlink_to(UV)  # what "Install uv from the base branch's hash lock" puts there
    return {"workspace": workspace, "temp": temp, "venv": venv, "evil": evil}


def build_pack(runner: dict[str, Path]) -> Path:
    """The action's own script, verbatim, as GitHub would run it."""
    built = action_step("Build the policy pack's interpreter")
    github_output = runner["temp"].parent / "github_output"
    env = {
        "PATH": f"{runner['venv'] / 'bin'}:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "RUNNER_TEMP": str(runner["temp"]),
        "GITHUB_WORKSPACE": str(runner["workspace"]),
        "GITHUB_OUTPUT": str(github_output),
        "PACK_PYTHON": str(BASE_PYTHON),
        "BASE": "base",
        "UV_OFFLINE": "1",
    }
    assert set(built["env"]) == {"PACK_PYTHON", "BASE"}
    done = run_bash(built["run"], env, runner["workspace"])
    assert done.returncode == 0, done.stderr
    return Path(outputs(github_output)["path"])


def engine_interpreter(pack: Path, env: dict[str, str]) -> tuple[str, dict[str, str]]:
    """What pulumi-language-python's RunPlugin starts for an analyzer: the virtualenv the pack's
    runtime options name (relative to the pack folder), with PATH and VIRTUAL_ENV activated; without
    one, `python3` from PATH in the environment as it is."""
    runtime = (YAML(typ="safe").load((pack / "PulumiPolicy.yaml").read_text()) or {}).get("runtime")
    options = runtime.get("options", {}) if isinstance(runtime, dict) else {}
    virtualenv = options.get("virtualenv")
    if not virtualenv:
        found = shutil.which("python3", path=env["PATH"])
        assert found is not None
        return found, env
    venv = Path(virtualenv) if Path(virtualenv).is_absolute() else pack / virtualenv
    return str(venv / "bin" / "python"), {**env, "PATH": f"{venv / 'bin'}:{env['PATH']}", "VIRTUAL_ENV": str(venv)}


def judge(monkeypatch, records: dict[str, Any], pack: Path, python: str, env: dict[str, str]) -> set[str]:
    """The mandatory policies the pack reports, driven over gRPC as the engine drives it."""
    monkeypatch.setattr(os, "environ", dict(env))
    resources = [
        StackResource(**{k: r[k] for k in StackResource.__dataclass_fields__})  # type: ignore[arg-type]
        for r in records["resources"]
    ]
    config = json.loads((pack / "config" / "prod.json").read_text())
    with PolicyPackProcess(pack, records["project"], "prod", engine_config(records["config"]), python=python) as process:
        result = run_analysis(process, records["project"], "prod", engine_config(records["config"]), resources, config)
    return {v.policy for v in result.violations if v.level == "mandatory"}


def attacked_env(runner: dict[str, Path]) -> dict[str, str]:
    """The job's environment after the change's code ran: its venv first on PATH, PYTHONPATH set."""
    return {
        "PATH": f"{runner['venv'] / 'bin'}:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "PYTHONPATH": str(runner["evil"]),
    }


def test_the_base_pack_still_blocks_with_the_attack_in_place(monkeypatch, blocked_prod, runner):
    pack = build_pack(runner)
    assert not pack.is_relative_to(runner["workspace"]), "the pack must run from outside the workspace"
    preview = step(workflow("deploy.yml")["jobs"]["plan-prod"], with_id("plan"))
    assert '--policy-pack "$POLICY_PACK"' in preview["run"]
    step_env = {k: str(v) for k, v in preview["env"].items() if "${{" not in str(v)}
    python, env = engine_interpreter(pack, {**attacked_env(runner), **step_env})
    assert Path(python).parent.parent == pack / "venv"
    assert "sagemaker-endpoint-ha" in judge(monkeypatch, blocked_prod, pack, python, env)


def test_the_attack_is_real_against_the_old_way(monkeypatch, blocked_prod, runner):
    """The old workflows: the pack in the workspace, PulumiPolicy.yaml naming no interpreter, the
    venv's python3 first on PATH. The same change turns BLOCKED into OK."""
    pack = runner["workspace"] / "base" / "policies"
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.1.0\n")
    python, env = engine_interpreter(pack, attacked_env(runner))
    assert Path(python).parent == runner["venv"] / "bin"
    assert "sagemaker-endpoint-ha" not in judge(monkeypatch, blocked_prod, pack, python, env)


def test_the_pack_interpreter_is_built_from_the_lock_only(runner):
    """Hash-checked, no dependency resolution, nothing of the workspace's tree on its path."""
    pack = build_pack(runner)
    script = action_step("Build the policy pack's interpreter")["run"]
    assert "--require-hashes" in script and "--no-deps" in script and "--no-config" in script
    assert '-r "$pack/requirements.lock"' in script and 'rm -rf "$pack/venv"' in script
    probe = subprocess.run(
        [str(pack / "venv" / "bin" / "python"), "-c", "import sys, pulumi_policy; print('\\n'.join(sys.path))"],
        cwd=pack,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.returncode == 0, probe.stderr
    assert str(runner["workspace"]) not in probe.stdout
    # The copy is read-only: a later step of the job cannot edit the pack in place by accident.
    assert not os.access(pack / "__main__.py", os.W_OK) or os.geteuid() == 0
