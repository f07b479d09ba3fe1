"""The job summary the check workflow writes from the offline preview's JSON."""

from __future__ import annotations

import json
from pathlib import Path

from ruamel.yaml import YAML

from tools.preview.cli import _json_path
from tools.preview.summary import main, render, render_comment

ROOT = Path(__file__).resolve().parents[3]


def write(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_a_table_row_per_stack_and_every_finding_listed(tmp_path):
    dev = write(
        tmp_path / "preview.dev.json",
        {
            "stack": "dev",
            "summary": {"ok": True, "resources": 71, "policies": 3, "mandatoryViolations": 0, "advisoryViolations": 1},
            "violations": [{"policy": "cost-budget", "level": "advisory", "urn": "", "message": "estimated $412/month | budget $500"}],
        },
    )
    prod = write(
        tmp_path / "preview.prod.json",
        {
            "stack": "prod",
            "summary": {"ok": False, "resources": 90, "policies": 3, "mandatoryViolations": 1, "advisoryViolations": 0},
            "violations": [
                {
                    "policy": "required-tags",
                    "level": "mandatory",
                    "urn": "urn:pulumi:prod::p::aws:s3/bucket:Bucket::b",
                    "message": "missing Owner",
                }
            ],
        },
    )
    text = render([dev, prod])
    assert "| dev | ✅ ok | 71 | 0 | 1 |" in text
    assert "| prod | ❌ blocked | 90 | 1 | 0 |" in text
    assert "- **[mandatory] required-tags** `urn:pulumi:prod::p::aws:s3/bucket:Bucket::b`" in text
    assert "- **[advisory] cost-budget** (stack)" in text and "estimated $412/month | budget $500" in text


def test_errors_and_missing_files_are_rows_not_failures(tmp_path, capsys):
    failed = write(tmp_path / "preview.prod.json", {"stack": "prod", "summary": {"ok": False, "error": "invalid configuration ```x```"}})
    assert main([str(tmp_path / "preview.dev.json"), str(failed)]) == 0
    out = capsys.readouterr().out
    assert "| preview.dev.json | ⚪ not run (no preview output) | | | |" in out
    assert "| prod | ❌ error | | | |" in out and "invalid configuration '''x'''" in out


def test_the_workflow_reads_the_files_the_preview_writes():
    check = YAML(typ="safe").load((ROOT / ".github" / "workflows" / "check.yml").read_text())
    scripts = "\n".join(step.get("run", "") for step in check["jobs"]["check"]["steps"])
    assert "--json preview/preview.json" in scripts
    for stack in ("dev", "prod"):
        assert str(_json_path(Path("preview/preview.json"), stack, True)) in scripts


ESTIMATE = {
    "monthlyUsd": 1234.5,
    "budgetUsd": 1000.0,
    "basis": "us-east-1 on-demand",
    "items": [{"monthlyUsd": 900.0, "item": "2 x ml.m5.large endpoint | prod"}, {"monthlyUsd": 334.5, "item": "2 NAT gateways"}],
    "notPriced": ["aws:cognito/userPool:UserPool"],
    "notes": [],
    "excluded": ["S3 requests", "data transfer"],
}


def test_the_cost_estimate_is_part_of_the_summary(tmp_path):
    prod = write(
        tmp_path / "preview.prod.json", {"stack": "prod", "summary": {"resources": 90}, "violations": [], "costEstimate": ESTIMATE}
    )
    text = render([prod])
    assert "#### prod: estimated monthly cost $1,234.50 (over the $1,000.00 budget)" in text
    assert "- $900.00 2 x ml.m5.large endpoint \\| prod" in text and "- $334.50 2 NAT gateways" in text
    assert "- not priced: aws:cognito/userPool:UserPool" in text and "- not included (usage-based): S3 requests, data transfer" in text


def test_the_comment_of_a_failed_preview_has_its_verdict_violations_and_cost(tmp_path, capsys):
    prod = write(
        tmp_path / "preview.prod.json",
        {"stack": "prod", "summary": {"resources": 90, "mandatoryViolations": 0}, "violations": [], "costEstimate": ESTIMATE},
    )
    cli = tmp_path / "preview.txt"
    cli.write_text(
        "Previewing update (prod)\n ~ aws:sagemaker/endpoint:Endpoint update\nPolicies:\n    ❌ mandatory: [sagemaker-endpoint-ha]\n    ⚠ advisory: [cost-budget]\n"
    )
    assert main(["--comment", "prod", "--exit-code", "255", "--pulumi-output", str(cli), str(prod)]) == 0
    comment = capsys.readouterr().out
    assert comment.splitlines()[0] == "<!-- sagemaker-mlops pulumi preview: prod -->"
    assert "❌ failed (exit 255)" in comment and "base branch's policy pack" in comment
    assert "mandatory: [sagemaker-endpoint-ha]" in comment and "advisory: [cost-budget]" in comment
    assert "estimated monthly cost $1,234.50" in comment
    assert "✅ passed" in render_comment("prod", "0", cli, [prod]) and "⚪ did not run" in render_comment("prod", "", None, [prod])


def test_long_output_is_trimmed_from_the_front_so_the_policy_report_stays(tmp_path):
    cli = tmp_path / "preview.txt"
    lines = [f"    ~ aws:s3/bucket:Bucket resource-{i} update" for i in range(5000)]
    cli.write_text(
        "\n".join([*lines, "Policies:", "    mandatory: [required-tags] missing Owner", "Resources:", "    5000 to update"]) + "\n"
    )
    comment = render_comment("dev", "255", cli, [])
    assert len(comment) < 65536  # GitHub's limit for a comment body
    assert "resource-0 update" not in comment and "characters of the beginning trimmed" in comment
    assert (
        comment.rstrip().endswith("```\n\n</details>")
        and "mandatory: [required-tags] missing Owner\nResources:\n    5000 to update" in comment
    )
    cli.write_text("a message quoting ```code``` from a policy\n")
    details = render_comment("dev", "255", cli, []).split("<details")[1]
    assert details.count("```") == 2, "the output cannot close its code block early"


def test_placeholders_are_listed_as_advisory_and_leave_the_verdict_ok(tmp_path):
    line = 'sagemaker-mlops:dashboard.hostedZoneId = "Z000": an all-zero placeholder; expected the id of the zone'
    prod = write(
        tmp_path / "preview.prod.json",
        {
            "stack": "prod",
            "summary": {
                "ok": True,
                "resources": 90,
                "policies": 3,
                "mandatoryViolations": 0,
                "advisoryViolations": 0,
                "placeholders": [line],
            },
            "violations": [],
        },
    )
    text = render([prod])
    assert "| prod | ✅ ok | 90 | 0 | 0 |" in text
    assert "#### prod: 1 placeholder(s) that `pulumi up` refuses (advisory here)" in text and f"- ⚠️ {line}" in text
