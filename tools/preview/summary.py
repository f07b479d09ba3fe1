"""The offline preview's JSON (`python -m tools.preview --json`) as a Markdown job summary, and the
pull request's preview comment.

    python -m tools.preview.summary preview/preview.dev.json preview/preview.prod.json >> "$GITHUB_STEP_SUMMARY"
    python -m tools.preview.summary --comment prod --pulumi-output preview.txt --exit-code 255 offline/preview.prod.json

`--comment STACK` renders the one comment the pull request workflow keeps per stack (updated on each
push): the verdict of `pulumi preview` (its exit code), the offline preview's summary with the cost
estimate, and the CLI's output (resource diff, every mandatory and advisory policy violation, the
pack's cost report). Over GitHub's comment size limit the output is trimmed from the front, so its
end - the policy report and the resource summary - always stays (as pulumi/actions'
`always-include-summary` does).

One row per stack (verdict, resources, violations), then every violation and error. A missing or
unreadable file is reported as a row, never as a failure: the summary runs after a failed step too.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Optional

MAX_MESSAGE = 600
# GitHub refuses comment bodies over 65536 characters: room for the rest of the comment.
MAX_CLI_OUTPUT = 50_000


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
        if data.get("costEstimate"):
            details += _cost(stack, data["costEstimate"])
        placeholders = summary.get("placeholders") or []
        if placeholders:
            details += [f"#### {stack}: {len(placeholders)} placeholder(s) that `pulumi up` refuses (advisory here)", ""]
            details += [f"- ⚠️ {_cell(str(p))}" for p in placeholders] + [""]
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


def _cost(stack: str, estimate: dict[str, Any]) -> list[str]:
    monthly, budget = float(estimate.get("monthlyUsd", 0)), float(estimate.get("budgetUsd", 0))
    verdict = "within" if monthly <= budget else "over"
    lines = [f"#### {stack}: estimated monthly cost ${monthly:,.2f} ({verdict} the ${budget:,.2f} budget)", ""]
    lines += [f"- ${float(i['monthlyUsd']):,.2f} {_cell(str(i['item']))}" for i in estimate.get("items", [])]
    for key, label in (("notPriced", "not priced"), ("excluded", "not included (usage-based)"), ("notes", "note")):
        if estimate.get(key):
            lines.append(f"- {label}: {_cell(', '.join(map(str, estimate[key])))}")
    return lines + [""]


def marker(stack: str) -> str:
    return f"<!-- sagemaker-mlops pulumi preview: {stack} -->"


def _tail(text: str, limit: int) -> str:
    """The end of `text` within `limit` characters, cut at a line start."""
    if len(text) <= limit:
        return text
    cut = text[len(text) - limit :]
    cut = cut[cut.find("\n") + 1 :]
    return f"... ({len(text) - len(cut)} characters of the beginning trimmed; the whole output is in the job log)\n{cut}"


def render_comment(stack: str, exit_code: str, cli_output: Optional[Path], offline: list[Path]) -> str:
    """The pull request comment for one stack's `pulumi preview`."""
    if exit_code == "":
        verdict = "⚪ did not run (see the job log)"
    elif exit_code == "0":
        verdict = "✅ passed"
    else:
        verdict = f"❌ failed (exit {exit_code}): a mandatory policy violation or an error blocks this change"
    text = ""
    if cli_output is not None:
        try:
            text = cli_output.read_text(errors="replace")
        except OSError as exc:
            text = f"(no output: {exc})"
    lines = [
        marker(stack),
        f"## `pulumi preview --stack {stack}` {verdict}",
        "",
        "Judged by the base branch's policy pack and config: a change to `policies/` takes effect once merged.",
        "",
        render(offline),
        "<details open><summary>pulumi preview output: resources, policy violations (mandatory and advisory), cost report</summary>",
        "",
        "```",
        _tail(text, MAX_CLI_OUTPUT).replace("```", "'''").rstrip("\n"),
        "```",
        "",
        "</details>",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.preview.summary", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("previews", nargs="+", type=Path, help="JSON files written by python -m tools.preview --json")
    parser.add_argument("--comment", metavar="STACK", help="render the pull request comment for this stack's pulumi preview")
    parser.add_argument("--pulumi-output", type=Path, help="the captured output of pulumi preview (with --comment)")
    parser.add_argument("--exit-code", default="", help="pulumi preview's exit code; empty: it did not run (with --comment)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.comment:
        sys.stdout.write(render_comment(args.comment, args.exit_code, args.pulumi_output, args.previews))
    else:
        sys.stdout.write(render(args.previews))
    return 0


if __name__ == "__main__":
    sys.exit(main())
