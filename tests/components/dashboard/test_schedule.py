"""Dev's dashboard working hours: the config, the resources the program declares, and
the cost guardrail pricing the scheduled task-hours (dev idle ≤ $80/month, no guardrail weakened)."""

from __future__ import annotations

import json

import pytest
from config_testkit import only_problem, parse, shipped

from tools.offline.records import stack_records

SCHEDULED_ACTION = "aws:appautoscaling/scheduledAction:ScheduledAction"


def test_dev_ships_working_hours_and_prod_runs_always():
    schedule = parse(shipped("dev"), "dev").dashboard.schedule
    assert (schedule.days, schedule.start, schedule.stop, schedule.timezone) == ("MON-FRI", 7, 20, "UTC")
    assert parse(shipped("prod")).dashboard.schedule is None


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("dashboard.schedule.stop=6", "sagemaker-mlops:dashboard.schedule.stop = 6: must be after schedule.start (7)"),
        ("dashboard.schedule.timezone=Mars/Olympus", 'sagemaker-mlops:dashboard.schedule.timezone = "Mars/Olympus": not an IANA time zone'),
        ("dashboard.schedule.days=WEEKDAYS", "days of the week as in cron, e.g. MON-FRI"),
        ("dashboard.schedule.start=24", "an hour from 0 to 23"),
    ],
)
def test_a_bad_schedule_is_one_clear_error(override, message):
    assert message in only_problem("dev", override)


def test_the_program_scales_the_service_to_zero_outside_working_hours():
    records = stack_records("dev")
    service = records.one("aws:ecs/service:Service")
    assert service["options"]["ignoreChanges"] == ["desiredCount"]  # Application Auto Scaling owns it
    target = records.one("aws:appautoscaling/target:Target", "dashboard-service-scaling")
    assert target["inputs"]["resourceId"].startswith("service/") and target["inputs"]["resourceId"].endswith("/dashboard")
    assert (target["inputs"]["minCapacity"], target["inputs"]["maxCapacity"]) == (0, 1)
    actions = {a["name"]: a["inputs"] for a in records.of_type(SCHEDULED_ACTION)}
    assert actions["dashboard-service-start"]["schedule"] == "cron(0 7 ? * MON-FRI *)"
    assert actions["dashboard-service-stop"]["schedule"] == "cron(0 20 ? * MON-FRI *)"
    assert actions["dashboard-service-stop"]["scalableTargetAction"] == {"minCapacity": 0, "maxCapacity": 0}
    assert actions["dashboard-service-start"]["timezone"] == "UTC"
    assert stack_records("prod").of_type(SCHEDULED_ACTION) == []


def test_dev_idle_cost_is_at_most_80_dollars_with_the_schedule_priced(tmp_path):
    from test_preview import preview

    done = preview("--stack", "dev", "--json", str(tmp_path / "dev.json"))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    estimate = json.loads((tmp_path / "dev.json").read_text())["summary"]["costEstimate"]
    assert estimate["monthlyUsd"] <= 80, estimate
    [fargate] = [i for i in estimate["items"] if i["item"].startswith("Fargate service")]
    # 13 h × 5 days = 65 of 168 hours a week at 0.5 vCPU + 1 GB: $18.02 × 65/168.
    assert "scheduled: 65 of 168 task-hours a week" in fargate["item"]
    assert fargate["monthlyUsd"] == pytest.approx(18.02 * 65 / 168, abs=0.01)
