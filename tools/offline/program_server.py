"""Runs the program for several stacks with the libraries imported once: a fork server.

Importing pulumi, pulumi-aws's modules and friends is most of a program run's CPU (~1 CPU-second of
~2). The server process imports the third-party modules the program imports at module level — and
nothing of the program itself, so no stack's config or state can be in it — then forks one child
per request; each child is a fresh process as `python -m tools.offline.program` would be, that
runs `tools.offline.program.main` for one stack and exits. Requests and answers are JSON lines:

    stdin:  {"id": 1, "argv": [...arguments of tools.offline.program...], "stderr": "/path"}
    stdout: {"id": 1, "code": <the child's exit code>}

Used by tools.preview where os.fork exists; elsewhere each stack runs in its own interpreter.
"""

from __future__ import annotations

import ast
import gc
import importlib
import itertools
import json
import os
import re
import subprocess
import sys
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Mapping, Optional

# The runner's own imports, whatever the program imports.
_ALWAYS = ("pulumi", "pulumi.runtime.mocks", "pulumi_aws", "tools.offline.mocks", "tools.offline.stack_files")


def program_imports(program_dir: Path) -> list[str]:
    """Third-party modules the program imports at module level (its __main__.py and the modules of
    its own it imports, transitively), plus the pulumi-aws submodules it names (`aws.<module>.`)."""
    modules: list[str] = []
    seen: set[Path] = set()
    pending = [program_dir / "__main__.py"]
    while pending:
        path = pending.pop()
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        source = path.read_text()
        for node in ast.parse(source, filename=str(path)).body:
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            for name in names:
                local = _local_module(program_dir, name)
                if local is not None:
                    pending.append(local)
                else:
                    modules.append(name)
        modules += [f"pulumi_aws.{m}" for m in re.findall(r"\baws\.([a-z][a-z0-9_]*)\.", source)]
    return list(dict.fromkeys(modules))


def _local_module(program_dir: Path, name: str) -> Optional[Path]:
    """The program's own file for module `name`, or None when it is not the program's."""
    path = program_dir.joinpath(*name.split("."))
    if path.with_suffix(".py").is_file():
        return path.with_suffix(".py")
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    return None if not (program_dir / name.split(".")[0]).exists() and not (program_dir / f"{name.split('.')[0]}.py").exists() else Path()


def preimport(program_dir: Path) -> None:
    for name in (*_ALWAYS, *program_imports(program_dir)):
        try:
            # pulumi-aws's submodules load lazily, on their first attribute: load them now.
            hasattr(importlib.import_module(name), "_load_it_now")
        except Exception:
            pass


def serve(program_dir: Path) -> int:
    gc.disable()  # as in tools.offline.program: short-lived, few cycles
    preimport(program_dir)
    write = threading.Lock()
    reapers: list[threading.Thread] = []

    def reap(pid: int, request_id: int) -> None:
        _, status = os.waitpid(pid, 0)
        with write:
            sys.stdout.write(json.dumps({"id": request_id, "code": os.waitstatus_to_exitcode(status)}) + "\n")
            sys.stdout.flush()

    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:  # the child: one stack's program run
            code = 1
            try:
                fd = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(fd, 2)
                os.close(fd)
                sys.stdout = open(os.devnull, "w")  # answers are the server's; the program's prints go nowhere
                from tools.offline.program import main

                code = main(request["argv"])
            except BaseException:
                import traceback

                traceback.print_exc()
            finally:
                sys.stderr.flush()
                os._exit(code)
        reapers.append(threading.Thread(target=reap, args=(pid, request["id"]), daemon=True))
        reapers[-1].start()
    for reaper in reapers:  # stdin closed: answer every run still going before exiting
        reaper.join()
    return 0


class ProgramServer:
    """The client: starts the server once, runs a program per call (thread-safe)."""

    def __init__(self, program_dir: Path, cwd: Path, env: Mapping[str, str]):
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tools.offline.program_server", "--program-dir", str(program_dir)],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._pending: dict[int, Future] = {}
        threading.Thread(target=self._read, daemon=True).start()

    def run(self, argv: list[str], stderr_path: Path) -> int:
        """Runs `tools.offline.program` with `argv` in a forked child; its exit code."""
        future: Future = Future()
        with self._lock:
            request_id = next(self._ids)
            self._pending[request_id] = future
            assert self._process.stdin is not None
            self._process.stdin.write(json.dumps({"id": request_id, "argv": argv, "stderr": str(stderr_path)}) + "\n")
            self._process.stdin.flush()
        return future.result()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            answer = json.loads(line)
            with self._lock:
                future = self._pending.pop(answer["id"])
            future.set_result(answer["code"])
        with self._lock:  # the server ended: nothing more will be answered
            pending, self._pending = self._pending, {}
        for future in pending.values():
            future.set_result(3)

    def close(self) -> None:
        if self._process.stdin is not None and not self._process.stdin.closed:
            self._process.stdin.close()
        self._process.wait()


def main(argv: Optional[list[str]] = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--program-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    return serve(args.program_dir.resolve())


if __name__ == "__main__":
    sys.exit(main())
