"""Cost: an estimate of the stack's monthly bill from its resources, held to the stack's budget.

`cost-budget` always states the estimate with its breakdown:
* over the stack's `monthlyBudgetUsd` (or with something the price table cannot price), as the
  violation's message, at the policy's enforcement level (mandatory in prod, advisory in dev);
* within budget, as the reason it declares itself not applicable (the protocol's "not applicable"
  answer), which blocks nothing whatever the enforcement level. The offline preview prints the
  estimate from either in its "Cost estimate" section and exports it as summary.costEstimate.
`pulumi preview` prints no not-applicable reason, so `cost-estimate` reports the same itemised
estimate as an advisory violation on every preview: the CLI prints it, and so do the PR comment and
the job summary. Its level must be `advisory` in every policy config (a config whose `all` is
mandatory, as prod's is, would otherwise make it block every deployment); the pack's tests check it.

The estimate is made in guardrails/cost_services.py (what is counted, service by service), with
guardrails/cost_estimate.py (the itemised estimate) and guardrails/cost_schedules.py (runs per
month of a schedule). Prices: prices.py (us-east-1, with the date they were read).
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ReportViolation, StackValidationArgs, StackValidationPolicy

from guardrails.cost_services import estimate_stack

DEFAULT_BUDGET_USD = 1000


def _budget(args: StackValidationArgs, report: ReportViolation) -> None:
    budget = float(args.get_config().get("monthlyBudgetUsd", DEFAULT_BUDGET_USD))
    estimate = estimate_stack(args)
    breakdown = estimate.render(budget)
    fix = (
        "Use smaller or fewer instances (endpoint.instanceType/instanceCount, autoscaling min, dashboard.desiredCount/cpu/memory), "
        "a serverless endpoint, fewer NAT gateways or less frequent schedules; or raise monthlyBudgetUsd in the stack's "
        "policy config through a reviewed pull request."
    )
    if estimate.total > budget:
        report(
            f"The stack's estimated monthly cost ${estimate.total:,.2f} exceeds its budget of ${budget:,.2f} by ${estimate.total - budget:,.2f}. {fix}\n{breakdown}",
            None,
        )
    elif estimate.unpriced:
        report(
            f"The stack's monthly cost cannot be checked against its budget of ${budget:,.2f}: some resources have no price in "
            f"policies/guardrails/prices.py. Add their prices (with the date read), or use priced instance types.\n{breakdown}",
            None,
        )
    else:
        args.not_applicable(f"within budget.\n{breakdown}")


cost_budget = StackValidationPolicy(
    name="cost-budget",
    description="The stack's estimated monthly cost stays within its configured budget (the estimate is always stated).",
    validate=_budget,
    config_schema=PolicyConfigSchema(
        properties={
            "monthlyBudgetUsd": {
                "type": "number",
                "exclusiveMinimum": 0,
                "default": DEFAULT_BUDGET_USD,
                "description": "The stack's monthly budget in USD, compared with the estimate (us-east-1 on-demand prices).",
            }
        }
    ),
)


def _report_estimate(args: StackValidationArgs, report: ReportViolation) -> None:
    estimate = estimate_stack(args)
    if not estimate.items and not estimate.unpriced:
        args.not_applicable("nothing in the stack has a price")
        return
    report(
        "Informational, never blocking: the stack's estimated monthly cost, itemised. To lower it, see the "
        "cost-budget policy's hint (smaller or fewer instances, serverless, fewer NAT gateways, Fargate Spot "
        f"and schedules for dev's dashboard).\n{estimate.render(None)}",
        None,
    )


cost_estimate = StackValidationPolicy(
    name="cost-estimate",
    description="States the stack's estimated monthly cost, itemised, on every preview (advisory: it never blocks).",
    validate=_report_estimate,
    enforcement_level=EnforcementLevel.ADVISORY,
)

POLICIES = [cost_budget, cost_estimate]
