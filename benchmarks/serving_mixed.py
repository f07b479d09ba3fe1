"""What malformed and very large bodies cost the model server, and what they do to the latency of
the 1-row requests sharing its workers.

    apt-get install -y wrk
    venv/bin/python -m benchmarks.serving_mixed [--repeat 10] [--duration 10] [--burst 2] [--json FILE]

Refusal cost: over one keep-alive connection to `serve`, each body is sent `--repeat` times and
timed from the first byte sent to the last byte of the answer (loopback transfer included), with
the server's CPU time per request from /proc: a just-under-6 MiB body holding one line of three
million values, a 1 MiB line of values, and for scale the largest valid batch (just under 6 MiB
of real rows) and a 1-row request.

Longest step: the same large bodies through the app in-process, with a ticker task measuring the
longest time the app keeps the event loop to itself (what a request on another connection of the
same worker can wait, CPU contention aside).

Mixed load: wrk's 1-row bench (16 keep-alive connections) for `--duration` seconds in all, in
`--burst`-second bursts that take turns between four mixes, so that the machine's other load
falls on all alike (p99 is the median of the bursts'): alone; with a second client sending 1 MiB
one-line garbage bodies on two keep-alive connections at `--garbage-rate` per second (default 30:
about 0.2% of the requests); the control, that client sending the same to another server (the
ceiling of benchmarks/serving.py) on the same machine; and that client sending just-under-6 MiB
valid batches at `--batch-rate` per second (default 1) to `serve`. The p99 of the 1-row requests is wrk's.
Targets: the 6 MiB garbage line refused in <= 50 ms (median); 1-row p99 <= 25 ms under the
garbage mix. Exit code 0 when both are met. Only 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import http.client
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.serving import (
    MODEL_ROOT,
    WRK_SCRIPT,
    Server,
    build_model,
    machine,
    payloads,
    run_wrk,
    running_server,
    server_commands,
    tree_cpu_seconds,
)

MAX_BODY = 6 * 1024 * 1024
GARBAGE_6MB = b",".join([b"1"] * 3_000_000)  # 5.7 MiB: one line, three million values
GARBAGE_1MB = b",".join([b"1.5"] * 262_144)  # 1 MiB: one line
TARGET_REFUSAL_MS = 50.0
TARGET_P99_MS = 25.0


def largest_valid_batch(row_file: Path) -> bytes:
    rows = row_file.read_bytes().splitlines(keepends=True)
    body = b"".join(rows)
    body = body * (MAX_BODY // len(body))
    cut = body.rfind(b"\n", 0, MAX_BODY - 1) + 1
    return body[:cut]


def post(connection: http.client.HTTPConnection, body: bytes) -> tuple[int, float]:
    started = time.perf_counter()
    connection.request("POST", "/invocations", body=body, headers={"Content-Type": "text/csv"})
    response = connection.getresponse()
    response.read()
    return response.status, (time.perf_counter() - started) * 1000


def refusal_costs(server: Server, bodies: dict[str, bytes], repeat: int) -> dict[str, dict[str, object]]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    results = {}
    try:
        for name, body in bodies.items():
            post(connection, body)  # warm-up, discarded
            cpu_before = tree_cpu_seconds(server.pid)
            timings = [post(connection, body) for _ in range(repeat)]
            cpu_ms = (tree_cpu_seconds(server.pid) - cpu_before) / repeat * 1000
            results[name] = {
                "bytes": len(body),
                "status": sorted({s for s, _ in timings}),
                "median_ms": statistics.median(t for _, t in timings),
                "max_ms": max(t for _, t in timings),
                "server_cpu_ms": cpu_ms,
            }
            print(f"[refusal] {name}: {results[name]}", file=sys.stderr)
    finally:
        connection.close()
    return results


def longest_steps(model_dir: Path, bodies: dict[str, tuple[bytes, str]], repeat: int) -> dict[str, dict[str, float]]:
    """The longest time the app keeps its event loop to itself while answering one request: the
    wait a request on another connection of the same worker can suffer (in-process, real app and
    model; a ticker task records the gaps between its turns)."""
    sys.path.insert(0, str(MODEL_ROOT))
    from churn.app import InferenceApp

    app = InferenceApp(model_dir, request_timeout=60)
    app._load()
    gc.collect()
    gc.freeze()  # as the server does once the model is loaded (churn.app, lifespan)

    async def once(body: bytes, content_type: str) -> tuple[float, float, int]:
        gaps: list[float] = []
        statuses: list[int] = []
        finished = asyncio.Event()

        async def ticker() -> None:
            last = time.perf_counter()
            while not finished.is_set():
                await asyncio.sleep(0)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(int(message["status"]))

        scope = {"type": "http", "path": "/invocations", "method": "POST", "headers": [(b"content-type", content_type.encode())]}
        task = asyncio.create_task(ticker())
        await asyncio.sleep(0)  # the ticker is running before the request starts
        started = time.perf_counter()
        await app(scope, receive, send)
        total = time.perf_counter() - started
        await asyncio.sleep(0)  # the ticker's turn: it records the step that ended the request
        finished.set()
        await task
        return max(gaps), total, statuses[0]

    results = {}
    for name, (body, content_type) in bodies.items():
        runs = [asyncio.run(once(body, content_type)) for _ in range(repeat)]
        results[name] = {
            "status": runs[0][2],
            "longest_step_ms": statistics.median(r[0] for r in runs) * 1000,
            "longest_step_max_ms": max(r[0] for r in runs) * 1000,
            "request_ms": statistics.median(r[1] for r in runs) * 1000,
        }
        print(f"[steps] {name}: {results[name]}", file=sys.stderr)
    return results


class Interloper(threading.Thread):
    """Sends `body` at `rate` per second, alternating between two keep-alive connections."""

    def __init__(self, port: int, body: bytes, rate: float, seconds: float) -> None:
        super().__init__(daemon=True)
        self.port, self.body, self.rate, self.seconds = port, body, rate, seconds
        self.timings: list[tuple[int, float]] = []

    def run(self) -> None:
        connections = [http.client.HTTPConnection("127.0.0.1", self.port, timeout=60) for _ in range(2)]
        try:
            start = time.monotonic()
            for index in range(int(self.rate * self.seconds)):
                time.sleep(max(0.0, start + index / self.rate - time.monotonic()))
                self.timings.append(post(connections[index % 2], self.body))
        finally:
            for connection in connections:
                connection.close()


def mixed(
    server: Server, row_file: Path, script: Path, interloper: tuple[bytes, float, int] | None, args: argparse.Namespace
) -> dict[str, object]:
    """One burst of the 1-row load, with or without the interloper (body, rate, port)."""
    thread = None
    if interloper is not None:
        thread = Interloper(interloper[2], interloper[0], interloper[1], args.burst)
        thread.start()
        time.sleep(0.2)  # its connections are open and placed
    result = run_wrk(server, row_file, script, args.clients, args.burst)
    if thread is not None:
        thread.join(timeout=args.burst + 120)
    return {
        "requests": result["requests"],
        "seconds": result["duration_us"] / 1e6,
        "p50_ms": result["p50_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "errors": sum(result[k] for k in ("connect", "read", "write", "status", "timeout")),
        "interloper": thread.timings if thread else [],
    }


def summarize(bursts: list[dict[str, object]]) -> dict[str, object]:
    side = [timing for burst in bursts for timing in burst["interloper"]]
    return {
        "requests_per_second": sum(b["requests"] for b in bursts) / sum(b["seconds"] for b in bursts),
        "p50_ms": statistics.median(b["p50_ms"] for b in bursts),
        "p99_ms": statistics.median(b["p99_ms"] for b in bursts),
        "p99_per_burst_ms": [b["p99_ms"] for b in bursts],
        "errors": sum(b["errors"] for b in bursts),
        "interloper_requests": len(side),
        "interloper_statuses": sorted({s for s, _ in side}),
        "interloper_median_ms": statistics.median(t for _, t in side) if side else None,
    }


def report(refusals: dict, steps: dict, mixes: dict, info: dict, args: argparse.Namespace) -> tuple[str, bool]:
    lines = [
        f"{info['date']}; {info['cpus']} CPUs ({info['cpu_model']}); Python {info['python']}; {info['versions']}",
        f"{args.workers} workers; load average {info['load_before']} before, {info['load_after']} after",
        "",
        f"| body | bytes | status | median ms | max ms | server CPU ms/request |  ({args.repeat} each, one keep-alive connection)",
        "|---|---:|---|---:|---:|---:|",
    ]
    for name, r in refusals.items():
        lines.append(
            f"| {name} | {r['bytes']:,} | {'/'.join(map(str, r['status']))} | {r['median_ms']:.1f} | "
            f"{r['max_ms']:.1f} | {r['server_cpu_ms']:.1f} |"
        )
    lines += [
        "",
        f"| one request, in-process ({args.repeat} each) | status | longest event-loop step, median ms | max ms | whole request ms |",
        "|---|---|---:|---:|---:|",
    ]
    for name, r in steps.items():
        lines.append(f"| {name} | {r['status']} | {r['longest_step_ms']:.1f} | {r['longest_step_max_ms']:.1f} | {r['request_ms']:.0f} |")
    lines += [
        "",
        (
            f"| 1-row load ({args.clients} wrk connections, {args.duration:g} s in {args.burst:g} s bursts) | with "
            "| requests/s | median p50 ms | median p99 ms | p99 per burst | errors | other requests (status, median ms) |"
        ),
        "|---|---|---:|---:|---:|---|---:|---|",
    ]
    for name, m in mixes.items():
        other = (
            f"{m['interloper_requests']} ({'/'.join(map(str, m['interloper_statuses']))}, {m['interloper_median_ms']:.1f})"
            if m["interloper_requests"]
            else ""
        )
        per_burst = ", ".join(f"{p:.1f}" for p in m["p99_per_burst_ms"])
        lines.append(
            f"| 1 row | {name} | {m['requests_per_second']:,.0f} | {m['p50_ms']:.2f} | {m['p99_ms']:.2f} | "
            f"{per_burst} | {m['errors']} | {other} |"
        )
    refusal = refusals["6 MiB garbage line"]["median_ms"]
    p99 = mixes[f"1 MiB garbage lines, {args.garbage_rate:g}/s"]["p99_ms"]
    targets = [
        (f"6 MiB garbage line refused in <= 50 ms: {refusal:.1f} ms", refusal <= TARGET_REFUSAL_MS),
        (f"1-row p99 <= 25 ms with 1 MiB garbage lines: {p99:.2f} ms", p99 <= TARGET_P99_MS),
    ]
    lines += ["", *(f"- {text}: {'met' if ok else 'MISSED'}" for text, ok in targets)]
    return "\n".join(lines), all(ok for _, ok in targets)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.serving_mixed", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="timed requests per body (default 10)")
    parser.add_argument("--duration", type=float, default=10, help="seconds of each mixed load (default 10)")
    parser.add_argument("--burst", type=float, default=2, help="seconds per burst; the mixes take turns (default 2)")
    parser.add_argument("--clients", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--garbage-rate", type=float, default=30, help="1 MiB garbage bodies per second (default 30)")
    parser.add_argument("--batch-rate", type=float, default=1, help="6 MiB valid batches per second (default 1)")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)), help="workers (default: CPUs)")
    parser.add_argument("--model-dir", type=Path, help="a trained model directory (default: train one now)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed: apt-get install -y wrk")

    with tempfile.TemporaryDirectory(prefix="bench-mixed-") as scratch:
        work = Path(scratch)
        model_dir = args.model_dir or build_model(work)
        files = payloads(work)
        batch = largest_valid_batch(files["500 rows"])
        script = work / "post.lua"
        script.write_text(WRK_SCRIPT)
        info = machine()
        info["load_before"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        json_batch = json.dumps({"instances": [[float(v) for v in line.split(b",")] for line in batch.splitlines()]}).encode()[:MAX_BODY]
        json_batch = json_batch[: json_batch.rfind(b"],") + 1] + b"]}"  # whole instances, under 6 MiB
        steps = longest_steps(
            model_dir,
            {
                "largest valid CSV batch": (batch, "text/csv"),
                "largest valid JSON batch": (json_batch, "application/json"),
                "6 MiB garbage line": (GARBAGE_6MB, "text/csv"),
            },
            args.repeat,
        )
        commands = server_commands(args.workers, model_dir)
        with (
            running_server("churn", *commands["churn"], work) as server,
            running_server("ceiling", *commands["ceiling"], work) as elsewhere,
        ):
            refusals = refusal_costs(
                server,
                {
                    "6 MiB garbage line": GARBAGE_6MB,
                    "1 MiB garbage line": GARBAGE_1MB,
                    "largest valid batch": batch,
                    "1 row": files["1 row"].read_bytes(),
                },
                args.repeat,
            )
            garbage = f"1 MiB garbage lines, {args.garbage_rate:g}/s"
            kinds = {
                "nothing else": None,
                garbage: (GARBAGE_1MB, args.garbage_rate, server.port),
                # The control: the same client and bytes on the same machine, sent to another
                # server, so that what is left for `serve` is the machine's load alone.
                f"{garbage}, sent to another server": (GARBAGE_1MB, args.garbage_rate, elsewhere.port),
                f"6 MiB valid batches, {args.batch_rate:g}/s": (batch, args.batch_rate, server.port),
            }
            bursts: dict[str, list[dict[str, object]]] = {name: [] for name in kinds}
            names = list(kinds)
            # Short bursts taking turns, so that the machine's other load falls on all three alike.
            for index in range(max(1, round(args.duration / args.burst))):
                for name in names[index % len(names) :] + names[: index % len(names)]:
                    bursts[name].append(mixed(server, files["1 row"], script, kinds[name], args))
                    print(f"[mixed] {name} #{index + 1}: p99 {bursts[name][-1]['p99_ms']:.2f} ms", file=sys.stderr)
            mixes = {name: summarize(runs) for name, runs in bursts.items()}
        info["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())

    text, met = report(refusals, steps, mixes, info, args)
    print(text)
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "refusals": refusals, "steps": steps, "mixed": mixes}, indent=2) + "\n")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
