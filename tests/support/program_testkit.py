"""The real program run as the offline preview, and copies of it that a test may change."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tools.offline.records import ROOT

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
