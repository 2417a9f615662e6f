"""The plots page in a real headless Chromium (Debian's chromium and chromedriver), with the
network cut off: every chart renders, and no request leaves the machine. A screenshot of
the page is kept in test-artifacts/ (or $GFML_TEST_ARTIFACTS) to look at."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Repo, Run
from tests.test_cli_plots import plotted  # noqa: F401 - the fixture

ARTIFACTS = Path(
    os.environ.get("GFML_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "test-artifacts")
)


@pytest.fixture
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if binary is None or driver_path is None:
        pytest.fail(
            "chromium and chromedriver must be installed (apt-get install chromium chromium-driver)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1400,1800",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # no name resolves: nothing can leave
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0},
    )
    try:
        yield driver
    finally:
        driver.quit()


def _requests(driver: Any) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def test_every_chart_renders_offline_and_nothing_leaves(
    plotted: Repo,  # noqa: F811 - the fixture of that name
    run: Run,
    browser: Any,
) -> None:
    plotted.gen({"params.yaml": "train:\n  lr: 0.8\n"})
    run("repro")
    run("plots", "diff")
    page = plotted.root / "gitflowml_plots" / "index.html"
    browser.get(page.as_uri())
    charts = browser.find_elements("css selector", ".gfml-vega")
    assert len(charts) == 4
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        drawn = browser.execute_script(
            "return [...document.querySelectorAll('.gfml-vega')]"
            ".map(d => d.querySelectorAll('svg, canvas').length > 0)"
        )
        if all(drawn):
            break
        time.sleep(0.1)
    assert all(drawn), f"charts drawn: {drawn}"
    marks = browser.execute_script(
        "return document.querySelectorAll('.gfml-vega svg path, .gfml-vega svg .mark-rect').length"
    )
    assert marks > 20  # lines, points and cells, not just empty axes
    titles = browser.execute_script(
        "return [...document.querySelectorAll('.gfml-vega svg text')].map(t => t.textContent)"
    )
    assert "ROC" in titles
    assert "HEAD" in titles  # the revisions, told apart
    assert browser.execute_script("return document.querySelector('img').naturalWidth") == 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "plots-diff.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    leaving = [
        u for u in _requests(browser) if not u.startswith(("file:", "data:", "blob:", "about:"))
    ]
    assert leaving == []
