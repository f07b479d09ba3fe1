"""Regenerates the reference parts of the docs from the code: `python -m tools.docs [--check]`.

- docs/configuration.md: every stack config key with its type, what is allowed, its default and
  the values of the shipped stacks, read from the pydantic config models in components/config.py
  (the allowed values are the Field descriptions the config errors print; the meaning is the
  field's docstring) and from the Pulumi.<stack>.yaml files;
- docs/policies.md: the guardrail table (name, resource types, level and values per stack, what it
  checks), read from the policy pack as the engine sees it (GetAnalyzerInfo of a running pack, the
  levels resolved from policies/config/<stack>.json like the engine does) and from the guardrail
  modules (the resource types each policy's code names);
- docs/measurements.md and docs/policies.md: what the offline preview says about the shipped
  stacks (resources, policies, violations, the cost estimate and its main items), read from
  `python -m tools.preview --stack dev --stack prod --json ...`;
- README.md: the policy count; with `--demo` also the sample report of `make demo`, from a real
  `python -m tools.rehearsal --stack dev` run (minutes; tests/test_readme_facts.py checks its shape
  against a quick run, so it is regenerated only when the report changes).

Only the text between `<!-- BEGIN GENERATED: <part> ... -->` and `<!-- END GENERATED: <part> -->`
is replaced; hand-written text around it stays. `--check` writes nothing and exits 1, naming the
stale files, when the committed docs differ from what this prints.
"""

from __future__ import annotations

import argparse
import json
import keyword
import os
import platform
import re
import subprocess
import sys
import tempfile
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from google.protobuf import empty_pb2, json_format
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from components import config as cfg
from tools.offline import stack_files
from tools.offline.analyzer import CALL_TIMEOUT_SECONDS, LEVEL_NAMES, PolicyPackProcess, resolve_policy_config

ROOT = Path(__file__).resolve().parents[1]
PACK_DIR = ROOT / "policies"
STACKS = ("dev", "prod")
GENERATOR = "python -m tools.docs"


class DocsError(Exception):
    """A doc page lacks the markers of a generated part."""


# ---- generated parts in hand-written pages ------------------------------------------------------


# Parts regenerated only on request (they take minutes): part -> the command that regenerates them.
ON_REQUEST = {"demo-sample": f"{GENERATOR} --demo"}


def begin_marker(part: str) -> str:
    return f"<!-- BEGIN GENERATED: {part} (edit the code, then run `{ON_REQUEST.get(part, GENERATOR)}`) -->"


def end_marker(part: str) -> str:
    return f"<!-- END GENERATED: {part} -->"


def replace_part(text: str, part: str, content: str, where: str) -> str:
    """`text` with the generated `part` replaced by `content`; the markers must exist exactly once."""
    begin = re.compile(r"<!-- BEGIN GENERATED: " + re.escape(part) + r"\b[^>]*-->")
    end = end_marker(part)
    starts, ends = list(begin.finditer(text)), text.count(end)
    if len(starts) != 1 or ends != 1:
        raise DocsError(f"{where}: expected one '{begin_marker(part)}' ... '{end}' pair, found {len(starts)} begin and {ends} end markers")
    head, tail = text[: starts[0].start()], text[starts[0].end():]
    if end not in tail:
        raise DocsError(f"{where}: '{end}' comes before its begin marker")
    tail = tail[tail.index(end) + len(end):]
    return f"{head}{begin_marker(part)}\n{content.rstrip()}\n{end}{tail}"


def cell(text: Any) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def code(value: Any) -> str:
    return f"`{value}`"


# ---- configuration reference ---------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigRow:
    key: str  # dotted path below the project namespace (or `aws:region`)
    type: str
    allowed: str
    default: str
    values: dict[str, str]  # stack -> shipped value ('' when absent)
    meaning: str


def attribute_docs(cls: type) -> dict[str, str]:
    """Field name -> the docstring written under it (PEP 257 attribute docstrings), through the MRO."""
    import ast
    import inspect
    import textwrap

    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass is object or klass.__module__ != cls.__module__:
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, after in zip(body, body[1:]):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                docs[node.target.id] = " ".join(after.value.value.split())
    return docs


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """The type inside Annotated[...] layers, and the metadata collected on the way."""
    metadata: list[Any] = []
    while typing.get_origin(annotation) is typing.Annotated:
        annotation, *extra = typing.get_args(annotation)
        metadata.extend(extra)
    return annotation, metadata


def _optional_inner(annotation: Any) -> tuple[Any, bool]:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]), True
    return annotation, False


def is_config_model(tp: Any) -> bool:
    return isinstance(tp, type) and hasattr(tp, "__pydantic_fields__")


def type_name(annotation: Any) -> str:
    """A config type in the words of the reference: int, `a` | `b`, list of …, map of name → …."""
    annotation, _ = _unwrap(annotation)
    annotation, optional = _optional_inner(annotation)
    annotation, _ = _unwrap(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        # Long enumerations read better in the allowed column (the field's description lists them).
        name = " | ".join(code(a) for a in args) if len(args) <= 4 else type_name(type(args[0]))
    elif origin in (tuple, list):
        name = f"list of {type_name(args[0])}"
    elif origin is dict:
        name = f"map of name → {type_name(args[1])}"
    elif is_config_model(annotation):
        name = "map"
    else:
        name = {int: "int", float: "number", bool: "bool", str: "string"}.get(annotation, getattr(annotation, "__name__", str(annotation)))
    return name


_CONSTRAINTS = {"ge": "≥ {}", "gt": "> {}", "le": "≤ {}", "lt": "< {}", "min_length": "at least {} item(s)", "max_length": "at most {} item(s)", "pattern": "matches `{}`"}


def derived_constraints(info: FieldInfo) -> str:
    """What the field's metadata allows, for fields without a description."""
    found = []
    for item in info.metadata:
        for attr, template in _CONSTRAINTS.items():
            value = getattr(item, attr, None)
            if value is not None:
                found.append(template.format(value))
    return ", ".join(found)


def _map_keys(model: Any) -> str:
    """What an object key allows, in the words of the config errors."""
    if not is_config_model(model):
        return ""
    return "a map with the keys " + ", ".join(info.alias or name for name, info in model.__pydantic_fields__.items())


def _field_info(annotation: Any) -> FieldInfo:
    return FieldInfo.from_annotation(annotation)


def show_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping):
        if set(value) == {"secure"}:
            return "(secret)"
        return code(json.dumps(value, separators=(", ", ": ")))
    if isinstance(value, (list, tuple)):
        return code("[" + ", ".join(str(v) for v in value) + "]")
    if isinstance(value, bool):
        return code("true" if value else "false")
    return code(value)


def show_default(info: FieldInfo, required: bool) -> str:
    default = info.default
    if default is PydanticUndefined:
        return "required" if required else "absent"
    if default is None:
        return "absent"
    return show_value(default)


def _lookup(config: Mapping[str, Any], path: list[str]) -> Any:
    node: Any = config
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def config_rows(stack_configs: Mapping[str, Mapping[str, Any]]) -> list[ConfigRow]:
    """One row per key of the stack configuration, in the order the models declare them."""
    top_docs = attribute_docs(cfg.StackConfig)
    rows = [
        ConfigRow(
            key=cfg._REGION_KEY,
            type="string",
            allowed=f"an AWS region such as us-east-1 (matches `{cfg._REGION}`)",
            default="required",
            values={s: show_value(c.get(cfg._REGION_KEY)) for s, c in stack_configs.items()},
            meaning=top_docs.get("region", ""),
        )
    ]

    def values_at(path: list[str]) -> dict[str, str]:
        return {s: show_value(_lookup(c, [f"{cfg.PROJECT}:{path[0]}", *path[1:]])) for s, c in stack_configs.items()}

    def walk(model: type, path: list[str]) -> Iterator[ConfigRow]:
        docs = attribute_docs(model)
        for name, info in model.__pydantic_fields__.items():
            alias = info.alias or name
            key = [*path, alias]
            inner, _ = _optional_inner(_unwrap(info.annotation)[0])
            inner = _unwrap(inner)[0]
            present = {s: ("set" if _lookup(c, [f"{cfg.PROJECT}:{key[0]}", *key[1:]]) is not None else "") for s, c in stack_configs.items()}
            row = ConfigRow(
                key=".".join(key),
                type=type_name(info.annotation) + (", optional" if info.default is None else ""),
                allowed=info.description or derived_constraints(info) or _map_keys(inner),
                default=show_default(info, required=True),
                values=values_at(key),
                meaning=docs.get(name, ""),
            )
            if is_config_model(inner):
                yield ConfigRow(row.key, row.type, row.allowed, row.default, present, row.meaning)
                yield from walk(inner, key)
            elif typing.get_origin(inner) is dict and is_config_model(_unwrap(typing.get_args(inner)[1])[0]):
                yield row
                yield from walk(_unwrap(typing.get_args(inner)[1])[0], [*key, "<name>"])
            else:
                yield row

    for key, (tp, required) in cfg._SECTIONS.items():
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()
        if is_config_model(tp):
            rows.append(
                ConfigRow(
                    key=key,
                    type="map" + ("" if required else ", optional"),
                    allowed=_map_keys(tp),
                    default="required" if required else "absent",
                    values={s: ("set" if c.get(f"{cfg.PROJECT}:{key}") is not None else "") for s, c in stack_configs.items()},
                    meaning=top_docs.get(snake, ""),
                )
            )
            rows.extend(walk(tp, [key]))
            continue
        info = _field_info(tp)
        rows.append(
            ConfigRow(
                key=key,
                type=type_name(tp) + ("" if required else ", optional"),
                allowed=info.description or derived_constraints(info),
                default="required" if required else "absent",
                values=values_at([key]),
                meaning=top_docs.get(snake, ""),
            )
        )
    return rows


def shipped_stack_configs() -> dict[str, dict[str, Any]]:
    return {stack: stack_files.stack_config(ROOT, stack) for stack in STACKS}


def config_reference() -> str:
    stacks = shipped_stack_configs()
    names = list(stacks)
    lines = [
        "| key | type | allowed | default | " + " | ".join(names) + " | meaning |",
        "|---|---|---|---|" + "---|" * len(names) + "---|",
    ]
    for row in config_rows(stacks):
        cells = [code(row.key), row.type, row.allowed, row.default, *(row.values[s] for s in names), row.meaning]
        lines.append("| " + " | ".join(cell(c) for c in cells) + " |")
    return "\n".join(lines)


# ---- guardrail table -----------------------------------------------------------------------------

_TYPE_TOKEN = re.compile(r"^aws:[a-zA-Z0-9]+/[a-zA-Z0-9]+:[A-Za-z0-9]+$")


def _collect_types(obj: Any, seen: set[int], found: set[str], depth: int = 0) -> None:
    """Resource type tokens a guardrail's code names: string constants in its function, its
    closures (resource_policy's type list) and the guardrail module globals and helpers it uses."""
    if id(obj) in seen or depth > 6:
        return
    seen.add(id(obj))
    if isinstance(obj, str):
        if _TYPE_TOKEN.match(obj):
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
    module, _, cls = token[len("aws:"):].partition("/")
    if keyword.iskeyword(module):
        module += "_"  # pulumi_aws.lambda_
    return f"aws.{module}.{cls.rpartition(':')[2]}"


def policy_resource_types() -> dict[str, list[str]]:
    """Policy name -> the resource types its code judges (python names, sorted)."""
    if str(PACK_DIR) not in sys.path:
        sys.path.insert(0, str(PACK_DIR))
    from guardrails import ALL_POLICIES  # the pack's own registry, imported as the pack imports it

    result = {}
    for policy in ALL_POLICIES:
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
    lines = [
        f"{len(rows)} policies.",
        "",
        "| policy | kind | resource types | " + " | ".join(STACKS) + " | what it checks |",
        "|---|---|---|" + "---|" * len(STACKS) + "---|",
    ]
    for row in rows:
        judged = ", ".join(code(t) for t in row.resource_types) or "every resource"
        cells = [code(row.name), row.kind, judged, *(row.levels[s] for s in STACKS), row.description]
        lines.append("| " + " | ".join(cell(c) for c in cells) + " |")
    return "\n".join(lines)


# ---- the shipped stacks as the offline preview sees them -----------------------------------------

PREVIEW_COMMAND = "python -m tools.preview --stack dev --stack prod"


def preview_summaries() -> dict[str, dict[str, Any]]:
    """Each shipped stack's --json document from the offline preview (`summary`, `resources`, ...)."""
    with tempfile.TemporaryDirectory(prefix="docs-preview-") as tmp:
        command = [sys.executable, "-m", "tools.preview", *(a for s in STACKS for a in ("--stack", s)), "--json", f"{tmp}/preview.{{stack}}.json"]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        summaries = {}
        for stack in STACKS:
            path = Path(tmp) / f"preview.{stack}.json"
            if not path.exists():
                raise DocsError(f"`{PREVIEW_COMMAND}` wrote no result for {stack} (exit {done.returncode}):\n{done.stderr[-3000:]}")
            summaries[stack] = json.loads(path.read_text())
    return summaries


def _usd(value: float) -> str:
    return f"${value:,.2f}"


def shipped_stacks_table(summaries: Mapping[str, Mapping[str, Any]]) -> str:
    lines = [
        f"From `{PREVIEW_COMMAND}` (the real program under mocks, the policy pack over the Analyzer protocol):",
        "",
        "| stack | resources | policies | mandatory violations | advisory violations | cost estimate | budget |",
        "|---|---|---|---|---|---|---|",
    ]
    for stack, document in summaries.items():
        s = document["summary"]
        if "error" in s:
            lines.append(f"| {stack} | error: {cell(s['error'])} | | | | | |")
            continue
        cost = s.get("costEstimate") or {}
        estimate = f"{_usd(cost['monthlyUsd'])}/month" if cost else "none"
        budget = _usd(cost["budgetUsd"]) if cost else ""
        lines.append(f"| {stack} | {s['resources']} | {s['policies']} | {s['mandatoryViolations']} | {s['advisoryViolations']} | {estimate} | {budget} |")
    return "\n".join(lines)


def cost_table(summaries: Mapping[str, Mapping[str, Any]], top: int = 5) -> str:
    bases = sorted({d["summary"]["costEstimate"]["basis"] for d in summaries.values() if d["summary"].get("costEstimate")})
    lines = [
        f"Estimates of the shipped stacks (`{PREVIEW_COMMAND}`; {', '.join(bases) or 'no estimate'}):",
        "",
        "| stack | estimate | budget | main items | notes |",
        "|---|---|---|---|---|",
    ]
    for stack, document in summaries.items():
        cost = document["summary"].get("costEstimate")
        if not cost:
            lines.append(f"| {stack} | none | | | |")
            continue
        items = sorted(cost["items"], key=lambda i: -i["monthlyUsd"])[:top]
        main = "; ".join(f"{i['item']}: {_usd(i['monthlyUsd'])}" for i in items)
        notes = "; ".join(cost.get("notes", []))
        lines.append(f"| {stack} | {_usd(cost['monthlyUsd'])}/month | {_usd(cost['budgetUsd'])} | {cell(main)} | {cell(notes)} |")
    return "\n".join(lines)


def component_files() -> dict[str, str]:
    """Component type token -> the file whose class registers it (searched in the source)."""
    found: dict[str, str] = {}
    for path in sorted([*(ROOT / "components").glob("*.py"), ROOT / "__main__.py"]):
        for token in re.findall(r'super\(\).__init__\(\s*"(sagemaker-mlops:[\w-]+:\w+)"', path.read_text()):
            found.setdefault(token, str(path.relative_to(ROOT)))
    return found


def resource_index(documents: Mapping[str, Mapping[str, Any]]) -> str:
    """Where each AWS resource of the shipped stacks is declared: the component chain from
    `__main__.py` down to its nearest component, and that component's file."""
    files = component_files()
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for stack, document in documents.items():
        by_urn = {r["urn"]: r for r in document.get("resources", [])}
        for resource in by_urn.values():
            if resource["type"].startswith(("pulumi:", f"{cfg.PROJECT}:")):
                continue  # the stack, providers and our own components
            chain = []
            parent = by_urn.get(resource["parent"])
            while parent is not None and not parent["type"].startswith("pulumi:"):
                chain.append(parent["type"])
                parent = by_urn.get(parent["parent"])
            per_stack = counts.setdefault((resource["type"], " › ".join(reversed(chain))), {})
            per_stack[stack] = per_stack.get(stack, 0) + 1
    stacks = list(documents)
    lines = [
        f"From `{PREVIEW_COMMAND}`: every resource type the shipped stacks declare, the component that declares it",
        "(the chain of components from `__main__.py`) and that component's file.",
        "",
        "| resource type | " + " | ".join(stacks) + " | declared by | file |",
        "|---|" + "---|" * len(stacks) + "---|---|",
    ]
    def declared_by(chain: str) -> str:
        return " › ".join(t.rsplit(":", 1)[-1] for t in chain.split(" › ")) if chain else "`__main__.py`"

    for (type_token, chain), per_stack in sorted(counts.items(), key=lambda kv: (declared_by(kv[0][1]), kv[0][0])):
        leaf = chain.rsplit(" › ", 1)[-1] if chain else ""
        where = files.get(leaf, "") if chain else "__main__.py"
        name = python_type_name(type_token) if _TYPE_TOKEN.match(type_token) else type_token
        cells = [code(name), *(str(per_stack.get(s, "")) for s in stacks), declared_by(chain), code(where) if where else ""]
        lines.append("| " + " | ".join(cell(c) for c in cells) + " |")
    return "\n".join(lines)


# ---- the README's sample of `make demo` ----------------------------------------------------------

DEMO_COMMAND = ("python", "-m", "tools.rehearsal", "--stack", "dev")


def demo_report(*extra: str) -> str:
    """The report a rehearsal prints (from its 'Rehearsal report' title on)."""
    done = subprocess.run([sys.executable, *DEMO_COMMAND[1:], *extra], cwd=ROOT, capture_output=True, text=True)
    report = done.stdout[done.stdout.find("Rehearsal report"):] if "Rehearsal report" in done.stdout else ""
    if done.returncode != 0 or not report:
        raise DocsError(f"`{' '.join(DEMO_COMMAND)}` failed (exit {done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return report.rstrip() + "\n"


def demo_sample(report: str) -> str:
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}"
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    return f"```\n{report}```\n\n(`{' '.join(DEMO_COMMAND)}`, the rehearsal `make demo` runs, for dev only; {machine}; {when}.)"


def readme_demo_sample(text: str) -> str:
    """The report inside the README's demo-sample part."""
    begin = re.search(r"<!-- BEGIN GENERATED: demo-sample\b[^>]*-->", text)
    end = text.find(end_marker("demo-sample"))
    if not begin or end < 0:
        raise DocsError(f"README.md: no {begin_marker('demo-sample')} ... {end_marker('demo-sample')} pair")
    part = text[begin.end():end]
    fenced = re.search(r"```\n(.*?)```", part, re.S)
    return fenced.group(1) if fenced else ""


# ---- the pages -----------------------------------------------------------------------------------


def generated_pages(
    rows: Optional[list[GuardrailRow]] = None, summaries: Optional[Mapping[str, Mapping[str, Any]]] = None, demo: Optional[str] = None
) -> dict[Path, str]:
    """Path -> the page's text with every generated part brought up to date (the README's demo
    sample only when `demo`, a rehearsal report, is given)."""
    rows = guardrail_rows() if rows is None else rows
    summaries = preview_summaries() if summaries is None else summaries
    readme = {"policy-count": f"The policy pack has {len(rows)} guardrails ([docs/policies.md](docs/policies.md))."}
    if demo is not None:
        readme["demo-sample"] = demo_sample(demo)
    parts = {
        ROOT / "docs" / "configuration.md": {"config-reference": config_reference()},
        ROOT / "docs" / "components.md": {"resource-index": resource_index(summaries)},
        ROOT / "docs" / "policies.md": {"guardrails": guardrail_table(rows), "cost-estimates": cost_table(summaries)},
        ROOT / "docs" / "measurements.md": {"shipped-stacks": shipped_stacks_table(summaries)},
        ROOT / "README.md": readme,
    }
    pages = {}
    for path, contents in parts.items():
        text = path.read_text()
        for part, content in contents.items():
            text = replace_part(text, part, content, str(path.relative_to(ROOT)))
        pages[path] = text
    return pages


def stale_pages(pages: Mapping[Path, str]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p, text in pages.items() if p.read_text() != text]


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog=GENERATOR, description="Regenerate the reference parts of the docs from the code.")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a committed page differs from the code")
    parser.add_argument("--demo", action="store_true", help="also run the rehearsal for the README's sample of `make demo` (minutes)")
    args = parser.parse_args(argv)
    try:
        pages = generated_pages(demo=demo_report() if args.demo else None)
    except DocsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stale = stale_pages(pages)
    if args.check:
        if stale:
            print(f"out of date: {', '.join(stale)}; run `{GENERATOR}`", file=sys.stderr)
            return 1
        print("docs are up to date")
        return 0
    for path, text in pages.items():
        if str(path.relative_to(ROOT)) in stale:
            path.write_text(text)
            print(f"updated {path.relative_to(ROOT)}")
    if not stale:
        print("docs are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
