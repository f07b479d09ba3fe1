"""A deterministic generator for a realistic customer-churn table, and a drifted variant.

The label follows a known, non-linear and noisy rule (short month-to-month contracts, many service
calls and high charges churn; autopay and long tenure retain) so a model can learn it but not
perfectly. The drifted variant keeps the schema and the rule but moves the feature distributions
(price rise, more complaints, shorter tenures, a different plan/contract mix): what Model Monitor's
data-quality check is meant to notice.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from churn.schema import LABEL, RAW_COLUMNS

DEFAULT_ROWS = 5000
DEFAULT_SEED = 42


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def generate(n_rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED, drifted: bool = False) -> pd.DataFrame:
    """Return `n_rows` raw rows (columns `RAW_COLUMNS`); the same arguments give the same table."""
    if n_rows < 1:
        raise ValueError(f"n_rows must be at least 1, got {n_rows}")
    rng = np.random.default_rng(seed)
    n = n_rows

    contract_p = [0.65, 0.2, 0.15] if drifted else [0.5, 0.25, 0.25]
    contract = rng.choice(["month-to-month", "one-year", "two-year"], size=n, p=contract_p)
    m2m = contract == "month-to-month"
    two_year = contract == "two-year"
    tenure_scale = 10.0 if drifted else 18.0
    tenure = np.where(
        m2m,
        rng.exponential(tenure_scale, n),
        np.where(two_year, rng.uniform(12, 72, n), rng.uniform(4, 60, n)),
    )
    tenure = np.clip(np.round(tenure), 0, 72).astype(int)

    plan_p = [0.3, 0.4, 0.3] if drifted else [0.4, 0.4, 0.2]
    plan = rng.choice(["basic", "standard", "premium"], size=n, p=plan_p)
    plan_idx = np.select([plan == "basic", plan == "standard"], [0, 1], 2)

    minutes_mean = np.array([250.0, 420.0, 600.0])[plan_idx] * (1.2 if drifted else 1.0)
    minutes_sd = np.array([80.0, 110.0, 150.0])[plan_idx]
    minutes = np.clip(rng.normal(minutes_mean, minutes_sd), 0, None).round(1)
    data_gb = (rng.lognormal(np.log([3.0, 10.0, 25.0])[plan_idx], 0.5)).round(2)

    intl = rng.random(n) < (0.2 if drifted else 0.1)
    autopay = rng.random(n) < np.where(m2m, 0.35 if drifted else 0.45, 0.7)

    base_fee = np.array([20.0, 45.0, 80.0])[plan_idx]
    charges = base_fee + 0.02 * minutes + 0.5 * data_gb + 10.0 * intl + rng.normal(0, 3, n)
    charges = np.clip(charges * (1.15 if drifted else 1.0), 5, None).round(2)
    total = (charges * tenure * rng.uniform(0.9, 1.05, n)).round(2)

    calls = rng.poisson(np.where(plan_idx == 0, 1.7, 1.2) + (1.0 if drifted else 0.0))

    z = (
        -1.6
        + 1.5 * m2m
        - 0.7 * two_year
        - 0.045 * tenure
        + 0.8 * np.maximum(calls - 2, 0)
        + 0.025 * (charges - 55.0)
        + 1.0 * (intl & (minutes > 500))
        - 0.5 * autopay
        + rng.normal(0, 0.4, n)  # what no feature explains: keeps the AUC well short of 1
    )
    label = (rng.random(n) < _sigmoid(z)).astype(int)

    frame = pd.DataFrame(
        {
            "tenure_months": tenure,
            "plan": plan,
            "contract": contract,
            "monthly_minutes": minutes,
            "data_gb": data_gb,
            "monthly_charges": charges,
            "total_charges": total,
            "service_calls": calls.astype(int),
            "international_plan": np.where(intl, "yes", "no"),
            "autopay": np.where(autopay, "yes", "no"),
            LABEL: label,
        }
    )
    return frame[list(RAW_COLUMNS)]


def write_csv(path: str | Path, n_rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED, drifted: bool = False) -> Path:
    """Generate a table and write it as CSV with a header; return the path written."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    generate(n_rows, seed, drifted).to_csv(target, index=False)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="generate-data", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="number of rows (default %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default %(default)s)")
    parser.add_argument("--drifted", action="store_true", help="shifted distributions, same schema")
    parser.add_argument("--output", "-o", default="-", help="CSV file to write, '-' for stdout (default)")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    if args.output == "-":
        generate(args.rows, args.seed, args.drifted).to_csv(sys.stdout, index=False)
    else:
        print(write_csv(args.output, args.rows, args.seed, args.drifted), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
