"""Headless Chromium (Debian's ``chromium`` + ``chromium-driver``) driven by Selenium, for Superset pages.

No browser is downloaded: the binaries are the apt packages (``make browser-deps``). A dashboard
is "rendered" when every chart holder shows a big number, a table, or an ECharts canvas/svg, and
none shows a spinner; any error alert in a chart fails at once with the chart's title and text.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHART = '[data-test="chart-grid-component"]'
ERROR = '[role="alert"], .ant-alert-error, [data-test="error-alert"]'
RENDERED = ".superset-legacy-chart-big-number .header-line, table, canvas, svg.recharts-surface, .echarts-for-react"


class DashboardError(AssertionError):
    """A chart showed an error, or the dashboard did not finish rendering in time."""


class DashboardTimeout(DashboardError):
    """Nothing failed, but the page did not get there in time."""


@dataclass
class ChartState:
    title: str
    rendered: bool
    error: str | None
    text: str


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
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(120)
    return driver


def login(driver: webdriver.Chrome, url: str, user: str, password: str, timeout: float = 60) -> None:
    driver.get(f"{url}/login/")
    wait_for(driver, lambda: driver.find_elements(By.ID, "username"), timeout, "the login form")
    driver.find_element(By.ID, "username").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "[type=submit]").click()
    wait_for(driver, lambda: "/login" not in driver.current_url, timeout, "the login to go through")


def wait_for(driver: webdriver.Chrome, check, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except (StaleElementReferenceException, WebDriverException):
            result = None
        if result:
            return result
        time.sleep(0.25)
    raise DashboardTimeout(f"timed out after {timeout:.0f}s waiting for {what} ({driver.current_url})")


def chart_states(driver: webdriver.Chrome) -> list[ChartState]:
    states = []
    for holder in driver.find_elements(By.CSS_SELECTOR, CHART):
        titles = holder.find_elements(By.CSS_SELECTOR, '[data-test="editable-title"]')
        title = titles[0].text if titles else "?"
        errors = holder.find_elements(By.CSS_SELECTOR, ERROR)
        loading = holder.find_elements(By.CSS_SELECTOR, '.loading, [aria-label="Loading"]')
        rendered = bool(holder.find_elements(By.CSS_SELECTOR, RENDERED)) and not loading
        states.append(ChartState(title, rendered, errors[0].text if errors else None, holder.text))
    return states


def open_dashboard(driver: webdriver.Chrome, url: str, expected_charts: int, timeout: float = 180) -> list[ChartState]:
    """Open a dashboard, wait until all ``expected_charts`` charts have rendered; fail on any error.

    :return: the chart states once all rendered (title, text) and the seconds it took.
    """
    driver.get(url)

    def done() -> list[ChartState] | None:
        states = chart_states(driver)
        failed = [s for s in states if s.error]
        if failed:
            raise DashboardError("chart error(s): " + "; ".join(f"{s.title!r}: {s.error}" for s in failed))
        if len(states) == expected_charts and all(s.rendered for s in states):
            return states
        return None

    try:
        return wait_for(driver, done, timeout, f"{expected_charts} charts to render")
    except DashboardTimeout:
        states = chart_states(driver)
        pending = [s.title for s in states if not s.rendered]
        raise DashboardError(f"{url}: {len(states)} chart holders, not rendered: {pending}") from None


def screenshot(driver: webdriver.Chrome, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
    return path
