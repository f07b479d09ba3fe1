"""What a model-server worker pays to boot: CPU seconds and memory of its imports.

    venv/bin/python -m benchmarks.serving_worker_boot [--runs 7]

Each run is a fresh interpreter that imports what a worker imports after gunicorn forks it
(churn.serve, then churn.app, which imports lightgbm), as `serve` starts it (`kept out`: with
churn.serve.keep_training_libraries_out applied) or without that step (`imported`: lightgbm then
imports scikit-learn and pandas, which the image installs for training). Reports the median CPU
seconds (user + system, the interpreter's start included) and the median peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

MODEL_ROOT = Path(__file__).resolve().parents[1] / "containers" / "model"

WORKER_IMPORTS = """
import json, resource, sys
import churn.serve
if sys.argv[1] == "kept out":
    churn.serve.keep_training_libraries_out()
import churn.app
usage = resource.getrusage(resource.RUSAGE_SELF)
loaded = sorted(name for name in ("sklearn", "pandas") if sys.modules.get(name) is not None)
print(json.dumps({"cpu": usage.ru_utime + usage.ru_stime, "rss_mib": usage.ru_maxrss / 1024, "loaded": loaded}))
"""


def boot(mode: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", WORKER_IMPORTS, mode], cwd=MODEL_ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    print(
        f"{platform.machine()} {platform.processor() or ''} Python {platform.python_version()}, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
    )
    for mode in ("imported", "kept out"):
        boot(mode)  # warm the page cache and the bytecode cache
        runs = [boot(mode) for _ in range(args.runs)]
        cpu = statistics.median(r["cpu"] for r in runs)
        rss = statistics.median(r["rss_mib"] for r in runs)
        print(
            f"{mode:9s}: {cpu:.2f} CPU-s, peak RSS {rss:.0f} MiB (median of {args.runs}); loaded: {', '.join(runs[0]['loaded']) or 'neither'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
