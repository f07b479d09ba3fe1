"""The fork server that runs several stacks' programs with the libraries imported once: what it
pre-imports, and that its children record exactly what a fresh interpreter records."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.offline.program_server import (
    SHARED_SERVER_VARIABLE,
    ProgramServer,
    SharedProgramServer,
    program_imports,
    runner_identity,
    serves_this_checkout,
    shared_server_identity,
)
from tools.offline.records import ROOT, stack_records


def test_it_preimports_the_libraries_the_program_imports_and_nothing_of_the_program():
    modules = program_imports(ROOT)
    assert {"pulumi", "pulumi_aws", "pulumi_aws.ec2", "pulumi_aws.sagemaker", "pulumi_docker", "pydantic"} <= set(modules)
    assert not [m for m in modules if m.split(".")[0] in {"components", "containers", "tools", "tests"}]
    assert "pandas" not in modules and "sagemaker" not in modules  # only where the definition is built


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the fork server needs os.fork")
def test_a_forked_run_records_what_a_fresh_interpreter_records(tmp_path):
    server = ProgramServer(ROOT, ROOT, os.environ)
    try:
        out = tmp_path / "dev.json"
        assert server.run(["--stack", "dev", "--program-dir", str(ROOT), "--out", str(out)], tmp_path / "stderr") == 0
        bad = server.run(["--stack", "staging", "--program-dir", str(ROOT), "--out", str(tmp_path / "x.json")], tmp_path / "stderr2")
    finally:
        server.close()
    # Registration order follows when outputs resolve: compare by URN.
    by_urn = lambda resources: sorted(resources, key=lambda r: r["urn"])  # noqa: E731
    assert by_urn(json.loads(out.read_text())["resources"]) == by_urn(stack_records("dev").resources)
    assert bad == 2 and "no stack 'staging'" in (tmp_path / "stderr2").read_text()


# A program that exports what its run sees of the client: the environment and the working directory
# the client's own server would have given it.
SEEING = """
import os
import pulumi

pulumi.export("marker", os.environ.get("PROGRAM_SERVER_MARKER"))
pulumi.export("parent", os.getppid())
"""


def seeing_program(root: Path) -> Path:
    root.mkdir()
    (root / "Pulumi.yaml").write_text("name: seeing\nruntime: python\n")
    (root / "__main__.py").write_text(SEEING)
    (root / "Pulumi.one.yaml").write_text("config:\n  aws:region: us-east-1\n")
    return root


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory) -> Iterator[SharedProgramServer]:
    """One for the module's tests (each run is its own forked child): a server costs its imports."""
    server = SharedProgramServer(tmp_path_factory.mktemp("shared-server") / "socket")
    try:
        yield server
    finally:
        server.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the fork server needs os.fork")
def test_a_client_naming_the_shared_server_runs_there_with_its_own_environment(shared_server, tmp_path):
    program = seeing_program(tmp_path / "program")
    env = {**os.environ, SHARED_SERVER_VARIABLE: str(shared_server.path), "PROGRAM_SERVER_MARKER": "the client's"}
    client = ProgramServer(program, ROOT, env)
    out, refused = tmp_path / "one.json", tmp_path / "staging.json"
    assert client.run(["--stack", "one", "--program-dir", str(program), "--out", str(out)], tmp_path / "stderr") == 0
    assert client.run(["--stack", "staging", "--program-dir", str(program), "--out", str(refused)], tmp_path / "stderr2") == 2
    client.close()
    outputs = json.loads(out.read_text())["outputs"]
    assert outputs["marker"] == "the client's"
    assert shared_server_identity(str(shared_server.path)) == {"root": str(ROOT), "runner": runner_identity()}
    # The run was forked from the shared server: no server of the client's own was started.
    assert outputs["parent"] == shared_server.pid and client._process is None
    assert "no stack 'staging'" in (tmp_path / "stderr2").read_text() and not refused.exists()


def server_in(copy: Path, socket_path: Path) -> subprocess.Popen[str]:
    """A shared server started from `copy` (its tools/), serving on `socket_path`."""
    server = subprocess.Popen(
        [sys.executable, "-m", "tools.offline.program_server", "--program-dir", str(ROOT), "--listen", str(socket_path)],
        cwd=copy,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stdout.readline().strip() == "ready"
    return server


def stop(server: subprocess.Popen[str]) -> None:
    server.stdin.close()  # type: ignore[union-attr]
    assert server.wait(timeout=30) == 0  # a closed stdin ends the server


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the fork server needs os.fork")
@pytest.mark.parametrize("tools_changed", [True, False], ids=["other-tools", "same-tools"])
def test_a_server_serves_a_checkout_only_with_its_own_tools(tmp_path, tools_changed):
    """A run takes the server's tools/: a checkout whose tools/ differ (a mutation run's scratch
    copy) must run its own, a byte-for-byte copy of the repository (a test's) may share it."""
    copy = tmp_path / "copy"
    shutil.copytree(ROOT / "tools", copy / "tools", ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
    if tools_changed:
        runner = copy / "tools" / "offline" / "program.py"
        runner.write_text(runner.read_text() + "\n# changed\n")
    assert (runner_identity(copy) == runner_identity()) is not tools_changed
    server = server_in(copy, tmp_path / "socket")
    try:
        assert shared_server_identity(str(tmp_path / "socket")) == {"root": str(copy), "runner": runner_identity(copy)}
        assert serves_this_checkout(str(tmp_path / "socket")) is not tools_changed
        program = seeing_program(tmp_path / "program")
        client = ProgramServer(
            program, ROOT, {**os.environ, SHARED_SERVER_VARIABLE: str(tmp_path / "socket"), "PROGRAM_SERVER_MARKER": "x"}
        )
        out = tmp_path / "one.json"
        assert client.run(["--stack", "one", "--program-dir", str(program), "--out", str(out)], tmp_path / "stderr") == 0
        own_server = client._process
        client.close()
        outputs = json.loads(out.read_text())["outputs"]
        assert outputs["marker"] == "x"
        if tools_changed:
            assert own_server is not None and outputs["parent"] == own_server.pid  # its own server ran it
        else:
            assert own_server is None and outputs["parent"] == server.pid
    finally:
        stop(server)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the fork server needs os.fork")
@pytest.mark.parametrize("shared", [True, False], ids=["shared-server", "own-server"])
def test_a_run_that_does_not_finish_in_time_raises(request, tmp_path, shared):
    program = seeing_program(tmp_path / "program")
    (program / "__main__.py").write_text("import time\ntime.sleep(3)\n")
    env = {k: v for k, v in os.environ.items() if k != SHARED_SERVER_VARIABLE}
    if shared:
        env[SHARED_SERVER_VARIABLE] = str(request.getfixturevalue("shared_server").path)
    client = ProgramServer(program, ROOT, env)
    argv = ["--stack", "one", "--program-dir", str(program), "--out", str(tmp_path / "one.json")]
    with pytest.raises(TimeoutError):
        client.run(argv, tmp_path / "stderr", timeout=0.5)
    assert (client._process is None) is shared
    client.close()


def test_no_server_answers_on_a_missing_socket(tmp_path):
    assert shared_server_identity(str(tmp_path / "nothing")) is None and shared_server_identity("") is None
    assert not serves_this_checkout(str(tmp_path / "nothing"))
