"""How keep-alive connections spread over the model server's workers, and the 1-row throughput
that spread gets.

    apt-get install -y wrk
    venv/bin/python -m benchmarks.serving_spread [--trials 20] [--compare] [--duration 5] [--json FILE]

Spread: per trial, N keep-alive connections are opened to 127.0.0.1 (all at once, or one every
20 ms), each gets one 1-row request answered (so a worker has accepted it), and the connections
each worker process holds are counted from /proc; then they are closed and the next trial waits
until the workers hold none. N = 16 and 32, both ways, `--trials` times each. `--compare` also
runs two references with the same app and worker count: gunicorn's stock uvicorn worker on one
shared socket ("stock"), and the same with `--reuse-port` ("reuse_port", in gunicorn 26 each
worker binds its own SO_REUSEPORT socket and the kernel picks one by a hash of the address).

Throughput: wrk's 1-row bench (16 connections) against `serve` and the bare-responder ceiling of
benchmarks/serving.py (and with `--compare` the stock reference), in bursts that take turns; the
spread wrk's connections got is sampled in every burst. Targets: no trial with more than 75% of its connections on one worker; 1-row
throughput >= 80% of the ceiling. The exit code is 0 when both are met.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.serving import (
    MODEL_ROOT,
    REPO,
    WRK_SCRIPT,
    Server,
    build_model,
    established_per_worker,
    machine,
    payloads,
    running_server,
    server_commands,
    tree_cpu_seconds,
)

SIZES = (16, 32)
STAGGER_SECONDS = 0.02
MAX_SHARE = 0.75
MIN_CEILING_SHARE = 0.80
ROW = b"12,0,0,350.5,3.2,40.1,480.2,2,0,1"
REQUEST = b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\nContent-Length: %d\r\n\r\n%s" % (len(ROW), ROW)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def reference_commands(workers: int, model_dir: Path, port: int) -> dict[str, list[str]]:
    gunicorn = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--no-control-socket",
        "--keep-alive",
        "75",
        "--worker-class",
        "uvicorn_worker.UvicornWorker",
    ]
    return {"stock": [*gunicorn, "churn.app:create_app()"], "reuse_port": [*gunicorn, "--reuse-port", "churn.app:create_app()"]}


def wait_until_idle(server: Server, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while any(established_per_worker(server.pid, server.port).values()) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.25)  # the workers' published counts follow within 0.1 s


def trial(server: Server, count: int, stagger: float) -> list[int]:
    """Open `count` connections, use each once, return the per-worker counts (sorted, largest first)."""
    sockets = []
    try:
        for _ in range(count):
            sockets.append(socket.create_connection(("127.0.0.1", server.port), timeout=30))
            if stagger:
                time.sleep(stagger)
        for sock in sockets:
            sock.sendall(REQUEST)
        for sock in sockets:
            if not sock.recv(65536).startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"{server.name}: a request failed")
        return sorted(established_per_worker(server.pid, server.port).values(), reverse=True)
    finally:
        for sock in sockets:
            sock.close()
        wait_until_idle(server)


def spread(server: Server, trials: int) -> dict[str, list[list[int]]]:
    results = {}
    for count in SIZES:
        for stagger in (0.0, STAGGER_SECONDS):
            label = f"{count} {'at once' if not stagger else f'{stagger * 1000:g} ms apart'}"
            results[label] = [trial(server, count, stagger) for _ in range(trials)]
            print(f"[{server.name}] {label}: {results[label]}", file=sys.stderr)
    return results


def wrk_burst(server: Server, body: Path, script: Path, clients: int, seconds: float) -> dict[str, object]:
    """One wrk burst; the spread of its connections is read while it runs."""
    command = [
        "wrk",
        "-t1",
        f"-c{clients}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://127.0.0.1:{server.port}/invocations",
    ]
    cpu_before = tree_cpu_seconds(server.pid)
    process = subprocess.Popen(command, env={**os.environ, "BENCH_BODY": str(body)}, stdout=subprocess.PIPE, text=True)
    time.sleep(min(0.5, seconds / 2))
    held = sorted(established_per_worker(server.pid, server.port).values(), reverse=True)
    output, _ = process.communicate(timeout=seconds + 30)
    result = json.loads(next(line[7:] for line in output.splitlines() if line.startswith("RESULT ")))
    return {
        "requests": result["requests"],
        "seconds": result["duration_us"] / 1e6,
        "p99_ms": result["p99_us"] / 1000,
        "errors": sum(result[k] for k in ("connect", "read", "write", "status", "timeout")),
        "cpu_seconds": tree_cpu_seconds(server.pid) - cpu_before,
        "spread": held,
    }


def throughput(servers: list[Server], body: Path, script: Path, args: argparse.Namespace) -> dict[str, list[dict]]:
    for server in servers:  # warm-up, discarded
        wrk_burst(server, body, script, args.clients, 1)
    bursts: dict[str, list[dict]] = {s.name: [] for s in servers}
    for index in range(max(1, round(args.duration / args.burst))):
        for server in servers[index % len(servers) :] + servers[: index % len(servers)]:
            wait_until_idle(server)
            result = wrk_burst(server, body, script, args.clients, args.burst)
            bursts[server.name].append(result)
            print(
                f"[{server.name}] 1 row #{index + 1}: {result['requests'] / result['seconds']:,.0f} req/s, spread {result['spread']}",
                file=sys.stderr,
            )
    return bursts


def report(
    spreads: dict[str, dict[str, list[list[int]]]], bursts: dict[str, list[dict]], info: dict, args: argparse.Namespace
) -> tuple[str, bool]:
    lines = [
        f"{info['date']}; {info['cpus']} CPUs ({info['cpu_model']}); Python {info['python']}; {info['versions']}",
        f"{args.workers} workers; load average {info['load_before']} before, {info['load_after']} after",
        "",
        "| server | connections | trials | max share on one worker | trials over 75% | all on one worker | worst trial |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    worst_share = 0.0
    for name, results in spreads.items():
        for label, trials in results.items():
            shares = [t[0] / sum(t) for t in trials]
            over = sum(share > MAX_SHARE for share in shares)
            lines.append(
                f"| {name} | {label} | {len(trials)} | {max(shares):.0%} | {over} | "
                f"{sum(t[0] == sum(t) for t in trials)} | {'/'.join(map(str, max(trials)))} |"
            )
            if name == "churn":
                worst_share = max(worst_share, *shares)

    def rate(name: str) -> float:
        return sum(b["requests"] for b in bursts[name]) / sum(b["seconds"] for b in bursts[name])

    churn, ceiling = rate("churn"), rate("ceiling")
    errors = sum(b["errors"] for b in bursts["churn"])
    lines += [
        "",
        f"1-row throughput, {args.clients} wrk connections, {len(bursts['churn'])} bursts of {args.burst:g} s each, taking turns:",
        "",
        "| server | requests/s | median p99 ms | server CPU µs/request | spread of wrk's connections per burst |",
        "|---|---:|---:|---:|---|",
    ]
    for name, cell in bursts.items():
        cpu = sum(b["cpu_seconds"] for b in cell) / sum(b["requests"] for b in cell)
        lines.append(
            f"| {name} | {rate(name):,.0f} | {statistics.median(b['p99_ms'] for b in cell):.2f} | "
            f"{cpu * 1e6:,.0f} | {', '.join('/'.join(map(str, b['spread'])) for b in cell)} |"
        )
    targets = [
        (f"no trial with more than 75% on one worker: worst {worst_share:.0%}", worst_share <= MAX_SHARE),
        (f"1-row throughput >= 80% of the ceiling: {churn / ceiling:.0%}", churn / ceiling >= MIN_CEILING_SHARE),
        (f"zero errors: {errors}", errors == 0),
    ]
    lines += ["", *(f"- {text}: {'met' if ok else 'MISSED'}" for text, ok in targets)]
    return "\n".join(lines), all(ok for _, ok in targets)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.serving_spread", description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20, help="trials per size and way of opening (default 20)")
    parser.add_argument("--compare", action="store_true", help="also measure the stock and reuse_port references")
    parser.add_argument("--clients", type=int, default=16, help="wrk connections for the throughput bench (default 16)")
    parser.add_argument("--duration", type=float, default=5, help="seconds of wrk load per server (default 5)")
    parser.add_argument("--burst", type=float, default=1, help="seconds per wrk burst (default 1)")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)), help="workers (default: CPUs)")
    parser.add_argument("--model-dir", type=Path, help="a trained model directory (default: train one now)")
    parser.add_argument("--json", type=Path, help="also write every trial and burst here")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed: apt-get install -y wrk")

    with tempfile.TemporaryDirectory(prefix="bench-spread-") as scratch:
        work = Path(scratch)
        model_dir = args.model_dir or build_model(work)
        body = payloads(work)["1 row"]
        script = work / "post.lua"
        script.write_text(WRK_SCRIPT)
        info = machine()
        info["load_before"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        commands = server_commands(args.workers, model_dir)
        spreads: dict[str, dict[str, list[list[int]]]] = {}
        reference_env = {**commands["churn"][1], "PYTHONPATH": os.pathsep.join([str(REPO), str(MODEL_ROOT)])}

        def reference(name: str) -> contextlib.AbstractContextManager[Server]:
            port = free_port()
            return running_server(name, reference_commands(args.workers, model_dir, port)[name], reference_env, work, port)

        with contextlib.ExitStack() as stack:
            servers = [stack.enter_context(running_server(name, *commands[name], work)) for name in ("churn", "ceiling")]
            if args.compare:
                servers.append(stack.enter_context(reference("stock")))
            for server in servers:
                if server.name != "ceiling":
                    spreads[server.name] = spread(server, args.trials)
            bursts = throughput(servers, body, script, args)
        if args.compare:
            with reference("reuse_port") as server:
                spreads["reuse_port"] = spread(server, args.trials)
        info["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())

    text, met = report(spreads, bursts, info, args)
    print(text)
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "spread": spreads, "bursts": bursts}, indent=2) + "\n")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
