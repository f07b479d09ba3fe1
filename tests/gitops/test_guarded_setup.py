"""Who sets up the guardrails, and when: every job that runs the Pulumi CLI takes the pack, its
interpreter and the CLI from the base checkout's guarded-pulumi action before any code of the change
runs; the tree may carry no interpreter, import hook or Pulumi binary; secrets live in environments;
lock files carry hashes and agree with the requirements they lock."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from gitops_workflows import ACTION, ACTION_USE, ROOT, action_step, all_jobs, index, load, run_bash, steps, using, workflow

PULUMI_JOBS = {name: job for name, job in all_jobs().items() if any('"$PULUMI"' in s.get("run", "") for s in steps(job))}


def test_the_jobs_that_run_the_cli_are_the_expected_ones():
    assert set(PULUMI_JOBS) == {
        "deploy.yml:dev",
        "deploy.yml:plan-prod",
        "deploy.yml:prod",
        "pull-request.yml:preview-dev",
        "pull-request.yml:preview-prod",
        "recover.yml:recover",
    }


@pytest.mark.parametrize("name", sorted(PULUMI_JOBS) + ["promote.yml:promote"])
def test_the_guardrails_are_set_up_from_the_base_checkout_before_the_changes_code(name):
    job = all_jobs()[name]
    guarded = index(job, lambda s: s.get("uses") == ACTION_USE)
    assert steps(job)[guarded]["id"] == "guarded"
    assert steps(job)[guarded]["with"] == {"python": "${{ steps.python.outputs.python-path }}"}
    # Before it: only checkouts and the interpreter setup-python installs (outside the workspace).
    for before in steps(job)[:guarded]:
        assert str(before.get("uses", "")).split("@")[0] in ("actions/checkout", "actions/setup-python"), before.get("name")
        assert "run" not in before
    base = [s for s in steps(job) if using("actions/checkout")(s) and s.get("with", {}).get("path") == "base"]
    assert len(base) == 1 and base[0]["with"]["sparse-checkout"].split() == ["policies", ".github/actions"]
    assert base[0]["with"]["persist-credentials"] is False
    python = next(s for s in steps(job) if using("actions/setup-python")(s))
    assert python["id"] == "python" and "cache" not in python["with"]  # no cache a change could have seeded


@pytest.mark.parametrize("name", sorted(PULUMI_JOBS) + ["promote.yml:promote"])
def test_every_cli_call_ignores_ambient_plugins_and_python_path_tricks(name):
    job = all_jobs()[name]
    for s in steps(job):
        if '"$PULUMI"' not in s.get("run", "") and "tools.promote" not in s.get("run", ""):
            continue
        env = {**job.get("env", {}), **s.get("env", {})}
        assert env["PULUMI_IGNORE_AMBIENT_PLUGINS"] == "true", s["name"]
        assert env["PULUMI"] == "${{ steps.guarded.outputs.pulumi }}"
        assert env["PULUMI_HOME"] == "${{ steps.guarded.outputs.pulumi-home }}"
        assert env["POLICY_PACK"] == "${{ steps.guarded.outputs.policy-pack }}"
        if re.search(r'"\$PULUMI" (preview|up|refresh)', s["run"]):
            assert (env["PYTHONPATH"], env["PYTHONSTARTUP"], env["PYTHONNOUSERSITE"]) == ("", "", "1"), s["name"]


def test_the_program_is_installed_from_its_hash_lock():
    for name, job in PULUMI_JOBS.items():
        install = next(s for s in steps(job) if s.get("name") == "Install the program (hash-locked)")
        assert "--require-hashes -r requirements.lock" in install["run"], name
        assert "GITHUB_PATH" not in install["run"]  # the change's venv never goes on PATH


def test_the_pack_names_its_own_interpreter():
    runtime = load(ROOT / "policies" / "PulumiPolicy.yaml")["runtime"]
    assert runtime == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}


def test_the_cli_is_verified_against_the_release_checksums():
    script = action_step("Install the Pulumi CLI (checksum-verified)")["run"]
    assert "sha256sum --check --strict" in script and "--proto '=https'" in script
    assert script.index("sha256sum --check") < script.index("tar -xzf")
    assert 'echo "pulumi=$cli/pulumi/pulumi"' in script
    uv = action_step("Install uv from the base branch's hash lock")["run"]
    assert "--require-hashes" in uv and '-r "$BASE/policies/installer.lock"' in uv and "--only-binary :all:" in uv


# ---- the tree may not carry an interpreter, an import hook or a Pulumi binary ------------------------


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd, check=True, capture_output=True)


@pytest.mark.parametrize(
    "path, refused",
    [
        ("README.md", False),
        ("components/venv_notes.py", False),
        ("venv/bin/python3", True),
        (".venv/lib/python3.11/site-packages/x.py", True),
        ("containers/model/venv/bin/pulumi", True),
        ("evilpkg/sitecustomize.py", True),
        ("usercustomize.py", True),
        ("tools/hook.pth", True),
        ("bin/pulumi", True),
        ("pulumi-language-python", True),
        ("plugins/pulumi-analyzer-policy-python", True),
        ("pulumi-resource-aws", True),
    ],
)
def test_the_tree_check_refuses_committed_interpreters_hooks_and_binaries(tmp_path, path, refused):
    git(tmp_path, "init", "-q")
    (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / path).write_text("x\n")
    git(tmp_path, "add", "-A")
    done = run_bash(
        action_step("Refuse interpreters, import hooks and Pulumi binaries in the tree")["run"], {"PATH": "/usr/bin:/bin"}, tmp_path
    )
    assert (done.returncode != 0) == refused, done.stdout + done.stderr
    if refused:
        assert path in done.stdout


def test_this_repository_passes_its_own_tree_check():
    done = run_bash(
        action_step("Refuse interpreters, import hooks and Pulumi binaries in the tree")["run"], {"PATH": "/usr/bin:/bin"}, ROOT
    )
    assert done.returncode == 0, done.stdout


# ---- secrets and environments -----------------------------------------------------------------------


def test_secrets_are_only_read_by_jobs_bound_to_an_environment():
    """PULUMI_ACCESS_TOKEN and the App key are environment secrets: a job without an environment
    (a pull request's check, a fork) gets none, and no repository secret is needed."""
    for name, job in all_jobs().items():
        text = repr(job)
        if "secrets." in text:
            assert "environment" in job, f"{name} reads a secret but is bound to no environment"


def test_production_preview_runs_only_for_pull_request_merge_refs():
    job = workflow("pull-request.yml")["jobs"]["preview-prod"]
    assert job["environment"] == {"name": "production-preview"}
    assert "startsWith(github.ref, 'refs/pull/') && endsWith(github.ref, '/merge')" in job["if"]
    assert workflow("pull-request.yml")["jobs"]["preview-dev"]["environment"] == {"name": "dev-preview"}


def test_the_action_is_valid_for_the_github_actions_schema():
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-actions", str(ACTION)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# ---- lock files -------------------------------------------------------------------------------------

LOCKS = {
    "requirements.txt": "requirements.lock",
    "policies/requirements.txt": "policies/requirements.lock",
    "containers/model/requirements.txt": "containers/model/requirements.lock",
    "containers/api/requirements.txt": "containers/api/requirements.lock",
    "containers/dashboard/requirements.txt": "containers/dashboard/requirements.lock",
}
PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s\\;]+)")


def pins(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        match = PIN.match(line.strip())
        if match:
            found[re.sub(r"[-_.]+", "-", match.group(1).split("[")[0]).lower()] = match.group(2)
    return found


@pytest.mark.parametrize("requirements, lock", sorted(LOCKS.items()))
def test_each_lock_pins_what_its_requirements_pin_with_hashes(requirements, lock):
    wanted = pins((ROOT / requirements).read_text())
    text = (ROOT / lock).read_text()
    locked = pins(text)
    assert wanted and {name: locked.get(name) for name in wanted} == wanted, f"regenerate {lock} (docs/gitops.md, 'Lock files')"
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.strip())
    for entry in entries:
        if PIN.match(entry):
            assert "--hash=sha256:" in entry, entry.splitlines()[0]


def test_the_pack_lock_holds_what_the_pack_imports():
    locked = pins((ROOT / "policies" / "requirements.lock").read_text())
    assert {"pulumi", "pulumi-policy", "pulumi-aws", "grpcio", "protobuf"} <= set(locked)
    assert set(pins((ROOT / "policies" / "installer.lock").read_text())) == {"uv"}


@pytest.mark.parametrize("image, lock", [("model", "requirements.lock"), ("dashboard", "dashboard/requirements.lock")])
def test_each_image_installs_its_lock_with_hashes(image, lock):
    dockerfile = (ROOT / "containers" / image / "Dockerfile").read_text()
    installs = [line for line in dockerfile.splitlines() if "pip install" in line]
    assert installs and all("--require-hashes" in line and "requirements.lock" in line for line in installs), installs
    assert f"COPY {lock} " in dockerfile
