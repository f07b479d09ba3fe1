"""Offline preview: the real program under Pulumi mocks, judged by the real policy pack.

    python -m tools.preview --stack dev|prod [--stack ...] [--policy-pack policies]
                            [--policy-config FILE] [--set key=value ...] [--json FILE]
                            [--stack-outputs STACK=FILE ...] [--first-preview] [--debug]

For each stack, runs `__main__.py` with the stack's config in a fresh process under mocks,
records every resource, then starts the policy pack as the engine starts an analyzer plugin and
drives it over the Analyzer gRPC protocol (Analyze per resource, AnalyzeStack for the stack).

A stack that reads another through a StackReference (`registry.stack`) gets that stack's outputs:
from --stack-outputs STACK=FILE (what `pulumi stack output --json` prints), else from the same run
when that stack is previewed too (its program runs first), else that stack's program is run first,
as shipped (without --set) and unshown.
Exit code: 0 no mandatory violation, 1 at least one, 2 invalid config or a program error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import traceback
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from tools.offline.program_server import ProgramServer
from tools.offline.analyzer import AnalysisResult, PolicyPackError, StackResource, analyze_stack
from tools.offline.stack_files import StackFileError, apply_overrides, engine_config, project_name, referenced_stacks, stack_config, stack_names

EXIT_OK, EXIT_BLOCKED, EXIT_ERROR = 0, 1, 2
ROOT = Path(__file__).resolve().parent.parent
# The pack's cost guardrail states the estimate in its violation or, within budget, in the reason it
# is not applicable; the advisory cost-estimate policy states it (without the budget) on every
# preview, for the CLI (policies/guardrails/cost.py).
COST_POLICY = "cost-budget"
COST_ESTIMATE_POLICY = "cost-estimate"
_COST_TOTAL = re.compile(r"^Estimated monthly cost: \$([\d,]+\.\d{2})(?: of a \$([\d,]+\.\d{2}) budget)? \((.*)\)$")
_CANT_RUN = re.compile(r"^can't run policy '[^']+' from policy pack '[^']+' during preview: ")
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
                value = text[len(prefix):]
                if key == "excluded":
                    estimate[key].extend(v.strip() for v in value.split(", "))
                else:
                    estimate[key].append(value)
    return estimate


@dataclass
class StackPreview:
    stack: str
    error: Optional[str] = None
    records: dict[str, Any] = field(default_factory=dict)
    analysis: Optional[AnalysisResult] = None
    policy_config_path: Optional[Path] = None

    @property
    def mandatory(self) -> list:
        return [v for v in self.analysis.violations if v.level == "mandatory"] if self.analysis else []

    @property
    def cost_estimate(self) -> Optional[dict[str, Any]]:
        if not self.analysis:
            return None
        texts = [v.message for v in self.analysis.violations if v.policy == COST_POLICY]
        texts += [n.reason for n in self.analysis.not_applicable if n.policy == COST_POLICY and not n.urn]
        # Without the budget policy's statement (disabled, or skipped), the estimate alone.
        texts += [v.message for v in self.analysis.violations if v.policy == COST_ESTIMATE_POLICY]
        return next((e for e in map(parse_cost_estimate, texts) if e is not None), None)

    @property
    def judged_only_at_up(self) -> list:
        """Mandatory policies that could not judge a resource in this preview (values unknown until
        the resources they come from exist): pulumi_policy reports them as advisory "can't run"."""
        if not self.analysis:
            return []
        levels = {p.name: p.level for p in self.analysis.policies}
        return [v for v in self.analysis.violations if v.level == "advisory" and levels.get(v.policy) == "mandatory" and _CANT_RUN.match(v.message)]

    @property
    def exit_code(self) -> int:
        if self.error:
            return EXIT_ERROR
        return EXIT_BLOCKED if self.mandatory else EXIT_OK


class ProgramRuns:
    """Runs each stack's program once, after the programs of the stacks it references.

    A stack's StackReferences read the outputs given with --stack-outputs, or else the outputs of
    that stack's own program run (started on demand, shared by every stack that needs it). With
    --first-preview, a referenced stack is one that exists (its outputs are known): its outputs come
    from a run of its program as deployed.
    """

    def __init__(self, args: argparse.Namespace, stack_outputs: dict[str, Path], previewed: Optional[list[str]] = None):
        self.args = args
        self.stack_outputs = stack_outputs
        # --set overrides apply to the stacks being previewed; a stack run only for its outputs
        # runs as shipped.
        self.previewed = set(previewed or [])
        self.project = project_name(args.program_dir)
        self._lock = threading.Lock()
        self._runs: dict[tuple[str, bool], Future] = {}
        # One thread per program: a run blocks only on the runs of the stacks it references.
        self._pool = ThreadPoolExecutor(max_workers=8)
        self._server: Optional[ProgramServer] = None

    def overrides(self, stack: str) -> list[str]:
        return list(self.args.overrides) if stack in self.previewed else []

    def references(self, stack: str) -> list[str]:
        config = apply_overrides(stack_config(self.args.program_dir, stack), self.overrides(stack), namespace=self.project)
        return referenced_stacks(config, self.project)

    def check_cycles(self, stacks: list[str]) -> None:
        def visit(stack: str, path: tuple[str, ...]) -> None:
            if stack in path:
                raise StackFileError(f"stack references form a cycle: {' -> '.join((*path, stack))} (registry.stack)")
            if stack in self.stack_outputs or not (self.args.program_dir / f"Pulumi.{stack}.yaml").exists():
                return
            try:
                references = self.references(stack)
            except StackFileError:
                return  # the stack's own run reports it, as its error
            for ref in references:
                if ref != stack:  # a stack naming itself is the program's config error to report
                    visit(ref, (*path, stack))

        for stack in stacks:
            visit(stack, ())

    def records(self, stack: str, first_preview: Optional[bool] = None) -> Future:
        key = (stack, self.args.first_preview if first_preview is None else first_preview)
        with self._lock:
            if key not in self._runs:
                self._runs[key] = self._pool.submit(self._run, *key)
            return self._runs[key]

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        if self._server is not None:
            self._server.close()

    def _execute(self, command: list[str], env: dict[str, str], stderr_path: Path) -> int:
        """Runs `python -m tools.offline.program ...`: in a child forked from one process that has
        imported the libraries once (tools.offline.program_server), or where there is no fork, in
        its own interpreter."""
        if not hasattr(os, "fork"):
            with stderr_path.open("w") as stderr:
                return subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr).returncode
        with self._lock:
            if self._server is None:
                self._server = ProgramServer(self.args.program_dir, ROOT, env)
        return self._server.run(command[3:], stderr_path)

    def _run(self, stack: str, first_preview: bool) -> tuple[Optional[dict[str, Any]], Optional[str]]:
        """(records, None) or (None, the error message)."""
        args = self.args
        with tempfile.TemporaryDirectory(prefix=f"preview-{stack}-") as tmp:
            out = Path(tmp) / "records.json"
            command = [sys.executable, "-m", "tools.offline.program", "--stack", stack, "--program-dir", str(args.program_dir), "--out", str(out)]
            for override in self.overrides(stack):
                command += ["--set", override]
            if first_preview:
                command.append("--first-preview")
            try:
                references = self.references(stack)
            except StackFileError as exc:  # reported like any invalid config of this stack
                return None, str(exc)
            for ref in references:
                if ref == stack:
                    continue
                if ref in self.stack_outputs:
                    command += ["--stack-outputs", f"{ref}={self.stack_outputs[ref]}"]
                    continue
                if not (args.program_dir / f"Pulumi.{ref}.yaml").exists():
                    continue  # the program itself reports the reference it cannot resolve
                records, error = self.records(ref, first_preview=False).result()
                if error is not None:
                    return None, f"stack '{ref}', whose outputs this stack reads, failed:\n{error}"
                outputs_file = Path(tmp) / f"outputs-{ref}.json"
                outputs_file.write_text(json.dumps(records["outputs"]))
                command += ["--stack-outputs", f"{ref}={outputs_file}"]
            env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
            if args.debug:
                env["PREVIEW_DEBUG"] = "1"
            stderr_path = Path(tmp) / "stderr.txt"
            code = self._execute(command, env, stderr_path)
            if code != 0:
                stderr = stderr_path.read_text().strip() if stderr_path.exists() else ""
                return None, stderr or f"the program exited with code {code}"
            return json.loads(out.read_text()), None


def run_stack(stack: str, args: argparse.Namespace, programs: Optional[ProgramRuns] = None) -> StackPreview:
    preview = StackPreview(stack)
    programs = programs or ProgramRuns(args, {}, [stack])
    records, error = programs.records(stack).result()
    if error is not None:
        preview.error = error
        return preview
    preview.records = records

    policy_config_path = args.policy_config or (args.policy_pack / "config" / f"{stack}.json")
    policy_config = None
    if args.policy_config or policy_config_path.exists():
        preview.policy_config_path = policy_config_path
        try:
            policy_config = json.loads(policy_config_path.read_text())
        except (OSError, ValueError) as exc:
            preview.error = f"cannot read policy config {policy_config_path}: {exc}"
            return preview

    resources = [
        StackResource(
            urn=r["urn"],
            type=r["type"],
            name=r["name"],
            parent=r["parent"],
            inputs=r["inputs"],
            state=r["state"],
            options=r["options"],
            provider=r["provider"],
            custom=r["custom"],
            dependencies=r["dependencies"],
            property_dependencies=r["property_dependencies"],
        )
        for r in preview.records["resources"]
    ]
    try:
        preview.analysis = analyze_stack(
            args.policy_pack,
            preview.records["project"],
            stack,
            engine_config(preview.records["config"]),
            resources,
            policy_config,
        )
    except PolicyPackError as exc:
        preview.error = f"{exc}\n{traceback.format_exc()}" if args.debug else str(exc)
    return preview


# ---- output -------------------------------------------------------------------------------------

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
            out.append(f"    ✅ {policy.name} [{policy.level}]: ${estimate['monthlyUsd']:,.2f}/month within ${estimate['budgetUsd']:,.2f} (see the cost estimate below)")
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
    return line


def to_json(preview: StackPreview) -> dict[str, Any]:
    records = preview.records
    return {
        "stack": preview.stack,
        "project": records.get("project"),
        "resources": [
            {k: r[k] for k in ("urn", "type", "name", "parent", "inputs", "options")} for r in records.get("resources", [])
        ],
        "outputs": records.get("outputs", {}),
        "violations": [
            {"policy": v.policy, "level": v.level, "urn": v.urn, "message": v.message} for v in (preview.analysis.violations if preview.analysis else [])
        ],
        "notApplicable": [
            {"policy": n.policy, "urn": n.urn, "reason": n.reason} for n in (preview.analysis.not_applicable if preview.analysis else [])
        ],
        "policies": [
            {"name": p.name, "level": p.level, "kind": p.kind, "description": p.description} for p in (preview.analysis.policies if preview.analysis else [])
        ],
        "summary": summary(preview),
    }


def _json_path(template: Path, stack: str, several: bool) -> Path:
    if "{stack}" in str(template):
        return Path(str(template).replace("{stack}", stack))
    return template.with_name(f"{template.stem}.{stack}{template.suffix}") if several else template


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.preview", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", action="append", help="stack to preview (repeatable; default: every Pulumi.<stack>.yaml)")
    parser.add_argument("--policy-pack", type=Path, default=ROOT / "policies", help="policy pack folder (default: policies)")
    parser.add_argument("--policy-config", type=Path, help="policy config file (default: <pack>/config/<stack>.json when it exists)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="override a config key (dotted path; value read as YAML; null removes it)")
    parser.add_argument("--json", type=Path, help="write the result as JSON ('{stack}' in the name is replaced; with several stacks, .<stack> is added)")
    parser.add_argument(
        "--stack-outputs", action="append", default=[], metavar="STACK=FILE",
        help="outputs of a stack that a StackReference reads (the JSON `pulumi stack output --json` prints); default: run that stack's program first",
    )
    parser.add_argument(
        "--first-preview",
        action="store_true",
        help="preview as `pulumi preview` does before the stack exists (or when an image is rebuilt): ids and computed outputs of resources are unknown",
    )
    parser.add_argument("--program-dir", type=Path, default=ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--debug", action="store_true", help="show tracebacks of program errors")
    args = parser.parse_args(argv)
    args.program_dir = args.program_dir.resolve()
    args.policy_pack = args.policy_pack.resolve()

    stacks = args.stack or stack_names(args.program_dir)
    if not stacks:
        print(f"no Pulumi.<stack>.yaml in {args.program_dir}", file=sys.stderr)
        return EXIT_ERROR
    stack_outputs: dict[str, Path] = {}
    for spec in args.stack_outputs:
        ref, sep, path = spec.partition("=")
        if not sep or not ref or not path:
            raise StackFileError(f"--stack-outputs {spec!r}: expected STACK=FILE, e.g. dev=dev-outputs.json")
        if not Path(path).is_file():
            raise StackFileError(f"--stack-outputs {spec!r}: no such file {path}")
        stack_outputs[ref] = Path(path).resolve()
    programs = ProgramRuns(args, stack_outputs, stacks)
    programs.check_cycles(stacks)
    try:
        with ThreadPoolExecutor(max_workers=len(stacks)) as pool:
            previews = list(pool.map(lambda s: run_stack(s, args, programs), stacks))
    finally:
        programs.close()

    for preview in previews:
        print(render(preview))
        if args.json:
            path = _json_path(args.json, preview.stack, len(previews) > 1)
            path.write_text(json.dumps(to_json(preview), indent=2) + "\n")
    return max(p.exit_code for p in previews)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (StackFileError, PolicyPackError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(EXIT_ERROR)
