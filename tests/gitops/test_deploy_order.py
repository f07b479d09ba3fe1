"""deploy.yml's order of things: plan, show, approve, apply exactly that plan; refuse old commits;
freeze prod before `up`; job timeouts above the release providers' own waits. The scripts run here
as GitHub runs them, with a fake `gh` and a fake `pulumi` that record their calls."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from gitops_workflows import ROOT, all_jobs, index, named, outputs, run_bash, runs, step, steps, using, with_id, workflow

from components.api.codedeploy_group import longest_release_seconds as longest_api_release
from components.endpoint.model_endpoint import longest_release_seconds as longest_endpoint_release
from components.shared.apply_job import APPLY_JOB_TIMEOUT_MINUTES, APPLY_SESSION_HOURS, HOSTED_RUNNER_LIMIT_MINUTES, UPDATE_MARGIN_SECONDS

ORDER_STEP = "Refuse unless this commit is main's head or descends from what the stack last deployed"
DEPLOY_JOBS = {"dev": "dev", "prod": "prod"}  # stack -> the job that applies it
HEAD, OLD, DEPLOYED = "a" * 40, "b" * 40, "c" * 40


def jobs() -> dict[str, Any]:
    return workflow("deploy.yml")["jobs"]


def fake_tools(tmp_path: Path, *, head: str, tag: str, compare: dict[str, str], issue_url: str = "") -> Path:
    """`gh` answering main's head, compare statuses and issue creation; `pulumi` answering the stack
    tag. Each records its arguments in tmp_path/calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    cases = "\n".join(f'  "api repos/o/r/compare/{k}") echo "{v}";;' for k, v in compare.items())
    (bin_dir / "gh").write_text(
        "#!/bin/bash\n"
        f'echo "gh $*" >> {tmp_path}/calls\n'
        'case "$1 $2" in\n'
        f'  "api repos/o/r/commits/main") echo "{head}";;\n'
        f"{cases}\n"
        f'  "issue create") echo "{issue_url}";;\n'
        "esac\n"
    )
    (bin_dir / "pulumi").write_text(
        "#!/bin/bash\n"
        f'echo "pulumi $*" >> {tmp_path}/calls\n'
        'if [ "$1 $2 $3" = "stack tag get" ]; then\n'
        f'  [ -n "{tag}" ] && echo "{tag}" && exit 0\n'
        '  echo "error: stack tag not found" >&2; exit 255\n'
        "fi\n"
    )
    for tool in ("gh", "pulumi"):
        (bin_dir / tool).chmod(0o755)
    return bin_dir


def run_script(script: str, tmp_path: Path, bin_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "PULUMI": str(bin_dir / "pulumi"),
        "GH_REPO": "o/r",
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_OUTPUT": str(tmp_path / "github_output"),
        **env,
    }
    return run_bash(script, full, tmp_path)


# ---- plan, show, apply that plan -------------------------------------------------------------------


def test_no_workflow_lets_pulumi_actions_run_the_cli_or_calls_pulumi_from_path():
    for name, job in all_jobs().items():
        assert not [s for s in steps(job) if str(s.get("uses", "")).startswith("pulumi/actions@")], name
        for s in steps(job):
            for line in s.get("run", "").splitlines():
                assert not line.strip().startswith("pulumi "), f'{name}/{s.get("name")}: call the verified CLI as "$PULUMI"'
            if '"$PULUMI"' in s.get("run", ""):
                assert s["env"]["PULUMI"] == "${{ steps.guarded.outputs.pulumi }}", f"{name}/{s.get('name')}"


def test_every_update_is_previewed_with_the_pack_saved_and_applied_as_planned():
    for stack in ("dev", "prod"):
        planner = jobs()["plan-prod"] if stack == "prod" else jobs()["dev"]
        applier = jobs()[DEPLOY_JOBS[stack]]
        plan = step(planner, with_id("plan"))["run"]
        up = step(applier, with_id("up"))["run"]
        assert '"$PULUMI" preview --stack "$STACK"' in plan and '--save-plan "$RUNNER_TEMP/plan/$STACK.plan.json"' in plan
        assert '--policy-pack "$POLICY_PACK" --policy-pack-config "$POLICY_PACK/config/$STACK.json"' in plan
        assert '"$PULUMI" up --stack "$STACK" --yes' in up and '--plan "$RUNNER_TEMP/plan/$STACK.plan.json"' in up
        assert '--policy-pack "$POLICY_PACK"' in up and "--skip-preview" not in up
        assert "GITHUB_STEP_SUMMARY" in plan and "exit 1" in plan


def test_prod_is_planned_and_shown_before_the_approval_and_the_approved_job_applies_that_file():
    plan, apply = jobs()["plan-prod"], jobs()["prod"]
    assert plan["needs"] == "dev" and apply["needs"] == "plan-prod"
    assert plan["environment"] == {"name": "production-plan"} and apply["environment"] == {"name": "production"}
    assert plan["outputs"] == {"digest": "${{ steps.plan.outputs.digest }}"}
    upload = step(plan, using("actions/upload-artifact"))
    assert upload["with"]["name"] == "prod-plan" and upload["with"]["if-no-files-found"] == "error"
    assert index(plan, with_id("plan")) < index(plan, using("actions/upload-artifact"))
    download = index(apply, using("actions/download-artifact"))
    assert steps(apply)[download]["with"]["name"] == "prod-plan"
    digest = index(apply, named("Check the plan is the one shown for approval"))
    assert download < digest < index(apply, with_id("up"))
    assert step(apply, named("Check the plan is the one shown for approval"))["env"] == {"DIGEST": "${{ needs.plan-prod.outputs.digest }}"}
    assert not [s for s in steps(apply) if "preview" in s.get("run", "") and "--save-plan" in s.get("run", "")]


@pytest.mark.parametrize("tampered", [False, True])
def test_the_apply_job_refuses_a_plan_file_other_than_the_one_shown(tmp_path, tampered):
    (tmp_path / "plan").mkdir()
    plan_file = tmp_path / "plan" / "prod.plan.json"
    plan_file.write_text('{"resourcePlans": {}}')
    shown = subprocess.run(["sha256sum", str(plan_file)], capture_output=True, text=True, check=True).stdout.split()[0]
    if tampered:
        plan_file.write_text('{"resourcePlans": {"x": {}}}')
    script = step(jobs()["prod"], named("Check the plan is the one shown for approval"))["run"]
    done = run_script(script, tmp_path, fake_tools(tmp_path, head=HEAD, tag="", compare={}), STACK="prod", DIGEST=shown)
    assert (done.returncode != 0) == tampered, done.stdout + done.stderr


def test_the_plan_step_writes_the_diff_and_verdicts_to_the_summary_and_fails_on_a_blocked_plan(tmp_path):
    script = step(jobs()["plan-prod"], with_id("plan"))["run"]
    bin_dir = fake_tools(tmp_path, head=HEAD, tag="", compare={})
    (bin_dir / "pulumi").write_text(
        "#!/bin/bash\n"
        'echo "  ~ aws:sagemaker/endpoint:Endpoint endpoint update [diff: ~endpointConfigName]"\n'
        'echo "Policies:"\n'
        'echo "    mandatory: [sagemaker-endpoint-ha] endpoint must run on at least 2 instances"\n'
        "exit 255\n"
    )
    summary = tmp_path / "summary.md"
    done = run_script(script, tmp_path, bin_dir, STACK="prod", GITHUB_SHA=HEAD, GITHUB_STEP_SUMMARY=str(summary))
    assert done.returncode == 1 and "nothing was changed" in done.stdout
    text = summary.read_text()
    assert "exit 255" in text and "endpointConfigName" in text and "mandatory: [sagemaker-endpoint-ha]" in text
    assert "digest" not in outputs(tmp_path / "github_output")


# ---- order ---------------------------------------------------------------------------------------------


def test_every_deploy_job_checks_its_order_first_with_one_script():
    scripts = set()
    for name in ("dev", "plan-prod", "prod"):
        job = jobs()[name]
        order = index(job, named(ORDER_STEP))
        credentials = index(job, using("aws-actions/configure-aws-credentials"))
        first_change = index(job, with_id("plan")) if name != "prod" else index(job, with_id("freeze"))
        assert credentials < order < first_change, name
        scripts.add(steps(job)[order]["run"])
        assert job["permissions"]["contents"] == "read"
    assert len(scripts) == 1


@pytest.mark.parametrize(
    "sha, tag, compare, refused",
    [
        (HEAD, DEPLOYED, {}, False),  # main's head
        (OLD, DEPLOYED, {f"{DEPLOYED}...{OLD}": "ahead"}, False),  # newer than what the stack serves
        (OLD, DEPLOYED, {f"{DEPLOYED}...{OLD}": "behind"}, True),  # an older run, after a newer one deployed
        (OLD, DEPLOYED, {f"{DEPLOYED}...{OLD}": "identical"}, True),  # a re-run of what is deployed, main moved on
        (OLD, DEPLOYED, {f"{DEPLOYED}...{OLD}": "diverged"}, True),
        (OLD, "", {}, True),  # nothing recorded and not main's head
    ],
)
def test_old_commits_and_reruns_of_old_runs_refuse(tmp_path, sha, tag, compare, refused):
    script = step(jobs()["prod"], named(ORDER_STEP))["run"]
    done = run_script(script, tmp_path, fake_tools(tmp_path, head=HEAD, tag=tag, compare=compare), STACK="prod", GITHUB_SHA=sha)
    assert (done.returncode != 0) == refused, done.stdout + done.stderr
    if refused:
        assert "refusing to deploy prod" in done.stdout and HEAD in done.stdout


def test_a_successful_update_records_the_deployed_commit_for_the_next_ordering_check():
    for stack, name in DEPLOY_JOBS.items():
        up = step(jobs()[name], with_id("up"))["run"].splitlines()
        assert up[-1].strip() == '"$PULUMI" stack tag set deployed-commit "$GITHUB_SHA" --stack "$STACK"', stack


# ---- freeze --------------------------------------------------------------------------------------------


def test_prod_is_frozen_before_up_and_thawed_only_after_it_succeeded():
    job = jobs()["prod"]
    lock, freeze, up = index(job, with_id("lock")), index(job, with_id("freeze")), index(job, with_id("up"))
    verify = index(job, runs("tools.promote --verify prod"))
    evidence = index(job, runs("tools.promote --check-evidence prod"))
    thaw = index(job, named("Lift the freeze"))
    assert lock < verify < evidence < freeze < up < thaw
    for i in range(freeze, up + 1):
        assert "if" not in steps(job)[i] and "continue-on-error" not in steps(job)[i], steps(job)[i]["name"]
    assert "if" not in steps(job)[thaw]  # success() only: a failure, a timeout or a cancel leaves the freeze
    assert 'gh issue close "$ISSUE"' in steps(job)[thaw]["run"]
    assert steps(job)[thaw]["env"]["ISSUE"] == "${{ steps.freeze.outputs.issue }}"
    why = step(job, named("Say why prod stays frozen"))
    assert why["if"] == "${{ failure() && steps.freeze.outputs.issue != '' }}"


@pytest.mark.parametrize("name", ["plan-prod", "prod"])
def test_prod_soak_evidence_is_checked_before_the_approval_and_again_before_up(name):
    """`--check-evidence prod` (exit 1 stops the job) in the plan job, so a pin without passed, fresh
    evidence never reaches the production approval, and in the apply job after the approval wait."""
    job = jobs()[name]
    check = index(job, runs("tools.promote --check-evidence prod"))
    gate = steps(job)[check]
    assert gate["run"].strip() == "venv/bin/python -m tools.promote --check-evidence prod"
    assert "if" not in gate and "continue-on-error" not in gate
    # The verified CLI reads dev's outputs; the checked-out history holds prod's earlier pins (rollbacks).
    assert gate["env"]["PULUMI"] == "${{ steps.guarded.outputs.pulumi }}"
    assert job["env"]["PULUMI_BACKEND_URL"] == "${{ vars.PULUMI_BACKEND_URL }}"
    checkout = steps(job)[index(job, named("Check out"))]
    assert checkout["with"]["fetch-depth"] == 0
    install = index(job, named("Install the program (hash-locked)"))
    credentials = index(job, using("aws-actions/configure-aws-credentials"))
    first_change = index(job, with_id("plan")) if name == "plan-prod" else index(job, with_id("freeze"))
    assert install < credentials < index(job, named(ORDER_STEP)) < check < first_change


def test_the_freeze_step_opens_the_blocking_issue_and_names_it(tmp_path):
    script = step(jobs()["prod"], with_id("freeze"))["run"]
    bin_dir = fake_tools(tmp_path, head=HEAD, tag="", compare={}, issue_url="https://github.com/o/r/issues/42")
    done = run_script(script, tmp_path, bin_dir, GITHUB_SHA=HEAD, RUN_URL="https://github.example/run/7")
    assert done.returncode == 0, done.stderr
    calls = (tmp_path / "calls").read_text()
    assert "gh label create prod-deploy-blocked" in calls
    assert f"gh issue create --label prod-deploy-blocked --title prod deploy blocked: {HEAD[:12]} did not finish" in calls
    assert outputs(tmp_path / "github_output") == {"issue": "42"}
    assert "https://github.example/run/7" in (tmp_path / "freeze.md").read_text()


@pytest.mark.parametrize("open_issues, refused", [("", False), ("#12 prod deploy blocked: abc did not finish", True)])
def test_an_open_freeze_stops_the_prod_job_before_credentials(tmp_path, open_issues, refused):
    job = jobs()["prod"]
    assert index(job, with_id("lock")) < index(job, using("aws-actions/configure-aws-credentials"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(f'#!/bin/sh\nif [ "$1 $2" = "issue list" ]; then printf "%s" "{open_issues}"; fi\n')
    (bin_dir / "gh").chmod(0o755)
    done = run_script(step(job, with_id("lock"))["run"], tmp_path, bin_dir)
    assert (done.returncode != 0) == refused, done.stdout + done.stderr


# ---- timeouts -------------------------------------------------------------------------------------------

# Each release provider's type, and the longest it may wait over every config the schema accepts.
LONGEST = {
    "pulumi-python:dynamic:EndpointRelease": longest_endpoint_release,
    "pulumi-python:dynamic:LambdaCanaryRelease": longest_api_release,
}


def slowest_update_seconds() -> int:
    """The slowest `pulumi up` any accepted stack config can declare: the endpoint's release, then the
    API's (it waits for the endpoint), each at its longest, and the rest of the update."""
    return longest_endpoint_release() + longest_api_release() + UPDATE_MARGIN_SECONDS


@pytest.fixture(scope="module")
def release_timeouts(tmp_path_factory) -> dict[str, dict[str, float]]:
    """Each stack's release resources' own `timeout_seconds` by type, as the program declares them."""
    tmp = tmp_path_factory.mktemp("timeouts")
    done = subprocess.run(
        [sys.executable, "-m", "tools.preview", "--stack", "dev", "--stack", "prod", "--json", str(tmp / "preview.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    found = {}
    for stack in ("dev", "prod"):
        resources = json.loads((tmp / f"preview.{stack}.json").read_text())["resources"]
        releases = [r for r in resources if r["type"].startswith("pulumi-python:dynamic:")]
        found[stack] = {r["type"]: r["inputs"]["timeout_seconds"] for r in releases}
        assert len(found[stack]) == len(releases), f"{stack}: two releases of one kind"
    return found


def test_both_release_providers_are_found_in_each_stack(release_timeouts):
    # The endpoint's blue/green release, then the API's CodeDeploy release (it waits for the endpoint).
    assert {stack: set(t) for stack, t in release_timeouts.items()} == {"dev": set(LONGEST), "prod": set(LONGEST)}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_what_each_stack_declares_stays_within_the_longest_release(release_timeouts, stack):
    """The bound the job is sized by covers what the real program declares, not only the functions."""
    for kind, timeout in release_timeouts[stack].items():
        assert 0 < timeout <= LONGEST[kind](), f"{stack}: {kind} waits {timeout} s"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_apply_job_outlasts_the_slowest_update_any_accepted_config_declares(stack):
    """A job that times out is cancelled mid-update: its timeout must exceed the releases' waits, one
    after the other, for every stack config the schema accepts (a wider `waitMinutes` bound, a slower
    CodeDeploy configuration or longer hooks make this fail), plus the rest of the update; the
    credentials must last as long."""
    job = jobs()[DEPLOY_JOBS[stack]]
    assert job["timeout-minutes"] == APPLY_JOB_TIMEOUT_MINUTES <= HOSTED_RUNNER_LIMIT_MINUTES
    slowest = slowest_update_seconds()
    assert slowest < APPLY_JOB_TIMEOUT_MINUTES * 60, f"{stack}: {APPLY_JOB_TIMEOUT_MINUTES} min <= {slowest / 60:.0f} min"
    credentials = step(job, using("aws-actions/configure-aws-credentials"))["with"]
    assert credentials["role-duration-seconds"] == APPLY_SESSION_HOURS * 3600 >= APPLY_JOB_TIMEOUT_MINUTES * 60
    assert APPLY_SESSION_HOURS <= 12  # IAM's longest MaxSessionDuration


def test_the_docs_state_the_slowest_update_and_the_job_timeout():
    text = " ".join((ROOT / "docs" / "gitops.md").read_text().split())
    assert f"a release waits up to {longest_endpoint_release() // 60} minutes" in text
    assert f"the longest hooks the component accepts ({longest_api_release() // 60} minutes)" in text
    assert f"rest of the update: {slowest_update_seconds() // 60} minutes" in text
    assert f"limit for hosted runners, {HOSTED_RUNNER_LIMIT_MINUTES} minutes" in text
    assert f"`role-duration-seconds: {APPLY_SESSION_HOURS * 3600}`" in text


def test_recovery_outlasts_a_refresh_and_never_runs_beside_a_deploy():
    job = workflow("recover.yml")["jobs"]["recover"]
    assert job["concurrency"] == {"group": "pulumi-stack-${{ inputs.stack }}", "cancel-in-progress": False}
    for name in ("plan-prod", "prod"):
        assert jobs()[name]["concurrency"] == {"group": "pulumi-stack-prod", "cancel-in-progress": False}
