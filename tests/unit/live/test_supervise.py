"""The live supervisor's decisions, with a fake engine and a fake Pinot (the real ones:
``tests/faults/test_live_kill.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from streamstack.engines.protocol import JobStatus, Mode, State
from streamstack.engines.store import StateStore
from streamstack.errors import ConfigError
from streamstack.live import LiveConfig, LiveUnhealthy, load_live_config, supervise
from streamstack.live import supervisor as module
from streamstack.pinot.ingestion import TableIngestion
from streamstack.topics.offsets import Lag

NOW = 1_800_000_000.0
JOBS = ("purchases_enrichment", "running_totals")


class FakeEngine:
    name = "kstreams"
    kafka_config: dict[str, Any] = {}
    topic_names: dict[str, str] = {}

    def __init__(self) -> None:
        self.states = {job: JobStatus(self.name, job, State.RUNNING, Mode.CONTINUOUS) for job in JOBS}
        self.submitted: list[tuple[list[str], Mode, bool]] = []

    def status(self, job: str) -> JobStatus:
        return self.states[job]

    def submit(self, jobs: list[str], mode: Mode, *, resume: bool = True, allow_shrink: bool = False) -> dict:
        self.submitted.append((list(jobs), mode, resume))
        for job in jobs:
            self.states[job] = JobStatus(self.name, job, State.RUNNING, mode)
        return {}


class FakePinot:
    def __init__(self, lines: int = 1000, dead: int = 5) -> None:
        self.lines, self.dead = lines, dead
        self.sql: list[str] = []

    def query(self, sql: str) -> list[dict[str, int]]:
        self.sql.append(sql)
        return [{"n": self.dead if "deadLetters" in sql else self.lines}]


@pytest.fixture
def newest(monkeypatch: pytest.MonkeyPatch) -> dict[str, float | None]:
    """The newest enriched purchase (seconds before NOW) that ``measure`` reports."""
    age: dict[str, float | None] = {"s": 2.0, "now": NOW}

    def measure(client: Any, spec: Any, kafka_config: Any) -> TableIngestion:
        newest_ms = None if age["s"] is None else (age["now"] - age["s"]) * 1000
        return TableIngestion("purchasesEnriched", "t", {0: 10}, {0: 10}, 10, newest_ms)

    measure.now = age  # type: ignore[attr-defined]
    monkeypatch.setattr(module, "measure", measure)
    return age


def check(engine: FakeEngine, store: StateStore, pinot: FakePinot | None = None, at: float = NOW,
          live_since: float | None = None, **bounds: Any):
    from streamstack.live import Bounds

    module.measure.now["now"] = at  # type: ignore[attr-defined]

    config = LiveConfig(jobs=JOBS, bounds=Bounds(**bounds))
    return supervise(engine, pinot or FakePinot(), {"purchasesEnriched": None}, config, store,  # type: ignore[arg-type]
                     live_since=live_since, clock=lambda: at)


def test_a_healthy_pipeline_passes_and_nothing_is_restarted(tmp_path: Path, newest: dict) -> None:
    engine = FakeEngine()
    result = check(engine, StateStore(tmp_path))
    assert result.failures == [] and result.restarted == [] and engine.submitted == []
    assert [f.stage for f in result.findings] == [
        "kstreams purchases_enrichment", "kstreams running_totals", "generator", "pinot purchasesEnriched",
        "dead letters"]
    result.raise_if_unhealthy()


def test_a_failed_job_is_restarted_from_its_checkpoint_and_a_second_failure_is_a_crash_loop(
    tmp_path: Path, newest: dict
) -> None:
    engine, store = FakeEngine(), StateStore(tmp_path)
    engine.states["running_totals"] = JobStatus("kstreams", "running_totals", State.FAILED, Mode.CONTINUOUS,
                                                error="exit code 137")
    first = check(engine, store)
    assert engine.submitted == [(["running_totals"], Mode.CONTINUOUS, True)]
    assert first.restarted == ["running_totals"] and first.failures == []
    assert "restarted from its checkpoint (was FAILED: exit code 137)" in "\n".join(first.lines())

    engine.states["running_totals"] = JobStatus("kstreams", "running_totals", State.FAILED, Mode.CONTINUOUS,
                                                error="exit code 1")
    second = check(engine, store, at=NOW + 60)
    assert len(engine.submitted) == 2
    (failure,) = second.failures
    assert failure.stage == "kstreams running_totals" and "crash loop" in failure.text
    assert failure.text.endswith("last error: exit code 1")
    with pytest.raises(LiveUnhealthy, match=r"crash loop: restarted again 60 s after its previous restart \(bound: 5 min\)"):
        second.raise_if_unhealthy()

    # Up at the next check (scheduled or triggered) and down again soon after: still a loop (CI:
    # a scheduled check between two kills hid the second one when only the previous check counted).
    assert check(engine, store, at=NOW + 90).failures == []
    engine.states["running_totals"] = JobStatus("kstreams", "running_totals", State.FAILED, Mode.CONTINUOUS)
    (failure,) = check(engine, store, at=NOW + 120).failures
    assert "restarted again 60 s after its previous restart" in failure.text

    # Up for longer than the bound, then down: a new failure, restarted, not a loop.
    assert check(engine, store, at=NOW + 400).failures == []
    engine.states["running_totals"] = JobStatus("kstreams", "running_totals", State.FAILED, Mode.CONTINUOUS)
    assert check(engine, store, at=NOW + 421).failures == []
    assert len(engine.submitted) == 4

    # Stopped and live again (`streamstack live start`): a restart of the earlier session is history.
    engine.states["running_totals"] = JobStatus("kstreams", "running_totals", State.FAILED, Mode.CONTINUOUS)
    assert check(engine, store, at=NOW + 500, live_since=NOW + 450).failures == []
    assert len(engine.submitted) == 5


def test_an_engine_restarting_a_job_itself_is_a_crash_loop(tmp_path: Path, newest: dict) -> None:
    """Flink restarts failed tasks on its own: the job stays RUNNING while its ``restarts`` grow."""
    engine, store = FakeEngine(), StateStore(tmp_path)
    engine.states["purchases_enrichment"].detail = {"restarts": 0}
    assert check(engine, store).failures == []
    engine.states["purchases_enrichment"].detail = {"restarts": 3}
    engine.states["purchases_enrichment"].error = "RESTARTING: java.lang.OutOfMemoryError"
    (failure,) = check(engine, store, at=NOW + 60).failures
    assert "crash loop: the engine restarted it 3 time(s) since the last check" in failure.text
    assert "OutOfMemoryError" in failure.text
    assert engine.submitted == []


def test_lag_freshness_and_dead_letters_past_their_bounds_fail_with_the_numbers(
    tmp_path: Path, newest: dict
) -> None:
    engine = FakeEngine()
    engine.states["purchases_enrichment"].lag = Lag(behind={"demo.purchases": {0: 12_000}})
    newest["s"] = 75.0
    result = check(engine, StateStore(tmp_path), FakePinot(lines=1000, dead=80))
    texts = {f.stage: f.text for f in result.failures}
    assert texts == {
        "kstreams purchases_enrichment": "lag 12,000 records > bound 10,000",
        "pinot purchasesEnriched": "newest purchase 75.0 s old > bound 60 s",
        "dead letters": "80 dead letters / 1000 purchase lines in 10 min = 8.0% > bound 5.0%",
    }


def test_an_empty_table_is_not_fresh(tmp_path: Path, newest: dict) -> None:
    newest["s"] = None
    (failure,) = check(FakeEngine(), StateStore(tmp_path)).failures
    assert failure.text == "no rows > bound 60 s"


def test_only_the_enrichments_dead_letters_count_in_the_window(tmp_path: Path, newest: dict) -> None:
    pinot = FakePinot()
    check(FakeEngine(), StateStore(tmp_path), pinot)
    since = int((NOW - 600) * 1000)
    assert pinot.sql[-1] == (f"SELECT COUNT(*) AS n FROM deadLetters WHERE rejected_at > {since} "
                             "AND rejected_by = 'kstreams.purchases_enrichment'")


def test_the_config_file_is_checked_naming_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "live.yaml"
    project = Path(__file__).resolve().parents[3] / "config" / "live.yaml"
    assert load_live_config(project).bounds.freshness_seconds == 60
    for text, key in (("bounds: {freshness_seconds: -1}", "bounds.freshness_seconds"),
                      ("bounds: {dead_letter_rate: 2}", "bounds.dead_letter_rate"),
                      ("bounds: {freshnes_seconds: 5}", "bounds.freshnes_seconds"),
                      ("jobs: [enrichment]", "jobs"), ("check_every_seconds: 5", "check_every_seconds")):
        path.write_text(text)
        with pytest.raises(ConfigError) as raised:
            load_live_config(path)
        assert str(path) in str(raised.value) and f"key '{key}'" in str(raised.value), raised.value


def test_freshness_waits_for_the_first_sales_of_a_pipeline_just_started(tmp_path: Path, newest: dict) -> None:
    """The first check comes seconds after ``live start``: the newest row is from before it."""
    from streamstack.live import Bounds

    newest["s"] = 50_000.0
    config = LiveConfig(jobs=JOBS, bounds=Bounds())
    just = supervise(FakeEngine(), FakePinot(), {"purchasesEnriched": None}, config, StateStore(tmp_path),  # type: ignore[arg-type]
                     live_since=NOW - 10, clock=lambda: NOW)
    assert just.failures == []
    assert "(live for 10 s only)" in "\n".join(just.lines())
    later = supervise(FakeEngine(), FakePinot(), {"purchasesEnriched": None}, config, StateStore(tmp_path),  # type: ignore[arg-type]
                      live_since=NOW - 61, clock=lambda: NOW)
    (failure,) = later.failures
    assert failure.text == "newest purchase 50000.0 s old > bound 60 s"
