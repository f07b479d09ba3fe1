"""The dashboard in headless Chromium: wait until a page is drawn, save a PNG, read its text and tables."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# --- the browser ------------------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@dataclass(frozen=True)
class PageCapture:
    text: str
    # Every st.dataframe on the page, as rows of cell texts (header first). The grid is drawn on a
    # canvas; these come from the accessible <table role="grid"> Streamlit renders alongside it.
    tables: list[list[list[str]]]


_READ_GRIDS = """
return Array.from(document.querySelectorAll('[data-testid="stDataFrame"] table[role="grid"]'))
  .map(t => Array.from(t.querySelectorAll('tr'))
    .map(r => Array.from(r.querySelectorAll('th, td')).map(c => c.textContent.trim())));
"""


def screenshot(
    url: str,
    path: Path,
    wait_for: Sequence[str] = ('[data-testid="stDataFrame"]',),
    width: int = 1440,
    timeout: float = 45,
) -> PageCapture:
    """Open `url` in headless Chromium, wait until the page is drawn, save a PNG; return its content."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    with tempfile.TemporaryDirectory(prefix="dashboard-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in (
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--window-size={width},1000",
        ):
            options.add_argument(flag)
        # An explicit driver path: Selenium then never tries to download one.
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        try:
            driver.get(url)
            wait = WebDriverWait(driver, timeout)
            for selector in wait_for:
                wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, selector)))
            # The status widget ("Running…") shows while the script runs: gone means drawn.
            wait.until(ec.invisibility_of_element_located((By.CSS_SELECTOR, '[data-testid="stStatusWidget"]')))
            height = driver.execute_script(
                "const main = document.querySelector('[data-testid=\"stMain\"]');"
                "return Math.max(document.body.scrollHeight, main ? main.scrollHeight : 0);"
            )
            driver.set_window_size(width, min(max(int(height) + 40, 900), 2400))
            time.sleep(1.0)  # charts re-layout after the resize
            path.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(path))
            return PageCapture(
                text=str(driver.find_element(By.TAG_NAME, "body").text),
                tables=driver.execute_script(_READ_GRIDS),
            )
        finally:
            driver.quit()
