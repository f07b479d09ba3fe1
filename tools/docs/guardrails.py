"""The guardrail table (docs/policies.md): name, kind, resource types, level and values per stack and
what each policy checks, read from the policy pack as the engine sees it (GetAnalyzerInfo of a
running pack, levels resolved from policies/config/<stack>.json) and from the guardrail modules."""

from __future__ import annotations

import json
import keyword
import re
import sys
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Optional

from google.protobuf import empty_pb2, json_format

from tools.docs.parts import ROOT, STACKS, cell, code
from tools.offline import stack_files
from tools.offline.analyzer import CALL_TIMEOUT_SECONDS, LEVEL_NAMES, PolicyPackProcess, resolve_policy_config

PACK_DIR = ROOT / "policies"

TYPE_TOKEN = re.compile(r"^aws:[a-zA-Z0-9]+/[a-zA-Z0-9]+:[A-Za-z0-9]+$")


def _collect_types(obj: Any, seen: set[int], found: set[str], depth: int = 0) -> None:
    """Resource type tokens a guardrail's code names: string constants in its function, its
    closures (resource_policy's type list) and the guardrail module globals and helpers it uses."""
    if id(obj) in seen or depth > 6:
        return
    seen.add(id(obj))
    if isinstance(obj, str):
        if TYPE_TOKEN.match(obj):
            found.add(obj)
    elif isinstance(obj, (tuple, list, set, frozenset)):
        for item in obj:
            _collect_types(item, seen, found, depth)
    elif isinstance(obj, dict):
        for item in [*obj.keys(), *obj.values()]:
            _collect_types(item, seen, found, depth)
    elif isinstance(obj, types.CodeType):
        for const in obj.co_consts:
            _collect_types(const, seen, found, depth)
    elif isinstance(obj, types.FunctionType) and obj.__module__.split(".")[0] == "guardrails":
        _collect_types(obj.__code__, seen, found, depth)
        for closure_cell in obj.__closure__ or ():
            _collect_types(closure_cell.cell_contents, seen, found, depth + 1)

        def names(code_object: types.CodeType) -> Iterator[str]:
            yield from code_object.co_names
            for const in code_object.co_consts:
                if isinstance(const, types.CodeType):
                    yield from names(const)

        for name in names(obj.__code__):
            if name in obj.__globals__:
                _collect_types(obj.__globals__[name], seen, found, depth + 1)


def python_type_name(token: str) -> str:
    """`aws:s3/bucket:Bucket` -> `aws.s3.Bucket`, as the program declares it."""
    module, _, cls = token[len("aws:") :].partition("/")
    if keyword.iskeyword(module):
        module += "_"  # pulumi_aws.lambda_
    return f"aws.{module}.{cls.rpartition(':')[2]}"


def policy_resource_types() -> dict[str, list[str]]:
    """Policy name -> the resource types its code judges (python names, sorted)."""
    if str(PACK_DIR) not in sys.path:
        sys.path.insert(0, str(PACK_DIR))
    from guardrails import ALL_POLICIES  # the pack's own registry, imported as the pack imports it

    by_class = class_titles()
    result = {}
    for policy in ALL_POLICIES:
        if policy.name in by_class:  # selected from the provider's schema: listed in the class table
            result[policy.name] = []
            continue
        validate = next((v for k, v in vars(policy).items() if k.endswith("__validate")), None)
        found: set[str] = set()
        _collect_types(validate, set(), found)
        result[policy.name] = sorted({python_type_name(t) for t in found})
    return result


@dataclass(frozen=True)
class GuardrailRow:
    name: str
    kind: str
    description: str
    resource_types: list[str]
    levels: dict[str, str]  # stack -> "mandatory (key: value, ...)"


def _show_properties(properties: Mapping[str, Any]) -> str:
    def one(value: Any) -> str:
        if isinstance(value, list):
            return ", ".join(one(v) for v in value)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value).lower() if isinstance(value, bool) else str(value)

    return "; ".join(f"{k}: {one(v)}" for k, v in sorted(properties.items()))


def guardrail_rows() -> list[GuardrailRow]:
    """The pack's policies as GetAnalyzerInfo reports them, levels resolved per shipped stack."""
    project = stack_files.project_name(ROOT)
    stack = STACKS[0]
    engine = stack_files.engine_config(stack_files.stack_config(ROOT, stack))
    with PolicyPackProcess(PACK_DIR, project, stack, engine) as pack:
        info = pack.stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=CALL_TIMEOUT_SECONDS)
    resolved = {s: resolve_policy_config(info, json.loads((PACK_DIR / "config" / f"{s}.json").read_text())) for s in STACKS}
    kinds = _policy_kinds()
    resource_types = policy_resource_types()
    rows = []
    for policy in info.policies:
        levels = {}
        for s in STACKS:
            config = resolved[s][policy.name]
            properties = _show_properties(json_format.MessageToDict(config.properties))
            levels[s] = LEVEL_NAMES[config.enforcementLevel] + (f" ({properties})" if properties else "")
        rows.append(GuardrailRow(policy.name, kinds.get(policy.name, ""), policy.description, resource_types.get(policy.name, []), levels))
    return rows


def _policy_kinds() -> dict[str, str]:
    if str(PACK_DIR) not in sys.path:
        sys.path.insert(0, str(PACK_DIR))
    from guardrails import ALL_POLICIES
    from pulumi_policy import StackValidationPolicy

    return {p.name: ("stack" if isinstance(p, StackValidationPolicy) else "resource") for p in ALL_POLICIES}


def guardrail_table(rows: Optional[list[GuardrailRow]] = None) -> str:
    rows = guardrail_rows() if rows is None else rows
    classes = class_titles()
    lines = [
        f"{len(rows)} policies.",
        "",
        "| policy | kind | resource types | " + " | ".join(STACKS) + " | what it checks |",
        "|---|---|---|" + "---|" * len(STACKS) + "---|",
    ]
    for row in rows:
        judged = ", ".join(code(t) for t in row.resource_types) or (
            f"every type of the class {classes[row.name]} (below)" if row.name in classes else "every resource"
        )
        cells = [code(row.name), row.kind, judged, *(row.levels[s] for s in STACKS), row.description]
        lines.append("| " + " | ".join(cell(c) for c in cells) + " |")
    return "\n".join(lines)


def class_titles() -> dict[str, str]:
    """Policy name -> the title of its class, for the policies selected from the provider's schema."""
    if str(PACK_DIR) not in sys.path:
        sys.path.insert(0, str(PACK_DIR))
    from guardrails.classes import CLASSES

    return {name: c.title for c in CLASSES for name in c.policies}


def class_table() -> str:
    """Each class of guardrails: its reason, how its types are selected, and the pulumi-aws types it
    judges in the installed provider (so a type a change adds is listed before anyone declares it)."""
    if str(PACK_DIR) not in sys.path:
        sys.path.insert(0, str(PACK_DIR))
    from guardrails.classes import CLASSES
    from guardrails.provider_schema import all_resource_types

    everything = all_resource_types()
    lines = [f"Read from the installed pulumi-aws ({len(everything)} resource types).", ""]
    lines += ["| class | policies | why | a type is a member when its schema has | types judged |", "|---|---|---|---|---|"]
    for item in CLASSES:
        covered = item.types_covered(everything)
        cells = [item.title, ", ".join(code(p) for p in item.policies), item.reason, item.selected_by, str(len(covered))]
        lines.append("| " + " | ".join(cell(c) for c in cells) + " |")
    for item in CLASSES:
        covered = item.types_covered(everything)
        lines += ["", f"**{item.title}** ({len(covered)} types): " + ", ".join(code(python_type_name(t)) for t in covered) + "."]
        if item.not_judged_here:
            lines.append("")
            lines.append(
                "Left to other checks: "
                + "; ".join(f"{code(python_type_name(t))}: {why}" for t, why in sorted(item.not_judged_here.items()))
                + "."
            )
    return "\n".join(lines)
