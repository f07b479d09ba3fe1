"""The suite's own scheduling hint names real files (a renamed file would silently lose its place)."""

from __future__ import annotations

from pathlib import Path

from suite_order import LONGEST_FIRST

ROOT = Path(__file__).resolve().parents[1]


def test_every_file_run_first_exists():
    assert [path for path in LONGEST_FIRST if not (ROOT / path).is_file()] == []
    assert len(set(LONGEST_FIRST)) == len(LONGEST_FIRST)
