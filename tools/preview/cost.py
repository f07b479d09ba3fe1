"""The cost estimate the policy pack states in its findings, parsed back into data for the offline
preview's report and JSON (`costEstimate`)."""

from __future__ import annotations

import re
from typing import Any, Optional

# The pack's cost guardrail states the estimate in its violation or, within budget, in the reason it
# is not applicable; the advisory cost-estimate policy states it (without the budget) on every
# preview, for the CLI (policies/guardrails/cost.py).
COST_POLICY = "cost-budget"
COST_ESTIMATE_POLICY = "cost-estimate"
_COST_TOTAL = re.compile(r"^Estimated monthly cost: \$([\d,]+\.\d{2})(?: of a \$([\d,]+\.\d{2}) budget)? \((.*)\)$")
_COST_ITEM = re.compile(r"^\s+\$\s*([\d,]+\.\d{2})\s{2}(.+)$")
_COST_TAGGED = {"not priced: ": "notPriced", "note: ": "notes", "not included (usage-based): ": "excluded"}


def parse_cost_estimate(message: str) -> Optional[dict[str, Any]]:
    """The cost guardrail's estimate as data; None if the text holds none."""
    estimate: Optional[dict[str, Any]] = None
    for line in message.splitlines():
        total = _COST_TOTAL.match(line)
        if total:
            estimate = {
                "monthlyUsd": float(total[1].replace(",", "")),
                "budgetUsd": float(total[2].replace(",", "")) if total[2] else None,
                "basis": total[3],
                "items": [],
                "notPriced": [],
                "notes": [],
                "excluded": [],
            }
            continue
        if estimate is None:
            continue
        item = _COST_ITEM.match(line)
        if item:
            estimate["items"].append({"monthlyUsd": float(item[1].replace(",", "")), "item": item[2]})
            continue
        text = line.strip()
        for prefix, key in _COST_TAGGED.items():
            if text.startswith(prefix):
                value = text[len(prefix) :]
                if key == "excluded":
                    estimate[key].extend(v.strip() for v in value.split(", "))
                else:
                    estimate[key].append(value)
    return estimate
