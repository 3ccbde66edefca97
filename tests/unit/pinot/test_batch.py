"""The batch account: the run's own lines counted in Pinot, by the run's time range."""

from __future__ import annotations

import pytest

from streamstack.pinot.batch import account, batch_range

LIVE = {"purchases": 720, "started_at": "2026-12-02T06:17:35.000000+00:00",
        "finished_at": "2026-12-02T06:17:52.500000+00:00"}
START_MS, END_MS = 1796192255000, 1796192272500


class FakePinot:
    def __init__(self, enriched: int, dead: int) -> None:
        self.enriched, self.dead = enriched, dead
        self.sql: list[str] = []

    def query(self, sql: str) -> list[dict]:
        self.sql.append(sql)
        if "SELECT reason" in sql:
            return [{"reason": "no_product_version: product_id 'CS09' has no version valid at ..."}]
        return [{"n": self.enriched if "purchasesEnriched" in sql else self.dead}]


def test_live_run_range_is_its_wall_clock() -> None:
    assert batch_range(LIVE) == (START_MS, END_MS)


def test_simulated_run_range_is_its_event_times() -> None:
    simulated = {**LIVE, "simulated_days": 7, "first_event_time": "2026-11-01 07:00:00.000000",
                 "last_event_time": "2026-11-07 20:59:59.999000"}
    start, end = batch_range(simulated)
    assert (start, end) == (1793516400000, 1794085199999)


def test_every_line_in_pinot_is_complete_and_queries_the_range() -> None:
    pinot = FakePinot(enriched=1440, dead=0)  # another run in the same range only adds rows
    result = account(pinot, LIVE)
    assert result.complete and result.reasons == []
    assert f"BETWEEN {START_MS} AND {END_MS}" in pinot.sql[0]


def test_lines_turned_into_dead_letters_are_named_with_reasons() -> None:
    result = account(FakePinot(enriched=0, dead=2195), LIVE)
    assert not result.complete
    text = result.summary()
    assert "720 purchase lines" in text and "0 enriched rows" in text and "2195 dead letters" in text
    assert "no_product_version" in text


def test_a_summary_without_times_is_refused_in_one_line() -> None:
    with pytest.raises(ValueError, match="no usable started_at/finished_at"):
        batch_range({"purchases": 3})


def test_the_task_fails_the_run_without_retry_when_lines_are_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from streamstack.providers.pinot import tasks
    from streamstack.providers.pinot.hooks import PinotRestHook

    monkeypatch.setattr(PinotRestHook, "get_client", lambda self: FakePinot(enriched=0, dead=2195))
    with pytest.raises(AirflowFailException, match="purchases did not reach Pinot: the run's 720 purchase lines"):
        tasks.check_batch_accounted(LIVE)
    monkeypatch.setattr(PinotRestHook, "get_client", lambda self: FakePinot(enriched=720, dead=0))
    assert tasks.check_batch_accounted(LIVE)["complete"] is True
