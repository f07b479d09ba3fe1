"""The real thing in a real browser: `streamlit run` on 127.0.0.1 against a seeded moto server,
opened in headless Chromium (Debian's chromium + chromium-driver, which .ci/run installs)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from tools.dashboard_demo.cli import CHROMIUM, DEMO_VERSIONS, running_demo, screenshot

pytestmark = pytest.mark.browser

TITLE = "Churn model · MLOps dashboard"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk comes first
    return width, height


def test_registry_page_renders_in_chromium_from_its_deep_link(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium is not installed ({CHROMIUM}): apt-get install chromium chromium-driver")
    shot = tmp_path / "dashboard.png"
    with (tmp_path / "streamlit.log").open("wb") as log, running_demo(log_file=log) as demo:
        page = screenshot(
            f"{demo.url}/registry",  # a bookmarked page, not only the root
            shot,
            # Wait for the table's cells, not just its frame: then the registry data is drawn.
            wait_for=('[data-testid="stDataFrame"]', '[data-testid="stDataFrame"] td'),
        )

    assert TITLE in page.text
    assert "Page not found" not in page.text
    assert "Model registry" in page.text
    assert "Demo data" in page.text  # the demo says what it is
    (table,) = page.tables
    header, *rows = table
    assert header[:5] == ["Version", "Approval", "Status", "Created (UTC)", "AUC"]
    newest_first = list(reversed(DEMO_VERSIONS))
    assert [row[1] for row in rows] == [v.approval for v in newest_first]
    assert [row[4] for row in rows] == [f"{v.metrics['auc']:.3f}" for v in newest_first]
    width, height = png_size(shot.read_bytes())
    assert width == 1440 and height >= 900
