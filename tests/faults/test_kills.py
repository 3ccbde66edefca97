"""Fault suite: kill -9 of the broker, of the stream job and of Pinot, each in the middle of its work.

One pipeline per module (topics, the purchasesEnriched table, the Spark enrichment job in
continuous mode) is shared by the tests, in file order, and each test adds a batch of
generated purchases: a test checks that everything sent so far is there exactly once. Each test
still stands alone (it sends a batch and starts the job itself when run by itself).
Small data (a few hundred lines), polling only; every test bounds its time.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import faultkit as fk
import pytest
from support import spark_testkit as kit

from streamstack.pinot import PinotClient
from streamstack.pinot.tables import TableSpec
from streamstack.runtime.process import pid_alive
from streamstack.settings import Settings
from streamstack.spark.control import SparkJobControl
from streamstack.spark.engine import SparkEngine
from streamstack.spark.jars import connector_jars
from streamstack.stack import Stack
from streamstack.topics import TopicSpecs

pytestmark = pytest.mark.integration
JOB = "purchases_enrichment"
#: Several micro-batches per batch of input, so a kill lands mid-run.
SLOW = ["--max-offsets-per-trigger", "40"]


@dataclass
class Pipeline:
    settings: Settings
    pinot: PinotClient
    topics: TopicSpecs
    table: TableSpec
    control: SparkJobControl
    sent: list[dict] = field(default_factory=list)  # every purchase line generated so far
    seeds: int = 0

    def next_seed(self) -> int:
        self.seeds += 1
        return 9000 + self.seeds

    def send(self, transactions: int, **kwargs) -> list[dict]:
        seed = self.next_seed()
        fk.generate(self.settings, self.topics, seed, transactions, **kwargs)
        batch = fk.expected_purchases(seed, transactions)
        self.sent.extend(batch)
        return batch

    def ensure_job(self) -> int:
        holder = self.control.holder(JOB)
        if holder is not None:
            return holder.pid
        return self.control.start(JOB, interval="1 second", conf=kit.LIGHT_CONF, extra_args=SLOW, wait=300)

    def expected_lines(self) -> set[fk.Line]:
        return {fk.line(p) for p in fk.valid(self.sent)}

    def wait_exact(self, timeout: float) -> None:
        """Pinot holds every valid line sent so far, once; the enriched topic holds each, maybe repeated."""
        want = self.expected_lines()
        fk.wait_for(lambda: fk.pinot_count(self.pinot, self.table.name) == len(want), timeout,
                    f"{len(want)} rows in {self.table.name}")
        enriched = fk.topic_lines(self.settings, self.topics["purchases_enriched"].name)
        assert set(enriched) == want  # after dedup: nothing lost, nothing invented
        (row,) = self.pinot.query(
            f"SELECT COUNT(*) AS n, COUNT(DISTINCT transaction_id) AS t FROM {self.table.name}")
        assert int(row["n"]) == len(want) and int(row["t"]) == len({t for t, _ in want})


@pytest.fixture(scope="module")
def pipeline(kafka: Settings, pinot: PinotClient, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    connector_jars(kafka)
    root = tmp_path_factory.mktemp("kills")
    topics = fk.make_topics(kafka)
    tables = fk.make_tables(kafka, pinot, topics, ["purchasesEnriched"])
    control = SparkJobControl(replace(kafka, state_dir=root / "state"), topics=topics,
                              checkpoint_dir=root / "checkpoints")
    p = Pipeline(kafka, pinot, topics, tables["purchasesEnriched"], control)
    try:
        yield p
    finally:
        control.stop(JOB, timeout=30)
        pinot.drop_table(p.table.name)
        fk.delete_topics(kafka, topics)


def _kill_9(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    fk.wait_for(lambda: not pid_alive(pid), 30, f"pid {pid} to die")


@pytest.mark.timeout(240)
def test_broker_kill_9_during_generation_loses_and_duplicates_nothing(pipeline: Pipeline) -> None:
    """Every acknowledged record is on the topic exactly once, across a broker kill -9 and restart."""
    broker = Stack(pipeline.settings, names=["kafka"]).get("kafka")
    going = threading.Event()
    outcome: dict = {}

    def run() -> None:
        try:
            # ~200 transactions at 2-5 s each, 200 times faster: ~4 s of producing, paced.
            outcome["batch"] = pipeline.send(
                200, mode="realistic", speed=200, progress=lambda done: done >= 30 and going.set())
        except BaseException as exc:  # noqa: BLE001 - reported below, in the test's thread
            outcome["error"] = exc
        finally:
            going.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert going.wait(60), "the generator did not start producing"
    assert thread.is_alive(), f"the generator finished before the kill: {outcome}"
    _kill_9(broker.process.pid())
    print(broker.up())
    thread.join(180)
    assert not thread.is_alive(), "the generator did not finish after the broker came back"
    assert "error" not in outcome, f"the run failed: {outcome['error']}"

    on_topic = Counter(fk.topic_lines(pipeline.settings, pipeline.topics["purchases"].name))
    assert set(on_topic) == {fk.line(p) for p in pipeline.sent}
    assert max(on_topic.values()) == 1, [k for k, n in on_topic.items() if n > 1][:5]


@pytest.mark.timeout(720)
def test_stream_job_kill_9_and_restart_is_exact_after_dedup(pipeline: Pipeline) -> None:
    if not pipeline.sent:
        pipeline.send(200, mode="load")
    control = pipeline.control
    control.stop(JOB, timeout=30)  # a fresh start: the kill must land while the job has lag
    pipeline.ensure_job()
    engine = SparkEngine(control.settings, topics=control.topics, checkpoint_dir=control.checkpoint_dir)
    fk.wait_for(lambda: engine.status(JOB).detail["committed_batch"] is not None, 300, "a committed batch")
    assert engine.status(JOB).lag.total > 0, "the job caught up before it could be killed mid-run"
    enriched = pipeline.topics["purchases_enriched"].name
    assert control.kill(JOB)
    assert control.holder(JOB) is None
    before = Counter(fk.topic_lines(pipeline.settings, enriched))

    pipeline.ensure_job()
    fk.wait_for(lambda: engine.status(JOB).lag.total == 0, 300, "the restarted job's lag to reach 0")
    pipeline.wait_exact(300)
    # Pinot's dedup hides copies, so count them on the topic: the restart went on from the
    # checkpoint, re-writing at most the one micro-batch the kill interrupted (40 offsets), not
    # everything again as a restart from scratch would.
    after = Counter(fk.topic_lines(pipeline.settings, enriched))
    copies = (sum(after.values()) - len(after)) - (sum(before.values()) - len(before))
    assert copies <= int(SLOW[1]), f"{copies} lines enriched again after the restart (one batch is {SLOW[1]})"


@pytest.mark.timeout(600)
def test_pinot_kill_9_during_ingestion_and_restart_is_exact(pipeline: Pipeline) -> None:
    pipeline.ensure_job()
    service = Stack(pipeline.settings, names=["pinot"]).get("pinot")
    before = fk.pinot_count(pipeline.pinot, pipeline.table.name)
    pipeline.send(150, mode="load")
    # Kill while the new batch is being ingested: some of it in, not all.
    want = len(pipeline.expected_lines())
    fk.wait_for(lambda: fk.pinot_count(pipeline.pinot, pipeline.table.name) > max(before, 0), 300,
                "the new batch to start arriving")
    assert fk.pinot_count(pipeline.pinot, pipeline.table.name) < want, "ingested everything before the kill"
    _kill_9(service.process.pid())
    print(service.up())
    pipeline.wait_exact(300)
