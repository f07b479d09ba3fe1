"""Runs the program for several stacks with the libraries imported once: a fork server.

Importing pulumi, pulumi-aws's modules and friends is most of a program run's CPU (~1 CPU-second of
~2). The server process imports the third-party modules the program imports at module level — and
nothing of the program itself, so no stack's config or state can be in it — then forks one child
per request; each child is a fresh process as `python -m tools.offline.program` would be, that
runs `tools.offline.program.main` for one stack and exits. Requests and answers are JSON lines:

    stdin:  {"id": 1, "argv": [...arguments of tools.offline.program...], "stderr": "/path"}
    stdout: {"id": 1, "code": <the child's exit code>}

Used by tools.preview where os.fork exists; elsewhere each stack runs in its own interpreter.

One server can also serve many processes (`--listen SOCKET`): every `ProgramServer` whose
environment names that socket in OFFLINE_PROGRAM_SERVER sends its runs there, with its working
directory and environment, instead of starting a server of its own. The test session starts one
(tests/conftest.py), so its hundred previews pay for the imports once. A forked run takes the
server's interpreter and `tools/` code (the program is always the client's `--program-dir`), so a
server serves only checkouts whose interpreter and `tools/` are byte for byte its own
(`runner_identity`): a copy of the repository made to test a pull request's change is served, a
checkout with other tools (a mutation run's scratch copy of tools/) is refused and that client
starts its own.

    socket: {"argv": [...], "stderr": "/path", "cwd": "/dir", "env": {...}, "runner": "<identity>"} -> {"code": 0}
            {"ping": true} -> {"root": "/repo", "runner": "<identity>"}
"""

from __future__ import annotations

import ast
import functools
import gc
import hashlib
import importlib
import itertools
import json
import os
import re
import socket
import subprocess
import sys
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from tools.repository import ROOT

SHARED_SERVER_VARIABLE = "OFFLINE_PROGRAM_SERVER"
# The runner's own imports, whatever the program imports.
_ALWAYS = ("pulumi", "pulumi.runtime.mocks", "pulumi_aws", "tools.offline.mocks", "tools.offline.stack_files")


@functools.lru_cache(maxsize=None)
def runner_identity(root: Path = ROOT) -> str:
    """What a run forked from a server takes from the server rather than from its client: the
    interpreter (its real prefix) and every file under `root`/tools/, by path and content."""
    digest = hashlib.sha256(os.path.realpath(sys.prefix).encode() + b"\0")
    for path in sorted((root / "tools").rglob("*.py")):
        if "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


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


def _fork_run(request: Mapping[str, Any], prepare: Callable[[], None] = lambda: None) -> int:
    """Forks a child that runs `tools.offline.program.main(request["argv"])`, its stderr into the
    request's file; the child's pid. `prepare` runs first in the child."""
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        fd = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 2)
        os.close(fd)
        sys.stdout = open(os.devnull, "w")  # answers are the server's; the program's prints go nowhere
        prepare()
        from tools.offline.program import main

        code = main(request["argv"])
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        sys.stderr.flush()
        os._exit(code)


def _exit_code(pid: int) -> int:
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def serve(program_dir: Path) -> int:
    gc.disable()  # as in tools.offline.program: short-lived, few cycles
    preimport(program_dir)
    write = threading.Lock()
    reapers: list[threading.Thread] = []

    def reap(pid: int, request_id: int) -> None:
        code = _exit_code(pid)
        with write:
            sys.stdout.write(json.dumps({"id": request_id, "code": code}) + "\n")
            sys.stdout.flush()

    for line in sys.stdin:
        request = json.loads(line)
        pid = _fork_run(request)
        reapers.append(threading.Thread(target=reap, args=(pid, request["id"]), daemon=True))
        reapers[-1].start()
    for reaper in reapers:  # stdin closed: answer every run still going before exiting
        reaper.join()
    return 0


def serve_socket(program_dir: Path, path: Path) -> int:
    """Serves runs from any process over a Unix socket until stdin closes (its starter ended)."""
    gc.disable()
    preimport(program_dir)
    identity = {"root": str(ROOT), "runner": runner_identity()}
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(64)
    listener.settimeout(0.5)
    stopping = threading.Event()

    def stop_when_stdin_closes() -> None:
        sys.stdin.read()
        stopping.set()

    threading.Thread(target=stop_when_stdin_closes, daemon=True).start()
    print("ready", flush=True)

    def answer(connection: socket.socket, pid: int) -> None:
        with connection:
            connection.sendall((json.dumps({"code": _exit_code(pid)}) + "\n").encode())

    def prepare(connection: socket.socket, request: Mapping[str, Any]) -> Callable[[], None]:
        def in_child() -> None:  # the client's own directory and environment, as its own server would have
            listener.close()
            connection.close()
            os.chdir(request["cwd"])
            os.environ.clear()
            os.environ.update(request["env"])

        return in_child

    while not stopping.is_set():
        try:
            connection, _ = listener.accept()
        except socket.timeout:
            continue
        connection.settimeout(None)
        request = json.loads(connection.makefile("r").readline() or "{}")
        if request.get("ping") or request.get("runner") != identity["runner"]:
            with connection:
                connection.sendall((json.dumps(identity) + "\n").encode())
            continue
        pid = _fork_run(request, prepare(connection, request))
        threading.Thread(target=answer, args=(connection, pid), daemon=True).start()
    listener.close()
    return 0


def shared_server_identity(path: str) -> Optional[dict[str, str]]:
    """The repository the server listening on `path` was started from and its runner identity, or
    None when none answers there."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(5)
            client.connect(path)
            client.sendall(b'{"ping": true}\n')
            answer = json.loads(client.makefile("r").readline())
            return {"root": answer["root"], "runner": answer["runner"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def serves_this_checkout(path: str) -> bool:
    """Whether the server listening on `path` runs this checkout's programs (see runner_identity)."""
    found = shared_server_identity(path)
    return found is not None and found["runner"] == runner_identity()


class SharedProgramServer:
    """A server for every process that names its socket (`--listen`), started and stopped by its owner."""

    def __init__(self, path: Path, program_dir: Path = ROOT):
        self.path = path
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tools.offline.program_server", "--program-dir", str(program_dir), "--listen", str(path)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.pid = self._process.pid
        assert self._process.stdout is not None
        if self._process.stdout.readline().strip() != "ready":
            self.close()
            raise RuntimeError(f"the shared program server did not start on {path}")

    def close(self) -> None:
        if self._process.stdin is not None and not self._process.stdin.closed:
            self._process.stdin.close()
        self._process.wait()


class ProgramServer:
    """The client: starts the server once (or uses the shared one), runs a program per call (thread-safe)."""

    def __init__(self, program_dir: Path, cwd: Path, env: Mapping[str, str]):
        self._program_dir, self._cwd, self._env = program_dir, cwd, dict(env)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._pending: dict[int, Future] = {}
        self._process: Optional[subprocess.Popen[str]] = None
        self._shared = self._env.get(SHARED_SERVER_VARIABLE)
        if not self._shared:
            self._start()

    def _start(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tools.offline.program_server", "--program-dir", str(self._program_dir)],
            cwd=self._cwd,
            env=self._env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._read, args=(self._process,), daemon=True).start()

    def run(self, argv: list[str], stderr_path: Path, timeout: Optional[float] = None) -> int:
        """Runs `tools.offline.program` with `argv` in a forked child; its exit code. TimeoutError
        when it has not answered within `timeout` seconds."""
        if self._shared:
            code = self._run_shared(argv, stderr_path, timeout)
            if code is not None:
                return code
        future: Future = Future()
        with self._lock:
            if self._process is None:  # the shared server refused: ours from now on
                self._shared = None
                self._start()
            assert self._process is not None and self._process.stdin is not None
            request_id = next(self._ids)
            self._pending[request_id] = future
            self._process.stdin.write(json.dumps({"id": request_id, "argv": argv, "stderr": str(stderr_path)}) + "\n")
            self._process.stdin.flush()
        return future.result(timeout)

    def _run_shared(self, argv: list[str], stderr_path: Path, timeout: Optional[float]) -> Optional[int]:
        """The run's exit code from the shared server; None when it serves another checkout or
        does not answer."""
        assert self._shared is not None
        request = {"argv": argv, "stderr": str(stderr_path), "cwd": str(self._cwd), "env": self._env, "runner": runner_identity()}
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                client.connect(self._shared)
                client.settimeout(timeout)
                client.sendall((json.dumps(request) + "\n").encode())
                answer = json.loads(client.makefile("r").readline())
        except TimeoutError:
            raise TimeoutError(f"the program run did not finish within {timeout} s: {' '.join(argv)}") from None
        except (OSError, ValueError):
            return None
        return answer.get("code") if isinstance(answer, dict) else None

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            answer = json.loads(line)
            with self._lock:
                future = self._pending.pop(answer["id"])
            future.set_result(answer["code"])
        with self._lock:  # the server ended: nothing more will be answered
            pending, self._pending = self._pending, {}
        for future in pending.values():
            future.set_result(3)

    def close(self) -> None:
        if self._process is None:
            return
        if self._process.stdin is not None and not self._process.stdin.closed:
            self._process.stdin.close()
        self._process.wait()


def main(argv: Optional[list[str]] = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--program-dir", type=Path, required=True)
    parser.add_argument("--listen", type=Path, help="serve every process over this Unix socket (see above)")
    args = parser.parse_args(argv)
    if args.listen:
        return serve_socket(args.program_dir.resolve(), args.listen)
    return serve(args.program_dir.resolve())


if __name__ == "__main__":
    sys.exit(main())
