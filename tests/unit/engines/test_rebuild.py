"""All-time totals never silently shrink: a rebuild from a trimmed purchases topic is refused (#29)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from streamstack import engines
from streamstack.engines.protocol import prepare
from streamstack.settings import Settings
from streamstack.spark.lock import job_paths

NAMES = {"purchases": "demo.purchases", "running_totals": "demo.running.totals"}


@pytest.fixture
def trimmed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retention deleted the first 300 records of partition 1 of the purchases topic."""
    marks = {"demo.purchases": {0: (0, 500), 1: (300, 800)}}
    monkeypatch.setattr("streamstack.engines.rebuild.watermarks", lambda config, topic: marks.get(topic, {0: (0, 9)}))


def test_a_rebuild_from_a_trimmed_topic_says_what_would_be_lost(trimmed: None) -> None:
    with pytest.raises(engines.WouldShrink) as refused:
        engines.check_rebuild({}, NAMES, "running_totals")
    message = str(refused.value)
    assert "300 records are gone from demo.purchases" in message and "partition 1 from offset 300" in message
    assert "demo.running.totals" in message and "--allow-shrink" in message
    engines.check_rebuild({}, NAMES, "running_totals", allow_shrink=True)
    engines.check_rebuild({}, NAMES, "purchases_enrichment")  # no all-time values: nothing to shrink


def test_an_untrimmed_topic_rebuilds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("streamstack.engines.rebuild.watermarks", lambda config, topic: {0: (0, 500), 1: (0, 8)})
    engines.check_rebuild({}, NAMES, "running_totals")


class _Engine:
    name, kafka_config, topic_names = "fake", {}, NAMES

    def __init__(self) -> None:
        self.reset_jobs: list[str] = []

    def reset(self, job: str, *, allow_shrink: bool = False) -> list[str]:
        self.reset_jobs.append(job)
        return []


def test_a_fresh_start_refuses_before_resetting_any_job(trimmed: None) -> None:
    engine = _Engine()
    with pytest.raises(engines.WouldShrink):
        prepare(engine, ["purchases_enrichment", "running_totals"], resume=False)  # type: ignore[arg-type]
    assert engine.reset_jobs == [], "a job was reset before the refusal"
    assert prepare(engine, ["purchases_enrichment", "running_totals"], resume=True) == [  # type: ignore[arg-type]
        "purchases_enrichment", "running_totals"]
    with pytest.raises(engines.WouldShrink):  # Flink's bounded totals recompute from the start every run
        prepare(engine, ["running_totals"], resume=True, rebuilt=["running_totals"])  # type: ignore[arg-type]


def _spark_checkpoint(settings: Settings) -> Path:
    from streamstack.spark.jobs import checkpoint_root

    checkpoint = job_paths(checkpoint_root(settings), "running_totals")["checkpoint"]
    (checkpoint / "offsets").mkdir(parents=True, exist_ok=True)
    return checkpoint


def test_spark_reset_of_the_totals_keeps_the_checkpoint_when_refused(
    trimmed: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamstack.spark.engine import SparkEngine

    monkeypatch.setenv("STREAMSTACK_STATE_DIR", str(tmp_path))
    settings = Settings.from_env()
    checkpoint = _spark_checkpoint(settings)
    engine = SparkEngine(settings)
    with pytest.raises(engines.WouldShrink):
        engine.reset("running_totals")
    assert checkpoint.exists()
    assert engine.reset("running_totals", allow_shrink=True) and not checkpoint.exists()


def test_the_cli_refuses_and_accepts_with_allow_shrink(trimmed: None, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from streamstack.cli import cli

    monkeypatch.setenv("STREAMSTACK_STATE_DIR", str(tmp_path))
    checkpoint = _spark_checkpoint(Settings.from_env())
    runner = CliRunner()
    refused = runner.invoke(cli, ["engine", "reset", "--yes", "--engine", "spark", "purchases_enrichment", "running_totals"])
    assert isinstance(refused.exception, engines.WouldShrink) and checkpoint.exists()
    accepted = runner.invoke(cli, ["engine", "reset", "--yes", "--engine", "spark", "--allow-shrink", "running_totals"])
    assert accepted.exit_code == 0, accepted.output
    assert "running_totals: deleted" in accepted.output and not checkpoint.exists()


