"""Regenerates the reference parts of the docs from the code: `python -m tools.docs [--check]`.

- docs/configuration.md (tools/docs/config.py): every stack config key with its type, what is
  allowed, its default and the values of the shipped stacks, read from the pydantic config models
  in components/config*.py (the allowed values are the Field descriptions the config errors print;
  the meaning is the field's docstring) and from the Pulumi.<stack>.yaml files;
- docs/policies.md (tools/docs/guardrails.py): the guardrail table (name, resource types, level and
  values per stack, what it checks), read from the policy pack as the engine sees it
  (GetAnalyzerInfo of a running pack, the levels resolved from policies/config/<stack>.json like
  the engine does) and from the guardrail modules (the resource types each policy's code names);
- docs/measurements.md, docs/policies.md and docs/components.md (tools/docs/preview.py): what the
  offline preview says about the shipped stacks (resources, policies, violations, the cost
  estimate and its main items, where each resource is declared), read from
  `python -m tools.preview --stack dev --stack prod --json ...`;
- docs/components.md (tools/docs/packages.py): the package map, every package of components/ and
  tools/ and its modules with their docstrings' first sentence;
- README.md (here): the policy count; with `--demo` also the sample report of `make demo`, from a
  real `python -m tools.rehearsal --stack dev` run (minutes; tests/tools/docs/test_readme_facts.py checks its
  shape against a quick run, so it is regenerated only when the report changes).

Only the text between `<!-- BEGIN GENERATED: <part> ... -->` and `<!-- END GENERATED: <part> -->`
is replaced (tools/docs/parts.py); hand-written text around it stays. `--check` writes nothing and
exits 1, naming the stale files, when the committed docs differ from what this prints.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from tools.docs.config import config_reference
from tools.docs.guardrails import GuardrailRow, class_table, guardrail_rows, guardrail_table
from tools.docs.packages import package_map
from tools.docs.parts import GENERATOR, ROOT, DocsError, begin_marker, end_marker, replace_part
from tools.docs.preview import cost_table, preview_summaries, resource_index, shipped_stacks_table

# ---- the README's sample of `make demo` ----------------------------------------------------------

DEMO_COMMAND = ("python", "-m", "tools.rehearsal", "--stack", "dev")


def report_part(stdout: str) -> str:
    """What a rehearsal printed from its 'Rehearsal report' title on ("" when it printed none)."""
    return stdout[stdout.find("Rehearsal report") :].rstrip() + "\n" if "Rehearsal report" in stdout else ""


def demo_report() -> str:
    """The report the rehearsal `make demo` runs prints."""
    done = subprocess.run([sys.executable, *DEMO_COMMAND[1:]], cwd=ROOT, capture_output=True, text=True)
    report = report_part(done.stdout)
    if done.returncode != 0 or not report:
        raise DocsError(f"`{' '.join(DEMO_COMMAND)}` failed (exit {done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return report


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
    part = text[begin.end() : end]
    fenced = re.search(r"```\n(.*?)```", part, re.S)
    return fenced.group(1) if fenced else ""


HEX_ID = re.compile(r"\b[0-9a-f]{8,}(?:-[0-9a-f]{4,})*\b")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def report_shape(report: str) -> list[str]:
    """A report's lines with every number (and every hex identifier: a digest, an S3 version id)
    replaced: what must stay the same between two runs of the rehearsal (whose numbers move), so
    that the README's sample can be compared with a new run."""
    return [NUMBER.sub("#", HEX_ID.sub("#", line.rstrip())) for line in report.strip().splitlines()]


MUTATION_REQUIREMENTS = "requirements/mutation.txt"
MUTATION_TOOLS = ("mutmut", "whatthepatch")


def mutation_tools() -> str:
    """The mutation tool versions requirements/mutation.txt pins, as docs/policies.md states them."""
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", (ROOT / MUTATION_REQUIREMENTS).read_text(), re.M))
    missing = [t for t in MUTATION_TOOLS if t not in pins]
    if missing:
        raise DocsError(f"{MUTATION_REQUIREMENTS} pins no {', '.join(missing)}: the mutation check needs them")
    return f"`mutmut=={pins['mutmut']}` (pinned in `{MUTATION_REQUIREMENTS}`, with `whatthepatch=={pins['whatthepatch']}` for `--use-patch-file`)."


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
        ROOT / "docs" / "components.md": {"package-map": package_map(), "resource-index": resource_index(summaries)},
        ROOT / "docs" / "policies.md": {
            "guardrails": guardrail_table(rows),
            "guardrail-classes": class_table(),
            "mutation-tools": mutation_tools(),
            "cost-estimates": cost_table(summaries),
        },
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
