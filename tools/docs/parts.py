"""What every generated part of the docs shares: the repository and its shipped stacks, the markers
around a generated part in a hand-written page, and Markdown table cells."""

from __future__ import annotations

import re
from typing import Any

from tools.repository import ROOT as ROOT  # re-exported: the docs generators read it from here

STACKS = ("dev", "prod")
GENERATOR = "python -m tools.docs"


class DocsError(Exception):
    """A doc page lacks the markers of a generated part."""


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
    head, tail = text[: starts[0].start()], text[starts[0].end() :]
    if end not in tail:
        raise DocsError(f"{where}: '{end}' comes before its begin marker")
    tail = tail[tail.index(end) + len(end) :]
    return f"{head}{begin_marker(part)}\n{content.rstrip()}\n{end}{tail}"


def cell(text: Any) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def code(value: Any) -> str:
    return f"`{value}`"
