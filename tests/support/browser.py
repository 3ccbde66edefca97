"""Headless Chromium for the browser tests: Debian's ``chromium`` + ``chromium-driver`` via Selenium.

Shared by the Airflow UI tests, the Superset dashboard tests (`superset_browser.py` adds the
dashboard checks) and bench/superset.py. No browser is downloaded: the
binaries are the apt packages (``make browser-deps``). ``wait_for`` polls (no fixed sleeps) and
``shot`` saves a screenshot under ``<state>/screenshots`` for a human to look at.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


class BrowserTimeout(AssertionError):
    """The page did not get where the test waited for it to go in time."""


def browser_available() -> str | None:
    """None if Chromium and its driver are installed, else what is missing."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    return f"missing {missing}: run `make browser-deps` (apt chromium chromium-driver)" if missing else None


def start_browser(width: int = 1600, height: int = 2200) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--hide-scrollbars"):  # fmt: skip
        options.add_argument(arg)
    # "performance": the DevTools network events, for ``outside_requests``.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(120)
    return driver


def wait_for(driver: webdriver.Chrome, check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` and the URL."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except (StaleElementReferenceException, WebDriverException):
            result = None
        if result:
            return result
        time.sleep(0.25)
    raise BrowserTimeout(f"timed out after {timeout:.0f}s waiting for {what} ({driver.current_url})")


def body_text(driver: webdriver.Chrome) -> str:
    return driver.find_element(By.TAG_NAME, "body").text


def console_errors(driver: webdriver.Chrome) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


@pytest.fixture(scope="session")
def browser() -> Iterator[webdriver.Chrome]:
    missing = browser_available()
    if missing:
        pytest.fail(missing)  # a browser test that silently skips would prove nothing
    driver = start_browser()
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def shot(tmp_path_factory: pytest.TempPathFactory) -> Callable[[webdriver.Chrome, str], Path]:
    """``shot(driver, name)`` saves ``<state>/screenshots/<name>.png`` and returns its path."""
    from streamstack.settings import Settings

    folder = Settings.from_env().state_dir / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)

    def save(driver: webdriver.Chrome, name: str) -> Path:
        path = folder / f"{name}.png"
        driver.save_screenshot(str(path))
        return path

    return save


#: Hosts of the stack: the pages, their APIs and assets must come from these alone.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def outside_requests(driver: webdriver.Chrome, allowed: frozenset[str] = LOCAL_HOSTS) -> list[str]:
    """URLs the browser sent a request to on a host that is not the stack's, since the last call.

    Read from Chromium's DevTools network events: a request the page's Content Security Policy
    blocked never left the browser and is not counted; one that failed (no internet here) is.
    """
    import json
    from urllib.parse import urlsplit

    sent: dict[str, str] = {}
    blocked: set[str] = set()
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message.get("method") == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if urlsplit(url).scheme in ("http", "https", "ws", "wss") and urlsplit(url).hostname not in allowed:
                sent[params["requestId"]] = url
        elif message.get("method") == "Network.loadingFailed" and params.get("blockedReason"):
            blocked.add(params["requestId"])
    return sorted({url for rid, url in sent.items() if rid not in blocked})
