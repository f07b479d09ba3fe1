"""The quick rehearsal of dev that `make demo` runs, run once per test session for every worker.

Both its own tests (tests/tools/rehearsal/test_rehearsal.py) and the README's sample report
(tests/tools/docs/test_readme_facts.py) read the same run: its work directory is kept in the
session's shared folder, so that what the run left behind can be inspected too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from tools.docs.cli import report_part
from tools.offline.records import CACHE_DIR_VARIABLE, ROOT, program_digest, shared_across_workers
from tools.rehearsal.report import Report, StackResult, render

QUICK_DEMO = ("--stack", "dev", "--quick", "--requests", "10")
TIMEOUT = 420  # a busy 2-core machine; a quick run takes under a minute


def quick_demo() -> tuple[Path, subprocess.CompletedProcess[str]]:
    """(its kept work directory, the run) of `python -m tools.rehearsal` with QUICK_DEMO."""

    def run() -> dict[str, Any]:
        workdir = Path(tempfile.mkdtemp(prefix="quick-demo-", dir=os.environ.get(CACHE_DIR_VARIABLE)))
        command = [sys.executable, "-m", "tools.rehearsal", *QUICK_DEMO, "--workdir", str(workdir), "--json", str(workdir / "report.json")]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)
        return {"workdir": str(workdir), "args": command, "returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr}

    data = shared_across_workers(["quick-demo", *QUICK_DEMO, program_digest(ROOT)], run)
    done = subprocess.CompletedProcess(data["args"], data["returncode"], data["stdout"], data["stderr"])
    return Path(data["workdir"]), done


def report_of(workdir: Path) -> Report:
    """The run's report, read back from its --json file."""
    data = json.loads((workdir / "report.json").read_text())
    values = {f.name: data[f.name] for f in fields(Report) if f.name in data}
    return Report(**{**values, "stacks": [StackResult(**s) for s in data["stacks"]]})


def as_make_demo_prints(workdir: Path, stdout: str) -> str:
    """The report part of the run's output as `make demo` prints it, which keeps no work directory:
    the lines that keeping one changed (by the report's own renderer) put back."""
    report = report_of(workdir)
    kept, removed = render(replace(report, kept=True)), render(replace(report, kept=False))
    for with_dir, without in zip(kept.splitlines(), removed.splitlines()):
        if with_dir != without:
            stdout = stdout.replace(with_dir, without)
    return report_part(stdout)
