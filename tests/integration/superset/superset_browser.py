"""Headless Chromium (Debian's ``chromium`` + ``chromium-driver``) driven by Selenium, for Superset pages.

No browser is downloaded: the binaries are the apt packages (``make browser-deps``). A dashboard
is "rendered" when every chart holder shows a big number, a table, or an ECharts canvas/svg, and
none shows a spinner; any error alert in a chart fails at once with the chart's title and text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from browser import BrowserTimeout, browser_available, start_browser, wait_for  # noqa: F401 (re-exported)
from selenium import webdriver
from selenium.webdriver.common.by import By

CHART = '[data-test="chart-grid-component"]'
ERROR = '[role="alert"], .ant-alert-error, [data-test="error-alert"]'
RENDERED = ".superset-legacy-chart-big-number .header-line, table, canvas, svg.recharts-surface, .echarts-for-react"


class DashboardError(AssertionError):
    """A chart showed an error, or the dashboard did not finish rendering in time."""


@dataclass
class ChartState:
    title: str
    rendered: bool
    error: str | None
    text: str


def login(driver: webdriver.Chrome, url: str, user: str, password: str, timeout: float = 60) -> None:
    driver.get(f"{url}/login/")
    wait_for(driver, lambda: driver.find_elements(By.ID, "username"), timeout, "the login form")
    driver.find_element(By.ID, "username").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "[type=submit]").click()
    wait_for(driver, lambda: "/login" not in driver.current_url, timeout, "the login to go through")


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
    except BrowserTimeout:
        states = chart_states(driver)
        pending = [s.title for s in states if not s.rendered]
        raise DashboardError(f"{url}: {len(states)} chart holders, not rendered: {pending}") from None


def screenshot(driver: webdriver.Chrome, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
    return path
