"""Runs the real program under the offline preview's mocks and returns what it declared (for tests and tools).

Each (stack, overrides) combination runs once per test session, in its own process, exactly as
`python -m tools.preview` runs it. With parallel test workers (pytest-xdist: one process each) the
in-process cache alone would run it once per worker: when OFFLINE_RECORDS_CACHE names a directory
(tests/conftest.py makes one per session), a run's records are kept there, keyed on its inputs,
and the first worker to need them runs the program while the others wait and read.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from tools.repository import ROOT

CACHE_DIR_VARIABLE = "OFFLINE_RECORDS_CACHE"
# What never changes what a program declares (and is large to walk, or written to while tests run);
# folders whose name starts with a dot (.git, caches) are skipped too.
_NOT_PROGRAM = {"venv", "node_modules", "__pycache__", "tests", "docs"}


class Records:
    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.resources: list[dict[str, Any]] = data["resources"]
        self.outputs: dict[str, Any] = data["outputs"]

    def of_type(self, type_: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == type_]

    def one(self, type_: str, name: str | None = None) -> dict[str, Any]:
        found = [r for r in self.of_type(type_) if name is None or r["name"] == name]
        assert len(found) == 1, f"expected one {type_} {name or ''}, found {[r['name'] for r in found]}"
        return found[0]

    def by_urn(self, urn: str) -> dict[str, Any]:
        return next(r for r in self.resources if r["urn"] == urn)

    def children_of(self, urn: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["parent"] == urn]


def program_digest(program_dir: Path) -> str:
    """Every file of the program by path, size and modification time: an edit makes a new key."""
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(program_dir):
        dirs[:] = sorted(d for d in dirs if d not in _NOT_PROGRAM and not d.startswith("."))
        for name in sorted(files):
            stat = os.stat(os.path.join(folder, name))
            digest.update(f"{os.path.relpath(os.path.join(folder, name), program_dir)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def shared_across_workers(key: list[str], compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`compute()`, or what another worker of this session computed for the same key."""
    folder = os.environ.get(CACHE_DIR_VARIABLE)
    if not folder:
        return compute()
    name = hashlib.sha256(json.dumps(key).encode()).hexdigest()[:32]
    path = Path(folder) / f"{name}.json"
    with open(Path(folder) / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also on an error
        if path.exists():
            return json.loads(path.read_text())
        data = compute()
        path.with_suffix(".tmp").write_text(json.dumps(data))
        path.with_suffix(".tmp").replace(path)
        return data


@lru_cache(maxsize=None)
def stack_records(stack: str, *overrides: str, program_dir: Path = ROOT) -> Records:
    """`program_dir` selects another Pulumi project of this repository (e.g. bootstrap/).

    A stack that reads another through a StackReference (registry.stack) gets the outputs of that
    stack's shipped config, run first (and cached like any other run).
    """
    program_dir = Path(program_dir).resolve()
    key = [stack, *overrides, str(program_dir), program_digest(program_dir), program_digest(ROOT / "tools" / "offline")]
    return Records(shared_across_workers(key, lambda: _run_program(stack, overrides, program_dir)))


_servers: dict[Path, Any] = {}
_servers_lock = threading.Lock()


def _server_for(program_dir: Path) -> Any:
    """A fork server (tools/offline/program_server.py) for a program of this repository, started on
    first use and kept for the process: each run then costs the program, not ~1.5 CPU-s of imports.
    None where os.fork is missing, and for programs elsewhere (a test's changed copy runs once)
    unless a shared server (OFFLINE_PROGRAM_SERVER) is there to run it."""
    from tools.offline.program_server import SHARED_SERVER_VARIABLE, ProgramServer

    if not hasattr(os, "fork") or not (program_dir.is_relative_to(ROOT) or os.environ.get(SHARED_SERVER_VARIABLE)):
        return None

    with _servers_lock:
        if program_dir not in _servers:
            _servers[program_dir] = ProgramServer(program_dir, ROOT, os.environ)
            atexit.register(_servers[program_dir].close)
        return _servers[program_dir]


def _run_program(stack: str, overrides: tuple[str, ...], program_dir: Path) -> dict[str, Any]:
    from tools.offline.stack_files import apply_overrides, project_name, referenced_stacks, stack_config

    project = project_name(program_dir)
    references = [
        ref
        for ref in referenced_stacks(apply_overrides(stack_config(program_dir, stack), overrides, namespace=project), project)
        if ref != stack and (program_dir / f"Pulumi.{ref}.yaml").exists()
    ]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "records.json"
        argv = ["--stack", stack, "--program-dir", str(program_dir), "--out", str(out)]
        for override in overrides:
            argv += ["--set", override]
        for ref in references:
            outputs = Path(tmp) / f"outputs-{ref}.json"
            outputs.write_text(json.dumps(stack_records(ref, program_dir=program_dir).outputs))
            argv += ["--stack-outputs", f"{ref}={outputs}"]
        code, errors = run_program(argv, program_dir)
        assert code == 0, f"program failed for {stack} {overrides}:\n{errors}"
        return json.loads(out.read_text())


def run_program(argv: list[str], program_dir: Path, timeout: float | None = None) -> tuple[int, str]:
    """`python -m tools.offline.program <argv>` for the program in `program_dir`: forked from a
    program server where one serves it (see _server_for), else in an interpreter of its own; either
    way bounded by `timeout` seconds. Its exit code and what it wrote to stderr."""
    server = _server_for(program_dir)
    if server is None:
        command = [sys.executable, "-m", "tools.offline.program", *argv]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        return done.returncode, done.stderr
    with tempfile.TemporaryDirectory() as tmp:
        stderr = Path(tmp) / "stderr.txt"
        code = server.run(argv, stderr, timeout)
        return code, stderr.read_text() if stderr.exists() else ""


def parse_json_input(value: Any) -> Any:
    """Policy documents and similar inputs are JSON text."""
    return json.loads(value) if isinstance(value, str) else value
