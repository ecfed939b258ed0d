"""``truckflow dashboard`` started for real, each page loaded in headless Chromium and captured.

A page fails the test when Streamlit shows an exception element on it, or when its own content
never appears. The PNGs stay under the test's tmp_path.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import Browser, chromium_path
from dashboard_process import free_port, start_dashboard, wait_healthy

from truckflow.settings import Settings

# page path, its title, a selector that exists once its content has drawn
PAGES = [
    ("", "truckflow overview", '[data-testid="stMetric"]'),
    ("pipelines", "Pipeline executions", '[data-testid="stGraphVizChart"] svg'),
    ("models", "Models", '[data-testid="stButton"] button'),
    ("drift", "Drift", '[data-testid="stImage"] img'),
    ("predictions", "Predictions vs ground truth", '[data-testid="stDataFrame"]'),
    ("notifications", "Notifications", '[data-testid="stDataFrame"]'),
    ("predict", "Predict a trip", '[data-testid="stForm"]'),
]


@pytest.fixture
def dashboard_url(prepared: tuple[Settings, dict[str, str]], tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = (tmp_path / "dashboard.log").open("wb")
    process = start_dashboard(prepared[0].home, port, log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_every_page_renders_without_an_error_in_chromium(
    dashboard_url: str, tmp_path: Path
) -> None:
    binary = chromium_path()
    if binary is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    browser = Browser(binary, tmp_path / "profile", free_port())
    shots: list[Path] = []
    try:
        for path, title, content in PAGES:
            ready = (
                f"(document.querySelector('h1')||{{}}).innerText === {title!r} && "
                f"document.querySelector('{content}')"
            )
            browser.open(f"{dashboard_url}/{path}", ready)
            shot = browser.screenshot(tmp_path / f"{path or 'overview'}.png")
            assert browser.count('[data-testid="stException"]') == 0, browser.text()[:2000]
            assert shot.stat().st_size > 20_000, f"{shot.name} looks blank"
            shots.append(shot)
    finally:
        browser.close()
    assert len(shots) == len(PAGES)
