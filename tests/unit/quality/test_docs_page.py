"""The Data Docs page served in Airflow: offline, naming source, window, rows, Airflow run, severities."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from streamstack.quality import Batch, CheckOptions, QualityRunner
from streamstack.quality.docs_page import gx_page, read_index, render_page, write_index

AIRFLOW = {"dag_id": "streaming_platform", "run_id": "manual__2026-01-01T12:00:00+00:00", "task_id": "quality_gate",
           "try_number": 1}


def _docs(runner: QualityRunner, frame: pd.DataFrame, options: CheckOptions, end) -> Path:
    batch = Batch(frame, "pinot purchasesEnriched", window=(end.replace(hour=11), end))
    summary = runner.check(batch, run_id="docs-test", options=replace(options, data_docs=True))
    return Path(summary.results_dir)


def test_page_names_what_was_checked_and_each_severity(runner, clean, options, end) -> None:
    clean.loc[0:4, "purchase_quantity"] = -1  # a critical failure
    results = _docs(runner, clean, options, end)
    page = render_page(results, AIRFLOW, gx_href="gx/validations/x.html")
    assert "FAILED: 400 rows from\npinot purchasesEnriched" in page, page[page.index("verdict"):][:300]
    assert "[2026-01-01" in page and "streaming_platform" in page and AIRFLOW["run_id"] in page
    assert "quality_gate (try 1)" in page
    assert "<span class='sev critical'>critical</span>" in page and "<span class='sev warning'>warning</span>" in page
    assert page.index("FAIL</td>") < page.index("pass</td>")  # failures first
    assert "http://" not in page and "https://" not in page  # nothing from the internet


def test_gx_page_has_no_cdn_tags_and_inlines_gx_css(runner, clean, options, end) -> None:
    site = _docs(runner, clean, options, end) / "data_docs"
    page = next((site / "validations").rglob("*.html")).relative_to(site)
    body = gx_page(site, str(page)).decode()
    assert '<script src="http' not in body and '<link href="http' not in body and 'href="https://cdn' not in body
    assert "<style>" in body
    assert gx_page(site, "../summary.json") is None


def test_index_round_trip(tmp_path: Path) -> None:
    write_index(tmp_path, AIRFLOW, "/x/results")
    assert read_index(tmp_path, "streaming_platform", AIRFLOW["run_id"], "quality_gate")["results_dir"] == "/x/results"
    assert read_index(tmp_path, "streaming_platform", "other", "quality_gate") is None
