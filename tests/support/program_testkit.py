"""The real program run as the offline preview, and copies of it that a test may change."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tools.offline.records import ROOT, program_digest, shared_across_workers

PROGRAM_FILES = ["__main__.py", "Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml", "components", "containers"]


def preview(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tools.preview", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def copy_program(tmp_path: Path) -> Path:
    """A copy of the program that a test may change without touching the real one."""
    for name in PROGRAM_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy(source, tmp_path / name)
    return tmp_path


def shipped_previews() -> tuple[subprocess.CompletedProcess, dict[str, Any]]:
    """`tools.preview --stack dev --stack prod --json` on the shipped program: (the run, {stack: JSON}).

    Run once per test session, whichever worker asks first (tools/offline/records.py keeps it).
    """

    def run() -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out-{stack}.json"
            done = preview("--stack", "dev", "--stack", "prod", "--json", str(out))
            files = {s: Path(str(out).replace("{stack}", s)) for s in ("dev", "prod")}
            results = {s: json.loads(f.read_text()) for s, f in files.items() if f.exists()}
            return {"args": done.args, "returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr, "results": results}

    data = shared_across_workers(["shipped-previews", program_digest(ROOT)], run)
    return subprocess.CompletedProcess(data["args"], data["returncode"], data["stdout"], data["stderr"]), data["results"]
