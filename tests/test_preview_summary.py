"""The job summary the check workflow writes from the offline preview's JSON."""

from __future__ import annotations

import json
from pathlib import Path

from ruamel.yaml import YAML

from tools.preview import _json_path
from tools.preview_summary import main, render

ROOT = Path(__file__).resolve().parents[1]


def write(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_a_table_row_per_stack_and_every_finding_listed(tmp_path):
    dev = write(
        tmp_path / "preview.dev.json",
        {"stack": "dev", "summary": {"ok": True, "resources": 71, "policies": 3, "mandatoryViolations": 0, "advisoryViolations": 1},
         "violations": [{"policy": "cost-budget", "level": "advisory", "urn": "", "message": "estimated $412/month | budget $500"}]},
    )
    prod = write(
        tmp_path / "preview.prod.json",
        {"stack": "prod", "summary": {"ok": False, "resources": 90, "policies": 3, "mandatoryViolations": 1, "advisoryViolations": 0},
         "violations": [{"policy": "required-tags", "level": "mandatory", "urn": "urn:pulumi:prod::p::aws:s3/bucket:Bucket::b", "message": "missing Owner"}]},
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
