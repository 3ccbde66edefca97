"""The engines' operator, deferrable sensor and trigger, on a fake engine (no services)."""

from __future__ import annotations

import asyncio
import json

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException, TaskDeferred

from streamstack import engines
from streamstack.engines import JobStatus, Mode, State
from streamstack.providers.engines import hooks, triggers
from streamstack.providers.engines.operators import StreamJobOperator
from streamstack.providers.engines.sensors import StreamJobSensor
from streamstack.providers.engines.triggers import StreamJobTrigger


class FakeEngine:
    """Each status() call moves a job one state along its script."""

    name, kafka_config = "fake", {}
    topic_names = {"purchases": "demo.purchases", "running_totals": "demo.running.totals"}

    def __init__(self, script: list[State]) -> None:
        self.script, self.calls, self.submitted = script, 0, []

    def submit(self, jobs, mode, *, resume=True, allow_shrink=False):
        self.submitted.append((list(jobs), mode, resume, allow_shrink))
        return {j: JobStatus(self.name, j, State.STARTING, mode) for j in jobs}

    def status(self, job):
        state = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        return JobStatus(self.name, job, state, Mode.BOUNDED, error="boom" if state == State.FAILED else None)

    def stop(self, job):
        return JobStatus(self.name, job, State.STOPPED)

    def reset(self, job, *, allow_shrink=False):
        return [f"checkpoint of {job}"]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch):
    engine = FakeEngine([State.RUNNING, State.RUNNING, State.FINISHED])
    monkeypatch.setattr(hooks, "engine_from_connections", lambda name, **conns: engine)
    return engine


def test_submit_passes_mode_and_resume_and_returns_each_jobs_status(fake) -> None:
    op = StreamJobOperator(task_id="act", jobs="['running_totals', 'sales_windows']", action="submit",
                           mode="continuous", resume="False")
    out = op.execute({})
    assert fake.submitted == [(["running_totals", "sales_windows"], Mode.CONTINUOUS, False, False)]
    assert out["running_totals"]["state"] == "STARTING" and out["running_totals"]["mode"] == "continuous"


@pytest.mark.parametrize(("field", "value", "match"), [
    ("action", "restart", "param action"), ("mode", "forever", "param mode"), ("jobs", ["nope"], "param jobs"),
])
def test_a_bad_param_fails_the_task_without_retry(fake, field: str, value, match: str) -> None:
    op = StreamJobOperator(task_id="act", **{field: value})
    with pytest.raises(AirflowFailException, match=match):
        op.execute({})


def test_reset_and_stop_report_what_they_did(fake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("streamstack.engines.rebuild.watermarks", lambda config, topic: {0: (0, 5)})
    assert StreamJobOperator(task_id="a", jobs=["running_totals"], action="reset").execute({}) == {
        "running_totals": ["checkpoint of running_totals"]}
    assert StreamJobOperator(task_id="a", jobs=["running_totals"], action="stop").execute({})[
        "running_totals"]["state"] == "STOPPED"


def test_a_reset_that_would_shrink_the_totals_fails_the_task_unless_allowed(fake, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamstack.engines import WouldShrink

    monkeypatch.setattr("streamstack.engines.rebuild.watermarks", lambda config, topic: {0: (40, 90)})
    with pytest.raises(WouldShrink, match="40 records are gone from demo.purchases"):
        StreamJobOperator(task_id="a", jobs=["running_totals"], action="reset").execute({})
    allowed = StreamJobOperator(task_id="a", jobs=["running_totals"], action="reset", allow_shrink="True")
    assert allowed.execute({}) == {"running_totals": ["checkpoint of running_totals"]}


def test_the_sensor_defers_while_the_jobs_run_and_holds_no_slot(fake) -> None:
    sensor = StreamJobSensor(task_id="wait", jobs=["running_totals"], mode="bounded", poll_interval=0.01)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})
    trigger = deferred.value.trigger
    assert isinstance(trigger, StreamJobTrigger) and deferred.value.method_name == "execute_complete"
    path, kwargs = trigger.serialize()
    assert path == "streamstack.providers.engines.triggers.StreamJobTrigger"
    assert json.loads(json.dumps(kwargs)) == kwargs  # stored as JSON by the triggerer
    event = asyncio.run(_first_event(StreamJobTrigger(**kwargs)))
    assert event.payload["status"] == "done" and fake.calls == 3
    assert sensor.execute_complete({}, event.payload)["running_totals"]["state"] == "FINISHED"


def test_a_failed_job_fails_the_wait_with_the_engines_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = FakeEngine([State.RUNNING, State.FAILED])
    monkeypatch.setattr(hooks, "engine_from_connections", lambda name, **conns: engine)
    sensor = StreamJobSensor(task_id="wait", jobs=["running_totals"], poll_interval=0.01)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})
    event = asyncio.run(_first_event(deferred.value.trigger))
    with pytest.raises(AirflowException, match="FAILED.*boom"):
        sensor.execute_complete({}, event.payload)


def test_nothing_to_wait_for_skips_so_no_asset_event_is_emitted(fake) -> None:
    with pytest.raises(AirflowSkipException):
        StreamJobSensor(task_id="wait", mode="none").execute({})


def test_a_job_beyond_the_end_of_its_input_is_never_done() -> None:
    status = JobStatus("spark", "running_totals", State.FINISHED, Mode.BOUNDED)
    status.lag.beyond_end = {"demo.purchases": {0: (400, 10)}}
    assert status.failed and "BEYOND THE END" in status.line()


def test_done_means_finished_for_bounded_and_running_with_a_commit_for_continuous() -> None:
    running = JobStatus("flink", "j", State.RUNNING, Mode.CONTINUOUS)
    assert not running.done(Mode.CONTINUOUS)
    running.last_commit = "2026-12-07T10:00:00+00:00"
    assert running.done(Mode.CONTINUOUS)
    assert running.done(Mode.BOUNDED)  # a continuous copy that has caught up did the bounded work
    running.lag.behind = {"p": {0: 3}}
    assert not running.done(Mode.BOUNDED)
    assert JobStatus("flink", "j", State.FINISHED, Mode.BOUNDED).done(Mode.BOUNDED)


def test_the_operator_family_runs_the_jobs_every_engine_runs() -> None:
    from streamstack.providers.engines.operators import JOBS

    assert list(JOBS) == list(engines.JOBS)


async def _first_event(trigger: StreamJobTrigger):
    async for event in trigger.run():
        return event
    raise AssertionError("no event")


def test_trigger_module_imports_nothing_heavy_at_the_top() -> None:
    """The triggerer imports the trigger; the engine is built inside ``run``."""
    assert "engine_from_connections" not in vars(triggers)


def test_a_finished_bounded_run_reports_what_it_read_wrote_and_dead_lettered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The task log ends with the run in numbers, the same way for every engine."""
    from streamstack.engines import report

    ends = {"demo.purchases.enriched": {0: 130, 1: 90}, "demo.purchases.invalid": {0: 12}}
    monkeypatch.setattr(report, "end_offsets", lambda config, topic: ends[topic])
    asked = {}

    def reasons(config, topic, ranges, rejected_by=None):
        asked.update(topic=topic, ranges=ranges, rejected_by=rejected_by)
        return {"total_mismatch": 2, "unknown_product": 1}

    monkeypatch.setattr(report, "count_reasons", reasons)
    engine = FakeEngine([State.FINISHED])
    engine.kafka_config, engine.topic_names = {}, {"purchases_enriched": "demo.purchases.enriched",
                                                   "purchases_invalid": "demo.purchases.invalid"}
    monkeypatch.setattr(hooks, "engine_from_connections", lambda name, **conns: engine)

    class TI:
        def xcom_pull(self, task_ids):
            assert task_ids == "act"
            return {"purchases_enrichment": {"state": "STARTING", "run": {
                "to_read": 223, "outputs_before": {"demo.purchases.enriched": {"0": 30, "1": 90},
                                                   "demo.purchases.invalid": {"0": 9}}}}}

    sensor = StreamJobSensor(task_id="wait", jobs=["purchases_enrichment"], submitted_task_id="act")
    out = sensor.execute({"ti": TI()})
    run = {k: v for k, v in out["purchases_enrichment"]["run"].items() if k != "dead_letters"}
    assert report.RunReport(**run).line() == (
        "purchases_enrichment: read 223 input records; wrote 100 to demo.purchases.enriched; "
        "dead-lettered 3 (total_mismatch 2, unknown_product 1)")
    assert asked == {"topic": "demo.purchases.invalid", "ranges": {0: (9, 12)}, "rejected_by": "fake.purchases_enrichment"}
    assert out["purchases_enrichment"]["run"]["dead_letters"] == 3
