"""Where the offline preview's time goes: wall and CPU seconds per phase and stack, median of N runs.

    python -m benchmarks.preview [--runs 5] [--stack dev --stack prod]

CPU seconds are user + system of the process (tree) doing the work, which is what the preview costs
a shared machine or a CI runner; wall depends on what else runs. Phases, each measured alone:

  end to end         `python -m tools.preview --stack dev --stack prod` (stacks in parallel)
  server imports     the program server: interpreter + the libraries the program imports, once
  program <stack>    one stack's program under mocks in a child forked from that server
  pack start         the policy pack process up to its gRPC port (interpreter, pulumi_policy, guardrails)
  Analyze <stack>    every Analyze call (pack side: per-resource policies)
  AnalyzeStack       the AnalyzeStack call (pack side: stack policies, the cost estimate)
  driver <stack>     this side of the protocol: the records' JSON, protobuf conversions, gRPC
  JSON <stack>       the --json document (to_json + json.dumps)

Linux only (reads /proc for the pack's CPU time). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import grpc  # noqa: F401  (imported before timing: the driver's own start is not a phase)
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2

from tools.offline import analyzer
from tools.offline.analyzer import AnalysisResult, PolicyPackProcess, StackResource, resolve_policy_config
from tools.offline.program_server import ProgramServer
from tools.offline.stack_files import engine_config
from tools.preview.cli import ROOT, StackPreview, to_json

TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def _wait_cpu(process: subprocess.Popen) -> float:
    """Waits for the child; its CPU seconds including its own waited-for children."""
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0
    return usage.ru_utime + usage.ru_stime


def end_to_end(stacks: list[str]) -> tuple[float, float]:
    command = [sys.executable, "-m", "tools.preview", *(a for s in stacks for a in ("--stack", s))]
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cpu = _wait_cpu(process)
    return time.perf_counter() - start, cpu


def server_run(stacks: list[str], tmp: Path) -> tuple[tuple[float, float], dict[str, tuple[float, float]]]:
    """(wall, CPU) of the server alone, and of each stack's forked program run."""

    def one(requests: list[str]) -> tuple[float, float]:
        start = time.perf_counter()
        server = ProgramServer(ROOT, ROOT, os.environ)
        for stack in requests:
            # A stack's StackReferences read the outputs of the stacks run before it (prod reads dev).
            argv = ["--stack", stack, "--program-dir", str(ROOT), "--out", str(tmp / f"{stack}.json")]
            for other in stacks:
                if other != stack and (tmp / f"{other}.json").exists():
                    (tmp / f"{other}-outputs.json").write_text(json.dumps(json.loads((tmp / f"{other}.json").read_text())["outputs"]))
                    argv += ["--stack-outputs", f"{other}={tmp / f'{other}-outputs.json'}"]
            code = server.run(argv, tmp / "stderr")
            assert code == 0, (tmp / "stderr").read_text()
        assert server._process.stdin is not None
        server._process.stdin.close()
        cpu = _wait_cpu(server._process)
        return time.perf_counter() - start, cpu

    base = one([])
    programs = {}
    for stack in stacks:
        wall, cpu = one([stack])
        programs[stack] = (wall - base[0], cpu - base[1])
    return base, programs


def analysis(stack: str, records: dict) -> dict[str, tuple[float, float]]:
    """The pack's start, Analyze calls, AnalyzeStack (pack CPU) and the driver's side (this process)."""
    phases: dict[str, tuple[float, float]] = {}
    driver_cpu = time.process_time()
    resources = [
        StackResource(
            **{
                k: r[k]
                for k in (
                    "urn",
                    "type",
                    "name",
                    "parent",
                    "inputs",
                    "state",
                    "options",
                    "provider",
                    "custom",
                    "dependencies",
                    "property_dependencies",
                )
            }
        )
        for r in records["resources"]
    ]
    config = engine_config(records["config"])
    policy_config = json.loads((ROOT / "policies" / "config" / f"{stack}.json").read_text())
    driver_cpu = time.process_time() - driver_cpu

    start = time.perf_counter()
    pack = PolicyPackProcess(ROOT / "policies", records["project"], stack, config)
    pid = pack._process.pid
    phases["pack start"] = (time.perf_counter() - start, _proc_cpu(pid))
    try:
        stub = pack.stub
        before = time.process_time()
        stub.ConfigureStack(
            analyzer_pb2.AnalyzerStackConfigureRequest(stack=stack, project=records["project"], dry_run=True, config=config)
        )
        info = stub.GetAnalyzerInfo(empty_pb2.Empty())
        stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=resolve_policy_config(info, policy_config)))
        by_urn = {r.urn: r for r in resources}
        requests = [
            analyzer_pb2.AnalyzeRequest(
                type=r.type,
                properties=analyzer._struct(r.inputs),
                urn=r.urn,
                name=r.name,
                options=analyzer._options(r),
                provider=analyzer._provider(r, by_urn),
            )
            for r in resources
        ]
        stack_request = analyzer_pb2.AnalyzeStackRequest(
            resources=[
                analyzer_pb2.AnalyzerResource(
                    type=r.type,
                    properties=analyzer._struct(r.state or r.inputs),
                    urn=r.urn,
                    name=r.name,
                    options=analyzer._options(r),
                    provider=analyzer._provider(r, by_urn),
                    parent=r.parent,
                    dependencies=r.dependencies,
                    propertyDependencies={k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v) for k, v in r.property_dependencies.items()},
                )
                for r in resources
            ]
        )
        driver_cpu += time.process_time() - before

        def timed(call: Callable[[], object]) -> tuple[float, float]:
            pack_before, wall_before, own_before = _proc_cpu(pid), time.perf_counter(), time.process_time()
            call()
            nonlocal driver_cpu
            driver_cpu += time.process_time() - own_before
            return time.perf_counter() - wall_before, _proc_cpu(pid) - pack_before

        phases[f"Analyze {stack}"] = timed(lambda: [stub.Analyze(r) for r in requests])
        phases[f"AnalyzeStack {stack}"] = timed(lambda: stub.AnalyzeStack(stack_request))
    finally:
        pack.close()
    phases[f"driver {stack}"] = (driver_cpu, driver_cpu)
    return phases


def json_phase(stack: str, records: dict) -> tuple[float, float]:
    # The document is mostly the resources; the findings' share is measured with none.
    preview = StackPreview(stack, records=records, analysis=AnalysisResult("pack", "0", [], []))
    start, cpu = time.perf_counter(), time.process_time()
    json.dumps(to_json(preview), indent=2)
    return time.perf_counter() - start, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stack", action="append")
    args = parser.parse_args(argv)
    stacks = args.stack or ["dev", "prod"]

    end_to_end(stacks)  # warm-up: file caches, the pipeline-definition cache, bytecode
    samples: dict[str, list[tuple[float, float]]] = {}

    def add(name: str, value: tuple[float, float]) -> None:
        samples.setdefault(name, []).append(value)

    for _ in range(args.runs):
        add(f"end to end ({' + '.join(stacks)})", end_to_end(stacks))
        with tempfile.TemporaryDirectory() as tmp:
            base, programs = server_run(stacks, Path(tmp))
            add("server imports", base)
            for stack in stacks:
                add(f"program {stack}", programs[stack])
                records = json.loads((Path(tmp) / f"{stack}.json").read_text())
                for name, value in analysis(stack, records).items():
                    add(name if name != "pack start" else f"pack start ({stack})", value)
                add(f"JSON {stack}", json_phase(stack, records))

    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"{platform.node()}: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load {os.getloadavg()[0]:.2f}; median of {args.runs} runs; peak child RSS {peak:.0f} MiB"
    )
    print(f"{'phase':<28} {'wall s':>8} {'CPU s':>8}")
    for name, values in samples.items():
        wall = statistics.median(v[0] for v in values)
        cpu = statistics.median(v[1] for v in values)
        print(f"{name:<28} {wall:>8.2f} {cpu:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
