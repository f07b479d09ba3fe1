"""The code passes `ruff check`, `ruff format --check` and `mypy` as configured in pyproject.toml
(rules, per-file exceptions and the type-checked packages are chosen there, with the reason for each
exception)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_ruff_check_passes():
    done = run("ruff", "check", "--no-cache", ".")
    assert done.returncode == 0, f"ruff check found problems (fix them, or `ruff check --fix`):\n{done.stdout}{done.stderr}"


def test_the_code_is_formatted():
    done = run("ruff", "format", "--check", "--no-cache", ".")
    assert done.returncode == 0, f"files need formatting (run `ruff format .`):\n{done.stdout}{done.stderr}"


def test_mypy_passes_on_components_and_the_policy_pack():
    done = run("mypy", "--no-incremental")
    assert done.returncode == 0, f"mypy found type errors:\n{done.stdout}{done.stderr}"
    assert "components" in (ROOT / "pyproject.toml").read_text() and "no issues found" in done.stdout


def test_the_checkers_reject_a_bad_file(tmp_path):
    # Same configuration, a file with an unused import, a bare except and a type error: both
    # checkers must say so, or the two tests above could pass by checking nothing.
    (tmp_path / "pyproject.toml").write_text(
        (ROOT / "pyproject.toml").read_text().replace('files = ["components", "policies/guardrails"]', 'files = ["bad.py"]')
    )
    (tmp_path / "bad.py").write_text('import os\n\n\ndef f(x: int) -> str:\n    try:\n        return x\n    except:\n        return ""\n')
    ruff = run("ruff", "check", "--no-cache", ".", cwd=tmp_path)
    assert ruff.returncode == 1 and "F401" in ruff.stdout and "E722" in ruff.stdout
    (tmp_path / "ugly.py").write_text("x = {  'a':1 }\n")
    unformatted = run("ruff", "format", "--check", "--no-cache", ".", cwd=tmp_path)
    assert unformatted.returncode == 1 and "ugly.py" in unformatted.stdout
    mypy = run("mypy", "--no-incremental", cwd=tmp_path)
    assert mypy.returncode == 1 and "Incompatible return value type" in mypy.stdout
