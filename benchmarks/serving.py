"""Throughput and latency of the model server against two references on the same machine and model.

    apt-get install -y wrk        # the load generator (C, keep-alive, little CPU per request)
    venv/bin/python -m benchmarks.serving [--clients 16] [--duration 10] [--burst 1] [--json FILE]

Three servers run side by side, each its own process tree with the same worker count:

* churn     the model container's `serve`: gunicorn + uvicorn workers (uvloop, httptools), bare ASGI;
* flask     the conventional baseline: Flask behind gunicorn sync workers, pandas.read_csv parsing;
* ceiling   the churn stack answering a constant after reading the body: the most this stack can do.

Each is loaded by N concurrent keep-alive wrk connections with a 1-row and a 500-row CSV (rows of
real encoded features, JSON answer) for T seconds in all, in short bursts that take turns (churn,
flask, ceiling, then the next burst in rotated order), so that whatever else runs on the machine
falls on the three alike. Throughput is total requests over total time (the targets are judged on
it); p50/p99 are the median of the bursts' percentiles. The churn/ceiling ratio is also shown per
set of back-to-back bursts, to show the spread a shared machine causes, and as a ratio of server
CPU time per request (from /proc), which other load barely moves.

Targets (1 row): churn >= 3x flask's throughput at no worse p99, and >= 80% of the ceiling; the
exit code is 0 when they are met. Without --model-dir a model is trained first (a few seconds).
Only 127.0.0.1 is contacted; every server is stopped at the end, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODEL_ROOT = REPO / "containers" / "model"
if str(MODEL_ROOT) not in sys.path:
    sys.path.insert(0, str(MODEL_ROOT))

SERVERS = ("churn", "flask", "ceiling")
BATCH_ROWS = 500
START_TIMEOUT = 60.0

# wrk reports through this hook: exact percentiles (µs) and error counts as one JSON line.
WRK_SCRIPT = """
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "text/csv"
wrk.headers["Accept"] = "application/json"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


@dataclass(frozen=True)
class Burst:
    server: str
    payload: str
    index: int  # which set of back-to-back bursts this one belongs to
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_seconds: float  # spent by the server's processes during the burst
    errors: dict[str, int]

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds


@dataclass(frozen=True)
class Server:
    name: str
    port: int
    pid: int


# --- processes -----------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and all its descendants (Linux /proc)."""
    total, pending, tick = 0.0, [pid], os.sysconf("SC_CLK_TCK")
    while pending:
        current = pending.pop()
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        pending += _children(current)
    return total


def established_per_worker(master_pid: int, port: int) -> dict[int, int]:
    """How many established TCP connections on `port` each worker (child process) of a server
    holds, from /proc/net/tcp{,6} (socket inodes by local port and state) and /proc/<pid>/fd."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":  # 01: ESTABLISHED
                    inodes.add(fields[9])
    counts = {}
    for pid in sorted(_children(master_pid)):
        held = 0
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    held += target.startswith("socket:[") and target[8:-1] in inodes
        counts[pid] = held
    return counts


@contextlib.contextmanager
def running_server(name: str, command: list[str], env: dict[str, str], log_dir: Path, port: int | None = None) -> Iterator[Server]:
    """Start a gunicorn-based server on `port`, or on a free port (port 0: gunicorn logs the one
    it got)."""
    log_path = log_dir / f"{name}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        try:
            port = port or _wait_for_port(process, log_path)
            _wait_for_ping(process, port, log_path)
            yield Server(name, port, process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for_port(process: subprocess.Popen, log_path: Path) -> int:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log_path.read_text())
        if match:
            return int(match.group(1))
        time.sleep(0.05)
    raise RuntimeError(f"server did not start; log:\n{log_path.read_text()}")


def _wait_for_ping(process: subprocess.Popen, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:  # refused, reset, or no worker has accepted yet (timeout): still booting
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server never became healthy; log:\n{log_path.read_text()}")


def server_commands(workers: int, model_dir: Path) -> dict[str, tuple[list[str], dict[str, str]]]:
    py = sys.executable
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SM_", "SAGEMAKER_"))}
    pythonpath = os.pathsep.join([str(REPO), str(MODEL_ROOT)])
    gunicorn = [
        py,
        "-m",
        "gunicorn",
        "--bind",
        "127.0.0.1:0",
        "--workers",
        str(workers),
        "--no-control-socket",
        "--log-level",
        "info",
        "--timeout",
        "60",
    ]
    return {
        "churn": (
            [py, str(MODEL_ROOT / "bin" / "serve"), "--host", "127.0.0.1", "--port", "0", "--workers", str(workers)],
            {**base, "SM_MODEL_DIR": str(model_dir)},
        ),
        "flask": (
            [*gunicorn, "--worker-class", "sync", "benchmarks.serving_flask:app"],
            {**base, "CHURN_MODEL_DIR": str(model_dir), "PYTHONPATH": pythonpath},
        ),
        "ceiling": (
            [*gunicorn, "--worker-class", "churn.serve.Worker", "--keep-alive", "75", "benchmarks.serving_constant:app"],
            {**base, "PYTHONPATH": pythonpath},
        ),
    }


# --- load ----------------------------------------------------------------------------------------


def post(port: int, body: bytes) -> list[float]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations",
        data=body,
        headers={"Content-Type": "text/csv", "Accept": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return [p["churn_probability"] for p in json.loads(response.read())["predictions"]]


def check_answers(servers: list[Server], bodies: dict[str, Path]) -> None:
    """The two model servers must give the same probabilities (the ceiling answers a constant)."""
    for payload, body_file in bodies.items():
        churn, flask = (post(s.port, body_file.read_bytes()) for s in servers if s.name in ("churn", "flask"))
        if len(churn) != len(flask) or max(abs(a - b) for a, b in zip(churn, flask)) > 1e-9:
            raise RuntimeError(f"churn and flask answer differently for {payload}")


def run_wrk(server: Server, body_file: Path, script: Path, clients: int, seconds: float) -> dict[str, int]:
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
    env = {**os.environ, "BENCH_BODY": str(body_file)}
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    match = re.search(r"^RESULT (\{.*\})$", output, re.MULTILINE)
    if not match:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return json.loads(match.group(1))


def burst(server: Server, payload: str, index: int, body_file: Path, script: Path, args: argparse.Namespace) -> Burst:
    cpu_before = tree_cpu_seconds(server.pid)
    raw = run_wrk(server, body_file, script, args.clients, args.burst)
    cpu = tree_cpu_seconds(server.pid) - cpu_before
    return Burst(
        server=server.name,
        payload=payload,
        index=index,
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        cpu_seconds=cpu,
        errors={k: raw[k] for k in ("connect", "read", "write", "status", "timeout") if raw[k]},
    )


# --- setup ---------------------------------------------------------------------------------------


def build_model(work: Path) -> Path:
    from churn.data import write_csv
    from churn.hyperparameters import Hyperparameters
    from churn.preprocess import preprocess
    from churn.train import train

    processing = work / "processing"
    write_csv(processing / "input" / "raw.csv", 5000, 42)
    preprocess(processing / "input", processing / "train", processing / "validation", processing / "test", processing / "baseline")
    with contextlib.redirect_stdout(sys.stderr):
        train(processing / "train", processing / "validation", work / "model", Hyperparameters())
    return work / "model"


def payloads(work: Path) -> dict[str, Path]:
    """1-row and 500-row CSV bodies: real encoded feature rows, as a client sends them."""
    from churn.data import generate
    from churn.schema import encode, validate

    features = encode(validate(generate(BATCH_ROWS, seed=7).astype(str)))
    files = {}
    for name, rows in (("1 row", features.iloc[:1]), (f"{BATCH_ROWS} rows", features)):
        path = work / f"body-{len(rows)}.csv"
        rows.to_csv(path, header=False, index=False)
        files[name] = path
    return files


def machine() -> dict[str, object]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    import gunicorn
    import lightgbm
    import uvicorn

    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "python": platform.python_version(),
        "versions": f"gunicorn {gunicorn.__version__}, uvicorn {uvicorn.__version__}, lightgbm {lightgbm.__version__}",
    }


# --- report --------------------------------------------------------------------------------------


def _throughput(bursts: list[Burst]) -> float:
    return sum(b.requests for b in bursts) / sum(b.seconds for b in bursts)


def _cpu_per_request(bursts: list[Burst]) -> float:
    return sum(b.cpu_seconds for b in bursts) / sum(b.requests for b in bursts)


def report(bursts: list[Burst], info: dict[str, object], args: argparse.Namespace) -> tuple[str, bool]:
    cells: dict[tuple[str, str], list[Burst]] = {}
    for b in bursts:
        cells.setdefault((b.server, b.payload), []).append(b)
    payload_names = sorted({b.payload for b in bursts}, key=lambda p: int(p.split()[0]))
    sets = len(cells[("churn", payload_names[0])])
    lines = [
        f"{info['date']}; {info['cpus']} CPUs ({info['cpu_model']}); Python {info['python']}; {info['versions']}",
        f"{args.clients} keep-alive clients (wrk, 1 thread); {sets} bursts of {args.burst:g} s per server and payload, "
        f"taking turns, after a warm-up burst; {args.workers} workers per server; "
        f"load average {info['load_before']} before, {info['load_after']} after",
        "",
        "| payload | server | requests/s | p50 ms | p99 ms | server CPU µs/request | errors |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for payload in payload_names:
        for server in SERVERS:
            cell = cells[(server, payload)]
            errors = sum(sum(b.errors.values()) for b in cell)
            kinds = sorted({k for b in cell for k in b.errors})
            lines.append(
                f"| {payload} | {server} | {_throughput(cell):,.0f} | "
                f"{statistics.median(b.p50_ms for b in cell):.2f} | {statistics.median(b.p99_ms for b in cell):.2f} | "
                f"{_cpu_per_request(cell) * 1e6:,.0f} | {errors}{' (' + ', '.join(kinds) + ')' if errors else ''} |"
            )
    lines += [
        "",
        "| payload | churn / flask throughput | churn p99 / flask p99 | churn / ceiling throughput "
        "| same, per set: median (range) | ceiling CPU / churn CPU per request |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    targets: list[tuple[str, bool]] = []
    for payload in payload_names:
        churn, flask, ceiling = (cells[(s, payload)] for s in SERVERS)
        speedup = _throughput(churn) / _throughput(flask)
        p99_ratio = statistics.median(b.p99_ms for b in churn) / statistics.median(b.p99_ms for b in flask)
        share = _throughput(churn) / _throughput(ceiling)
        shares = [c.requests_per_second / t.requests_per_second for c, t in zip(churn, ceiling)]
        cpu_share = _cpu_per_request(ceiling) / _cpu_per_request(churn)
        lines.append(
            f"| {payload} | {speedup:.1f}x | {p99_ratio:.2f} | {share:.0%} | "
            f"{statistics.median(shares):.0%} ({min(shares):.0%}–{max(shares):.0%}) | {cpu_share:.0%} |"
        )
        if payload == "1 row":
            errors = sum(sum(b.errors.values()) for b in churn)
            targets = [
                (f"throughput >= 3x flask: {speedup:.1f}x", speedup >= 3.0),
                (f"p99 no worse than flask: {p99_ratio:.2f} of flask's", p99_ratio <= 1.0),
                (f">= 80% of the ceiling's throughput: {share:.0%}", share >= 0.8),
                (f"zero errors: {errors}", errors == 0),
            ]
    lines.append("")
    lines += [f"- 1 row, {text}: {'met' if ok else 'MISSED'}" for text, ok in targets]
    return "\n".join(lines), all(ok for _, ok in targets)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.serving", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent keep-alive connections (default 16)")
    parser.add_argument("--duration", type=float, default=10, help="seconds of load per server and payload, in bursts (default 10)")
    parser.add_argument("--burst", type=float, default=1, help="seconds per burst (default 1)")
    parser.add_argument("--warmup", type=float, default=1, help="seconds of the discarded first burst (default 1)")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)), help="workers per server (default: CPUs)")
    parser.add_argument("--model-dir", type=Path, help="a trained model directory (default: train one now)")
    parser.add_argument("--json", type=Path, help="also write every burst here")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed: apt-get install -y wrk")
    sets = max(1, round(args.duration / args.burst))

    with tempfile.TemporaryDirectory(prefix="bench-serving-") as scratch, contextlib.ExitStack() as stack:
        work = Path(scratch)
        model_dir = args.model_dir or build_model(work)
        bodies = payloads(work)
        script = work / "post.lua"
        script.write_text(WRK_SCRIPT)
        info = machine()
        servers = []
        for name, (command, env) in server_commands(args.workers, model_dir).items():
            print(f"[{name}] starting", file=sys.stderr)
            servers.append(stack.enter_context(running_server(name, command, env, work)))
        check_answers(servers, bodies)

        info["load_before"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        bursts: list[Burst] = []
        for payload, body_file in bodies.items():
            for server in servers:
                run_wrk(server, body_file, script, args.clients, args.warmup)
            for index in range(sets):
                order = servers[index % len(servers) :] + servers[: index % len(servers)]
                for server in order:
                    result = burst(server, payload, index, body_file, script, args)
                    bursts.append(result)
                    print(
                        f"[{server.name}] {payload} #{index + 1}: {result.requests_per_second:,.0f} req/s, p99 {result.p99_ms:.2f} ms",
                        file=sys.stderr,
                    )
        info["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())

    text, met = report(bursts, info, args)
    print(text)
    if args.json:
        records = [asdict(b) | {"requests_per_second": b.requests_per_second} for b in bursts]
        args.json.write_text(json.dumps({"machine": info, "bursts": records}, indent=2) + "\n")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
