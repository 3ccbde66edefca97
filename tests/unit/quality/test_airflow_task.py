"""The DAG's task body maps pass / critical failure / empty onto success / fail / skip."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from streamstack import quality
from streamstack.providers.quality import tasks
from streamstack.quality import Batch, QualityRunner


class FakeTI:
    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


class NoEventsTable:
    """A Pinot without the shop's events table: the volume is not judged (quality/volume.py)."""

    def tables(self) -> list[str]:
        return ["purchasesEnriched"]


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch, runner: QualityRunner):
    """Make the Pinot path return ``frame`` and reuse the session's runner (no connections needed)."""
    calls: list[tuple[datetime, datetime]] = []

    def install(frame: pd.DataFrame) -> list[tuple[datetime, datetime]]:
        def fake_read(client: Any, start: datetime, end: datetime) -> Batch:
            calls.append((start, end))
            return Batch(frame, "fake pinot", window=(start, end))

        monkeypatch.setattr(quality, "read_pinot_window", fake_read)
        monkeypatch.setattr(
            "streamstack.providers.pinot.hooks.PinotRestHook.get_client", lambda self: NoEventsTable()
        )
        monkeypatch.setattr(quality, "QualityRunner", lambda settings=None: runner)
        return calls

    return install


def _run(end: datetime, ti: FakeTI, source: str = "pinot") -> dict[str, Any]:
    return tasks.check_purchases_enriched(
        source=source, window_end=end, window_minutes=60, run_id="scheduled__x", ti=ti
    )


def test_clean_window_returns_summary(serve, clean: pd.DataFrame, end: datetime) -> None:
    calls = serve(clean)
    ti = FakeTI()
    summary = _run(end, ti)
    assert summary["status"] == "passed"
    assert ti.xcom[tasks.SUMMARY_KEY] == summary
    assert calls == [(end - timedelta(hours=1), end)]
    assert summary["data_docs"]


def test_critical_failure_fails_without_retry(
    serve, clean: pd.DataFrame, end: datetime, caplog: pytest.LogCaptureFixture
) -> None:
    clean.loc[1, "total_purchase"] = 999.0
    serve(clean)
    ti = FakeTI()
    with pytest.raises(AirflowFailException, match=re.escape("total_mismatch(total_purchase)")):
        _run(end, ti)
    assert ti.xcom[tasks.SUMMARY_KEY]["status"] == "failed"
    assert "[critical] total_mismatch(total_purchase)" in caplog.text
    assert "bad row row 1" in caplog.text


def test_empty_window_skips(serve, end: datetime) -> None:
    serve(pd.DataFrame())
    ti = FakeTI()
    with pytest.raises(AirflowSkipException, match="nothing to check"):
        _run(end, ti)
    assert ti.xcom[tasks.SUMMARY_KEY]["status"] == "empty"


def test_bad_params_fail_loudly(end: datetime) -> None:
    with pytest.raises(AirflowFailException, match="source"):
        _run(end, FakeTI(), source="hive")
