"""``streamstack topics tail`` against the real broker: the newest records, committed only, then new ones."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamstack.clients import admin_client, producer
from streamstack.settings import Settings
from streamstack.topics.tail import tail

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).parent / "streamstack")
BASE = 1_765_152_000_000


@pytest.fixture
def topic(kafka: Settings) -> Iterator[str]:
    from confluent_kafka.admin import NewTopic

    name = f"test.tail.{uuid.uuid4().hex[:8]}"
    admin = admin_client(kafka.kafka_client_config())
    admin.create_topics([NewTopic(name, 3, 1)])[name].result(30)
    yield name
    admin.delete_topics([name])[name].result(30)


def _produce(config: dict, topic: str, values: list[tuple[int, bytes]], *, abort: bytes | None = None) -> None:
    """Each value to partition i % 3 with timestamp BASE + i s; ``abort``: one more in an aborted transaction."""
    p = producer(config)
    for i, value in values:
        p.produce(topic, value=value, key=f"k{i}".encode(), partition=i % 3, timestamp=BASE + i * 1000)
    p.flush(30)
    if abort is not None:
        tx = producer({**config, "transactional.id": f"tail-{uuid.uuid4().hex}"})
        tx.init_transactions(30)
        tx.begin_transaction()
        tx.produce(topic, value=abort, partition=0, timestamp=BASE + 10_000_000)
        tx.flush(30)  # written to the log first: an abort purges what is still queued
        tx.abort_transaction(30)


def test_the_newest_committed_records_across_partitions_oldest_first(kafka: Settings, topic: str) -> None:
    config = kafka.kafka_client_config()
    _produce(config, topic, [(i, f'{{"n": {i}}}'.encode()) for i in range(12)], abort=b'{"n": "aborted"}')
    records = list(tail(config, topic, 5))
    assert [r.value for r in records] == [f'{{"n": {i}}}'.encode() for i in range(7, 12)]
    assert [r.partition for r in records] == [i % 3 for i in range(7, 12)]

    out = subprocess.run([CLI, "topics", "tail", topic, "-n", "2"], capture_output=True, text=True, timeout=60,
                         check=True).stdout.splitlines()
    assert [line.split(" key=")[1] for line in out] == ['k10 {"n":10}', 'k11 {"n":11}'], out


def test_follow_prints_new_records_as_they_come(kafka: Settings, topic: str) -> None:
    config = kafka.kafka_client_config()
    _produce(config, topic, [(0, b"first")])
    proc = subprocess.Popen([CLI, "topics", "tail", topic, "--follow"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().endswith("key=k0 first\n")
        _produce(config, topic, [(1, b"second"), (2, b"\xff\xfe")])
        seen = sorted(proc.stdout.readline().split(" key=")[1].strip() for _ in range(2))
        assert seen == ["k1 second", "k2 <2 bytes, not UTF-8: ff fe>"]
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_topic_that_does_not_exist_is_named() -> None:
    proc = subprocess.run([CLI, "topics", "tail", "no.such.topic"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode != 0
    assert "no.such.topic" in proc.stderr and "not found" in proc.stderr, proc.stderr
