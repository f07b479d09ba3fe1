"""A newcomer's first run, timed: fresh clone -> `make demo` -> `make test` (optionally `.ci/run`).

    python -m benchmarks.first_run [--repo .] [--workdir DIR] [--cold-cache] [--skip-test] [--ci] [--json FILE]

Each phase runs in a fresh `git clone` of `--repo` (its committed HEAD, not the work tree), with the
interpreter that runs this script as the venv's base, so nothing of this checkout's ./venv is used:

  demo install   `make venv/.demo-installed`: the venv, uv, and requirements/demo.txt
  demo run       `make demo`: the rehearsal (the venv is ready by then)
  test install   `make venv/.test-installed`: requirements/test.txt on top
  test run       `make test`: the whole suite on parallel workers
  ci             `CI=true bash .ci/run` in a second fresh clone (with --ci; root only, it runs apt-get)

uv keeps a download cache (~/.cache/uv): by default the installs use it, as a developer's second
clone would. `--cold-cache` points uv at an empty cache, so every wheel is downloaded: a first
install on a new machine. Each phase records wall seconds, the CPU seconds of its process tree and
the 1-minute load average before and after, because the machine may be shared: compare runs only
at a similar load (a quiet machine has a load under ~1 on 2 CPUs).

Standard library only, so it runs before any venv exists. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What docs/measurements.md promises a newcomer (issue: "a first run in two minutes").
TARGETS_S = {"demo install + demo run": 120.0, "test run": 180.0, "ci": 360.0}


@dataclass
class Phase:
    name: str
    command: str
    wall_s: float
    cpu_s: float
    load_before: float
    load_after: float
    exit_code: int
    last_lines: list[str] = field(default_factory=list)


def load_average() -> float:
    return os.getloadavg()[0]


def machine() -> dict[str, object]:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "host": platform.node(),
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
    }


def run_phase(name: str, command: list[str], cwd: Path, env: dict[str, str], log: Path) -> Phase:
    print(f"--- {name}: {' '.join(command)}  (load {load_average():.2f})", flush=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = load_average()
    start = time.monotonic()
    with log.open("wb") as out:
        code = subprocess.run(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL).returncode
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    tail = [line for line in log.read_text(errors="replace").splitlines() if line.strip()][-3:]
    phase = Phase(name, " ".join(command), round(wall, 1), round(cpu, 1), round(load_before, 2), round(load_average(), 2), code, tail)
    print(f"    {wall:.1f} s wall, {cpu:.1f} CPU-s, exit {code}; log: {log}", flush=True)
    for line in tail:
        print(f"    | {line}", flush=True)
    return phase


def fresh_clone(repo: Path, into: Path) -> None:
    subprocess.run(["git", "clone", "-q", str(repo), str(into)], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, default=ROOT, help="repository to clone (default: this checkout's)")
    parser.add_argument("--workdir", type=Path, help="where to clone (default: a new temporary directory, removed at the end)")
    parser.add_argument("--cold-cache", action="store_true", help="give uv an empty cache: every package is downloaded")
    parser.add_argument("--skip-test", action="store_true", help="time the demo only")
    parser.add_argument("--ci", action="store_true", help="also time `CI=true bash .ci/run` in a second fresh clone")
    parser.add_argument("--json", type=Path, help="write the results there as JSON")
    args = parser.parse_args(argv)

    work = args.workdir or Path(tempfile.mkdtemp(prefix="first-run-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PYTHON"] = sys.executable
    if args.cold_cache:
        env["UV_CACHE_DIR"] = str(work / "uv-cache")
    commit = subprocess.run(["git", "-C", str(args.repo), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    clone = work / "clone"
    shutil.rmtree(clone, ignore_errors=True)
    fresh_clone(args.repo, clone)

    phases = [
        run_phase("demo install", ["make", "venv/.demo-installed", f"PYTHON={sys.executable}"], clone, env, work / "demo-install.log"),
        run_phase("demo run", ["make", "demo"], clone, env, work / "demo-run.log"),
    ]
    if not args.skip_test:
        phases.append(run_phase("test install", ["make", "venv/.test-installed"], clone, env, work / "test-install.log"))
        phases.append(run_phase("test run", ["make", "test"], clone, env, work / "test-run.log"))
    if args.ci:
        ci_clone = work / "ci-clone"
        shutil.rmtree(ci_clone, ignore_errors=True)
        fresh_clone(args.repo, ci_clone)
        phases.append(run_phase("ci", ["bash", ".ci/run"], ci_clone, {**env, "CI": "true"}, work / "ci.log"))

    by_name = {p.name: p for p in phases}
    totals = {"demo install + demo run": by_name["demo install"].wall_s + by_name["demo run"].wall_s}
    if "test run" in by_name:
        totals["test run"] = by_name["test run"].wall_s
    if "ci" in by_name:
        totals["ci"] = by_name["ci"].wall_s
    result = {
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python -m benchmarks.first_run " + " ".join(argv if argv is not None else sys.argv[1:]),
        "commit": commit,
        "uv_cache": "cold (empty UV_CACHE_DIR)" if args.cold_cache else "warm (the user's uv cache)",
        "machine": machine(),
        "phases": [asdict(p) for p in phases],
        "totals_s": {k: round(v, 1) for k, v in totals.items()},
        "targets_s": {k: v for k, v in TARGETS_S.items() if k in totals},
    }
    print(json.dumps({k: result[k] for k in ("date_utc", "commit", "uv_cache", "machine", "totals_s", "targets_s")}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if all(p.exit_code == 0 for p in phases) else 1


if __name__ == "__main__":
    sys.exit(main())
