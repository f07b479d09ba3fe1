"""The suite's own scheduling hint names real files (a renamed file would silently lose its place)."""

from __future__ import annotations

from suite_order import LONGEST_FIRST

from tools.repository import ROOT


def test_every_file_run_first_exists():
    assert [path for path in LONGEST_FIRST if not (ROOT / path).is_file()] == []
    assert len(set(LONGEST_FIRST)) == len(LONGEST_FIRST)
