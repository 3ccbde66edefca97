"""What a new user sees in the Airflow UI, in headless Chromium, after a streaming_platform run.

Runs after ``test_platform.py`` (file order) and reuses its finished ``streaming_platform`` run
(or ``make demo``'s); it starts one only when there is none. Screenshots land in
``<state>/screenshots``.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from support.browser import body_text, browser, console_errors, shot, wait_for  # noqa: F401 (fixtures)

from streamstack.airflow_client import AirflowClient
from streamstack.stack import Stack

PIPELINE = "streaming_platform"
#: The summary's head line (streamstack.quality.summary): "quality PASSED: <source> [window]".
VERDICT = re.compile(r"quality (PASSED|WARNING|FAILED|SKIPPED|EMPTY)\b", re.IGNORECASE)
WAIT = 120  # seconds; generous: the box is shared and the UI loads its bundle on first visit
# Longer than finished_run's own wait (1500 s), so a stuck run reports its task states, not a thread dump.
pytestmark = pytest.mark.timeout(1800)


@pytest.fixture(scope="module")
def finished_run(airflow: AirflowClient) -> str:
    airflow.wait_for_dag(PIPELINE)
    done = [r for r in airflow.runs(PIPELINE) if r["state"] == "success"]
    if done:
        return done[-1]["dag_run_id"]
    airflow.set_paused(PIPELINE, False)
    run_id = airflow.trigger(PIPELINE, {"transactions": 100, "mode": "load", "seed": 7, "speed": None})
    run = airflow.wait_for_run(PIPELINE, run_id, timeout=1500)
    assert run["state"] == "success", airflow.failure_report(PIPELINE, run_id)
    return run_id


@pytest.fixture(scope="module")
def ui(platform: Stack, browser):  # noqa: F811
    """The browser, logged in to the Airflow UI as admin (SimpleAuthManager, password in the state dir)."""
    url = platform.settings.airflow_url
    password = platform.get("airflow").password()  # type: ignore[attr-defined]
    browser.get(f"{url}/")
    wait_for(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "input[name=username], #username"), WAIT,
             "the login form")
    browser.find_element(By.CSS_SELECTOR, "input[name=username], #username").send_keys("admin")
    browser.find_element(By.CSS_SELECTOR, "input[name=password], #password, input[type=password]").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(browser, lambda: "/login" not in browser.current_url and "Dags" in body_text(browser), WAIT,
             "the login to go through")
    browser.base_url = url
    return browser


def test_dag_list_shows_the_entry_point_and_its_description(ui, shot) -> None:  # noqa: F811
    ui.get(f"{ui.base_url}/dags?tags=start-here")
    wait_for(ui, lambda: PIPELINE in body_text(ui), WAIT, "streaming_platform under the start-here tag")
    shot(ui, "01-dag-list-start-here")
    assert "1 Dag" in body_text(ui)
    ui.get(f"{ui.base_url}/dags/{PIPELINE}/details")
    wait_for(ui, lambda: "Description START HERE" in body_text(ui).replace("\n", " "), WAIT, "the DAG's description")
    shot(ui, "02-streaming-platform-details")


def test_quality_log_has_the_verdict_near_the_top(ui, finished_run: str, shot) -> None:  # noqa: F811
    url = f"{ui.base_url}/dags/{PIPELINE}/runs/{quote(finished_run, safe='')}/tasks/quality_gate"
    ui.get(url)
    wait_for(ui, lambda: VERDICT.search(body_text(ui)), WAIT, "the quality_gate log's verdict")
    shot(ui, "03-quality-gate-log")
    text = body_text(ui)
    assert "Skipping registering function" not in text
    assert "Skipping masking" not in text
    lines = [line for line in text.splitlines() if line.strip()]
    # Counted from the log's start (Airflow's collapsed "Pre Execute" group), not the page's chrome.
    start = next(i for i, line in enumerate(lines) if "Pre Execute" in line)
    verdict = next(i for i, line in enumerate(lines) if VERDICT.search(line))
    assert 0 < verdict - start <= 12, f"the verdict is {verdict - start} lines into the log:\n" + "\n".join(lines[start:])


def test_the_stream_jobs_log_reports_numbers(ui, finished_run: str, shot) -> None:  # noqa: F811
    """The wait for the engine's jobs ends with each run in numbers: read, written, dead-lettered."""
    ui.get(f"{ui.base_url}/dags/{PIPELINE}/runs/{quote(finished_run, safe='')}/tasks/stream_jobs_done")
    wait_for(ui, lambda: "purchases_enrichment: read" in body_text(ui), WAIT, "the enrichment's report in its log")
    shot(ui, "04-enrichment-log")
    assert "dead-lettered" in body_text(ui)


def test_data_docs_link_opens_a_styled_page_naming_the_source(ui, finished_run: str, shot) -> None:  # noqa: F811
    # Airflow 3.3 shows a task's extra links on its Details tab.
    ui.get(f"{ui.base_url}/dags/{PIPELINE}/runs/{quote(finished_run, safe='')}/tasks/quality_gate/details")
    link = wait_for(ui, lambda: [a for a in ui.find_elements(By.TAG_NAME, "a") if a.text.strip() == "Data Docs"],
                    WAIT, "the task's Data Docs link")[0]
    href = link.get_attribute("href")
    assert "/streamstack/data-docs/" in href, href
    console_errors(ui)  # drain what the Airflow UI logged (its own 401s while logging in): this page only
    ui.get(href)  # the link opens a new tab; the same page in this one
    wait_for(ui, lambda: ui.find_elements(By.ID, "verdict"), WAIT, "the Data Docs page")
    shot(ui, "05-data-docs")
    verdict = ui.find_element(By.ID, "verdict")
    assert "rows from pinot" in verdict.text.lower(), verdict.text
    # Styled offline: the verdict box has a coloured background from the inline stylesheet.
    assert verdict.value_of_css_property("background-color") not in ("rgba(0, 0, 0, 0)", "transparent")
    text = body_text(ui)
    for needed in ("Source", "Window", "Rows checked", "Airflow DAG", PIPELINE, finished_run, "quality_gate",
                   "CRITICAL", "WARNING"):
        assert needed in text, f"{needed!r} missing from the Data Docs page"
    assert console_errors(ui) == []


def test_trigger_form_guides_and_refuses_a_speed_of_zero(ui, shot, airflow: AirflowClient) -> None:  # noqa: F811
    before = {r["dag_run_id"] for r in airflow.runs(PIPELINE)}
    ui.get(f"{ui.base_url}/dags/{PIPELINE}")
    trigger = wait_for(ui, lambda: ui.find_elements(By.CSS_SELECTOR, "button[aria-label='Trigger Dag']"), WAIT,
                       "the Trigger button")
    trigger[0].click()
    speed = wait_for(ui, lambda: ui.find_elements(By.CSS_SELECTOR, "input[name=element_speed]"), WAIT,
                     "the speed field")[0]
    text = body_text(ui)
    for title in ("Transactions", "Generator mode", "Seed", "Speed (realistic mode)", "Realistic mode only"):
        assert title in text, f"{title!r} missing from the trigger form"
    assert speed.get_attribute("value") == "100"  # make demo's speed
    speed.send_keys(Keys.CONTROL, "a")
    speed.send_keys(Keys.BACKSPACE)
    # 0, the exclusive bound. Not a negative number: Airflow's number field turns a lone "-" into NaN
    # on its next render, so "-5" typed on a loaded box arrived as NaN, the form sent no speed and
    # CI's run started a real pipeline run instead of showing the refusal.
    speed.send_keys("0")
    wait_for(ui, lambda: speed.get_attribute("value") == "0", WAIT, "the speed field to read 0")
    try:
        [b for b in ui.find_elements(By.CSS_SELECTOR, "[role=dialog] button") if b.text.strip() == "Trigger"][0].click()
        wait_for(ui, lambda: "Invalid input for param speed" in body_text(ui), WAIT, "the form's refusal of speed 0")
        shot(ui, "06-trigger-form-refuses-speed")
        assert "less than or equal to the minimum of 0" in body_text(ui)
    finally:
        # A run the form should have refused must not go on beside the next tests' runs.
        created = [r["dag_run_id"] for r in airflow.runs(PIPELINE) if r["dag_run_id"] not in before]
        for run_id in created:
            airflow.request("DELETE", f"/dags/{PIPELINE}/dagRuns/{quote(run_id, safe='')}")
    assert created == [], f"the trigger form started {created} instead of refusing speed 0"
