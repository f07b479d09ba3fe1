"""The offline preview's JSON (`python -m tools.preview --json`) as a Markdown job summary.

    python -m tools.preview_summary preview/preview.dev.json preview/preview.prod.json >> "$GITHUB_STEP_SUMMARY"

One row per stack (verdict, resources, violations), then every violation and error. A missing or
unreadable file is reported as a row, never as a failure: the summary runs after a failed step too.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

MAX_MESSAGE = 600


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _block(text: str) -> list[str]:
    text = text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."
    return ["```", text.replace("```", "'''"), "```"]


def _load(path: Path) -> tuple[Optional[dict[str, Any]], Optional[str]]:
    try:
        return json.loads(path.read_text()), None
    except FileNotFoundError:
        return None, "not run (no preview output)"
    except (OSError, ValueError) as exc:
        return None, f"unreadable: {exc}"


def render(paths: list[Path]) -> str:
    rows = ["| stack | verdict | resources | mandatory | advisory |", "|---|---|---|---|---|"]
    details: list[str] = []
    for path in paths:
        data, problem = _load(path)
        if data is None:
            rows.append(f"| {_cell(path.name)} | ⚪ {_cell(problem or '')} | | | |")
            continue
        stack = str(data.get("stack", path.name))
        summary = data.get("summary") or {}
        if summary.get("error"):
            rows.append(f"| {_cell(stack)} | ❌ error | | | |")
            details += [f"#### {stack}: error", *_block(str(summary["error"]))]
            continue
        mandatory = int(summary.get("mandatoryViolations", 0))
        verdict = "❌ blocked" if mandatory else "✅ ok"
        rows.append(
            f"| {_cell(stack)} | {verdict} | {summary.get('resources', '')} | {mandatory} | {summary.get('advisoryViolations', '')} |"
        )
        violations = data.get("violations") or []
        if violations:
            details.append(f"#### {stack}: {len(violations)} policy finding(s)")
            for v in violations:
                where = f" `{v['urn']}`" if v.get("urn") else " (stack)"
                details.append(f"- **[{v.get('level')}] {v.get('policy')}**{where}")
                details += ["", *_block(str(v.get("message", ""))), ""]
    lines = ["### Offline preview (real program under Pulumi mocks, real policy pack)", "", *rows]
    if details:
        lines += ["", *details]
    return "\n".join(lines) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    paths = [Path(p) for p in (sys.argv[1:] if argv is None else argv)]
    if not paths:
        print("usage: python -m tools.preview_summary PREVIEW.json ...", file=sys.stderr)
        return 2
    sys.stdout.write(render(paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
