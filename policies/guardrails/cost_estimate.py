"""The stack's cost estimate: priced items, what could not be priced, notes, and the itemised text
the cost guardrails state (guardrails/cost.py) and the offline preview reads back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from guardrails import prices

HEADLINE = "Estimated monthly cost: ${total:,.2f} of a ${budget:,.2f} budget"
REPORT_HEADLINE = "Estimated monthly cost: ${total:,.2f}"


@dataclass
class Estimate:
    items: list[tuple[str, float]] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return round(sum(cost for _, cost in self.items), 2)

    def add(self, description: str, cost: float) -> None:
        self.items.append((description, round(cost, 2)))

    def render(self, budget: Optional[float]) -> str:
        """The itemised estimate; the headline names the budget when there is one to compare with."""
        headline = REPORT_HEADLINE.format(total=self.total) if budget is None else HEADLINE.format(total=self.total, budget=budget)
        lines = [headline + f" ({prices.PRICE_REGION} on-demand prices read {prices.PRICES_READ})"]
        lines += [f"  ${cost:>9,.2f}  {description}" for description, cost in sorted(self.items, key=lambda i: -i[1])]
        lines += [f"  not priced: {item}" for item in self.unpriced]
        lines += [f"  note: {note}" for note in self.notes]
        lines.append(f"  not included (usage-based): {', '.join(prices.USAGE_BASED)}")
        return "\n".join(lines)
