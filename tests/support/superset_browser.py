"""Headless Chromium (Debian's ``chromium`` + ``chromium-driver``) driven by Selenium, for Superset pages.

No browser is downloaded: the binaries are the apt packages (``make browser-deps``). A dashboard
is "rendered" when every chart holder shows a big number, a table, or an ECharts canvas/svg, and
none shows a spinner; any error alert in a chart fails at once with the chart's title and text.
The page is read with one script per poll (one WebDriver round trip, not ~50), and a watcher in
the page stamps the moment every chart has rendered (``rendered_seconds``), so the benchmark times
the page, not this harness.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By

from support.browser import (  # noqa: F401 (re-exported)
    BrowserTimeout,
    browser_available,
    outside_requests,
    start_browser,
    wait_for,
)

CHART = '[data-test="chart-grid-component"]'
TITLE = '[data-test="editable-title"]'
ERROR = '[role="alert"], .ant-alert-error, [data-test="error-alert"]'
LOADING = '.loading, [aria-label="Loading"]'
# `.ant-empty`: Superset's "No results were returned" state, e.g. dead letters of a clean run:
# rendered, but without data (``ChartState.empty``); only the charts in ``MAY_BE_EMPTY`` may show it.
EMPTY = ".ant-empty"
#: Charts whose query may rightly return nothing on tidy data (a clean run has no dead letters).
MAY_BE_EMPTY = frozenset({"Dead Letters", "Dead Letters per Reason"})
RENDERED = (
    ".superset-legacy-chart-big-number .header-line, table, canvas, svg.recharts-surface, .echarts-for-react, .ant-empty"
)


# Every chart holder's title, first error and rendered flag, in one round trip. The first call on
# a page also starts a watcher that stamps ``performance.now()`` (ms since navigation start) the
# first time all ``expected`` charts have rendered without an error.
_STATES_JS = """
const [chartSel, titleSel, errorSel, loadingSel, renderedSel, expected, emptySel] = arguments;
const states = () => Array.from(document.querySelectorAll(chartSel), (holder) => {
  const title = holder.querySelector(titleSel), error = holder.querySelector(errorSel);
  return {title: title ? title.innerText : "?", error: error ? error.innerText : null,
          rendered: !!holder.querySelector(renderedSel) && !holder.querySelector(loadingSel),
          empty: !!holder.querySelector(emptySel),
          text: holder.innerText};
});
const done = (s) => s.length === expected && s.every((c) => c.rendered && !c.error);
if (expected > 0 && window.__streamstackRendered === undefined) {
  window.__streamstackRendered = null;
  const watch = setInterval(() => {
    if (done(states())) { window.__streamstackRendered = performance.now(); clearInterval(watch); }
  }, 20);
}
return states();
"""


class DashboardError(AssertionError):
    """A chart showed an error, or the dashboard did not finish rendering in time."""


@dataclass
class ChartState:
    title: str
    rendered: bool
    error: str | None
    text: str
    #: Rendered as "No results": the chart's query returned nothing.
    empty: bool = False


def login(driver: webdriver.Chrome, url: str, user: str, password: str, timeout: float = 60) -> None:
    driver.get(f"{url}/login/")
    wait_for(driver, lambda: driver.find_elements(By.ID, "username"), timeout, "the login form")
    driver.find_element(By.ID, "username").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "[type=submit]").click()
    wait_for(driver, lambda: "/login" not in driver.current_url, timeout, "the login to go through")


def chart_states(driver: webdriver.Chrome, expected_charts: int = 0) -> list[ChartState]:
    """Every chart holder's state, read in the page in one round trip (text as the user sees it)."""
    states = driver.execute_script(_STATES_JS, CHART, TITLE, ERROR, LOADING, RENDERED, expected_charts, EMPTY)
    return [ChartState(s["title"].strip(), s["rendered"], s["error"], _visible(s["text"]), s["empty"])
            for s in states]


def _visible(text: str) -> str:
    # innerText keeps no-break spaces and blank lines; Selenium's element text (what a reader
    # compares against) has neither.
    return "\n".join(line.strip() for line in text.replace("\u00a0", " ").splitlines() if line.strip())


def open_dashboard(driver: webdriver.Chrome, url: str, expected_charts: int, timeout: float = 180,
                   may_be_empty: frozenset[str] = MAY_BE_EMPTY) -> list[ChartState]:
    """Open a dashboard, wait until all ``expected_charts`` charts have rendered; fail on any error.

    A chart that renders "No results" fails too, unless its title is in ``may_be_empty``: an empty
    chart is what a wrong column, filter or table looks like.

    :return: the chart states (title, text) once all rendered; ``rendered_seconds`` says when that was.
    """
    driver.get(url)

    def done() -> list[ChartState] | None:
        states = chart_states(driver, expected_charts)
        failed = [s for s in states if s.error]
        if failed:
            raise DashboardError("chart error(s): " + "; ".join(f"{s.title!r}: {s.error}" for s in failed))
        if len(states) == expected_charts and all(s.rendered for s in states):
            empty = [s.title for s in states if s.empty and s.title not in may_be_empty]
            if empty:
                raise DashboardError(f"chart(s) showing no results: {empty}")
            return states
        return None

    try:
        return wait_for(driver, done, timeout, f"{expected_charts} charts to render")
    except BrowserTimeout:
        states = chart_states(driver)
        pending = [s.title for s in states if not s.rendered]
        raise DashboardError(f"{url}: {len(states)} chart holders, not rendered: {pending}") from None


#: The KPI tiles: chart holders that show a big number (``big_number`` / ``big_number_total``).
KPI = ".superset-legacy-chart-big-number"

# In every KPI chart holder: the big-number container itself, and every element that can scroll
# (computed overflow auto/scroll/overlay), whose content is taller or wider than its box (1 px of
# rounding allowed): a scroll bar for the reader, or text spilling out of the tile.
_OVERFLOW_JS = """
const [chartSel, titleSel, kpiSel] = arguments;
const scrolls = (v) => v === "auto" || v === "scroll" || v === "overlay";
return Array.from(document.querySelectorAll(chartSel)).filter((h) => h.querySelector(kpiSel)).map((holder) => {
  const title = holder.querySelector(titleSel);
  const over = [holder, ...holder.querySelectorAll("*")].filter((el) => {
    const style = getComputedStyle(el);
    return el.matches(kpiSel) || scrolls(style.overflowX) || scrolls(style.overflowY) || scrolls(style.overflow);
  }).filter((el) => el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1)
    .map((el) => `${el.tagName.toLowerCase()}.${Array.from(el.classList).join(".")} ` +
                 `content ${el.scrollWidth}x${el.scrollHeight} in a ${el.clientWidth}x${el.clientHeight} box`);
  return {title: title ? title.innerText.trim() : "?", overflowing: over};
});
"""


def kpi_overflow(driver: webdriver.Chrome) -> dict[str, list[str]]:
    """KPI tile title -> its elements whose content overflows their box (empty: no scroll bar, nothing cut)."""
    tiles = driver.execute_script(_OVERFLOW_JS, CHART, TITLE, KPI)
    return {t["title"]: t["overflowing"] for t in tiles}


def rendered_seconds(driver: webdriver.Chrome) -> float:
    """Seconds from navigation start until every chart of the open dashboard had rendered (page clock)."""
    stamp = driver.execute_script("return window.__streamstackRendered")
    if stamp is None:
        raise DashboardError(f"{driver.current_url}: the page never had every chart rendered at once")
    return float(stamp) / 1000


def screenshot(driver: webdriver.Chrome, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
    return path
