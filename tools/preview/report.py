"""The offline preview as the CLI prints it (resource tree, policies, resources, cost estimate,
verdict) and as JSON (`--json`)."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from tools.preview.cost import COST_ESTIMATE_POLICY, COST_POLICY
from tools.preview.result import StackPreview


def _tree_lines(resources: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    children: dict[str, list[dict[str, Any]]] = {}
    # Registration order depends on when outputs resolve; sort so that previews diff cleanly.
    for r in sorted(resources, key=lambda r: (r["name"], r["type"])):
        children.setdefault(r["parent"], []).append(r)
    lines: list[tuple[str, str, str]] = []

    def walk(resource: dict[str, Any], prefix: str, connector: str) -> None:
        lines.append((prefix + connector, resource["type"], resource["name"]))
        kids = children.get(resource["urn"], [])
        child_prefix = prefix + ("   " if connector.startswith("└") else "│  " if connector else "")
        for i, kid in enumerate(kids):
            walk(kid, child_prefix, "└─ " if i == len(kids) - 1 else "├─ ")

    for root in children.get("", []):
        walk(root, "", "")
    return lines


def render(preview: StackPreview) -> str:
    out: list[str] = []
    if preview.error:
        return f"Stack '{preview.stack}': error\n    {preview.error.replace(chr(10), chr(10) + '    ')}\n"
    resources = preview.records["resources"]
    out.append(f"Previewing stack '{preview.stack}' offline (Pulumi mocks, project {preview.records['project']}):\n")
    lines = _tree_lines(resources)
    width = max(len(p) + len(t) for p, t, _ in lines) + 2
    out.append(f"     {'Type':<{width}} Name")
    for prefix, type_, name in lines:
        out.append(f" +   {prefix + type_:<{width}} {name}")

    analysis = preview.analysis
    assert analysis is not None
    by_policy: dict[str, list] = {}
    for v in analysis.violations:
        by_policy.setdefault(v.policy, []).append(v)
    not_applicable: dict[str, list] = {}
    for n in analysis.not_applicable:
        not_applicable.setdefault(n.policy, []).append(n)
    estimate = preview.cost_estimate
    names = {r["urn"]: (r["type"], r["name"]) for r in resources}
    source = f", config {os.path.relpath(preview.policy_config_path)}" if preview.policy_config_path else ""
    out.append(f"\nPolicies ({analysis.pack}@v{analysis.version}{source}):")
    for policy in analysis.policies:
        found = by_policy.get(policy.name, [])
        if policy.name == COST_POLICY and not found and estimate is not None:
            # Within budget: the estimate (its not-applicable reason) is printed in its own section.
            out.append(
                f"    ✅ {policy.name} [{policy.level}]: ${estimate['monthlyUsd']:,.2f}/month within ${estimate['budgetUsd']:,.2f} (see the cost estimate below)"
            )
            continue
        if policy.name == COST_ESTIMATE_POLICY and estimate is not None and all(v.level == "advisory" for v in found):
            # Its finding is the estimate itself, printed in its own section.
            out.append(f"    ℹ️  {policy.name} [{policy.level}]: ${estimate['monthlyUsd']:,.2f}/month (see the cost estimate below)")
            continue
        if policy.level == "disabled":
            mark = "○"
        elif any(v.level == "mandatory" for v in found):
            mark = "❌"
        elif found:
            mark = "⚠️ "
        else:
            mark = "✅"
        count = f": {len(found)} finding{'s' if len(found) != 1 else ''}" if found else ""
        out.append(f"    {mark} {policy.name} [{policy.level}]{count}")
        for v in found:
            where = "the stack" if not v.urn else "{} '{}'".format(*names.get(v.urn, ("resource", v.urn)))
            out.append(f"        - [{v.level}] {where}")
            if v.urn:
                out.append(f"          {v.urn}")
            for line in v.message.splitlines():
                out.append(f"          {line}")
        for n in not_applicable.get(policy.name, []):
            where = "the stack" if not n.urn else "{} '{}'".format(*names.get(n.urn, ("resource", n.urn)))
            out.append(f"        - n/a: {where}: {n.reason}")

    counts = Counter(r["type"] for r in resources)
    out.append("\nResources:")
    for type_, n in sorted(counts.items()):
        out.append(f"    {n:>3} {type_}")
    out.append(f"    {len(resources):>3} total")
    if estimate is not None:
        budget = f", budget ${estimate['budgetUsd']:,.2f}" if estimate["budgetUsd"] is not None else ""
        out.append(f"\nCost estimate ({preview.stack}): ${estimate['monthlyUsd']:,.2f}/month{budget} ({estimate['basis']})")
        out.extend(f"    ${item['monthlyUsd']:>9,.2f}  {item['item']}" for item in estimate["items"])
        out.extend(f"    not priced: {item}" for item in estimate["notPriced"])
        out.extend(f"    note: {note}" for note in estimate["notes"])
        out.append(f"    not included (usage-based): {', '.join(estimate['excluded'])}")
    if preview.placeholders:
        out.append(f"\nPlaceholders ({preview.stack}; advisory here, `pulumi up` refuses them):")
        out.extend(f"    ⚠️  {p}" for p in preview.placeholders)
    out.append("\n" + summary_line(preview) + "\n")
    return "\n".join(out)


def summary(preview: StackPreview) -> dict[str, Any]:
    if preview.error:
        return {"ok": False, "error": preview.error}
    assert preview.analysis is not None
    violations = preview.analysis.violations
    result = {
        "ok": not preview.mandatory,
        "resources": len(preview.records["resources"]),
        "policies": len(preview.analysis.policies),
        "mandatoryViolations": len(preview.mandatory),
        "advisoryViolations": sum(1 for v in violations if v.level == "advisory"),
        # Included in advisoryViolations: mandatory checks that judge only at `pulumi up`.
        "judgedOnlyAtUp": len(preview.judged_only_at_up),
        # Advisory: shipped example values that `pulumi up` refuses.
        "placeholders": preview.placeholders,
    }
    if preview.cost_estimate is not None:
        result["costEstimate"] = preview.cost_estimate
    return result


def summary_line(preview: StackPreview) -> str:
    s = summary(preview)
    if preview.error:
        return f"{preview.stack}: ERROR (invalid configuration or program error)"
    verdict = "BLOCKED" if s["mandatoryViolations"] else "OK"
    line = (
        f"{preview.stack}: {verdict}: {s['resources']} resources, {s['policies']} policies, "
        f"{s['mandatoryViolations']} mandatory violation(s), {s['advisoryViolations']} advisory"
    )
    if s["judgedOnlyAtUp"]:
        names = sorted({v.policy for v in preview.judged_only_at_up})
        line += f"; {s['judgedOnlyAtUp']} mandatory check(s) judge only at `pulumi up` (values unknown in this preview): {', '.join(names)}"
    if s["placeholders"]:
        line += f"; {len(s['placeholders'])} placeholder(s) that `pulumi up` refuses"
    return line


def to_json(preview: StackPreview) -> dict[str, Any]:
    records = preview.records
    return {
        "stack": preview.stack,
        "project": records.get("project"),
        "resources": [{k: r[k] for k in ("urn", "type", "name", "parent", "inputs", "options")} for r in records.get("resources", [])],
        "outputs": records.get("outputs", {}),
        "violations": [
            {"policy": v.policy, "level": v.level, "urn": v.urn, "message": v.message}
            for v in (preview.analysis.violations if preview.analysis else [])
        ],
        "notApplicable": [
            {"policy": n.policy, "urn": n.urn, "reason": n.reason} for n in (preview.analysis.not_applicable if preview.analysis else [])
        ],
        "policies": [
            {"name": p.name, "level": p.level, "kind": p.kind, "description": p.description}
            for p in (preview.analysis.policies if preview.analysis else [])
        ],
        "summary": summary(preview),
    }
