"""Live chunks against the real broker: every sale of a chunk lands once and whole, even across a
crash and its retry; the catalogue is published once, not by every chunk.

Each test has topics of its own and a transactional id of its own; what the topics must hold is
rebuilt from the chunk's seed, so a duplicated, missing or partial sale fails the test.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from support.services import created_topics

import streamstack.generator.live as live
from streamstack.generator import DeliveryError
from streamstack.generator.kafka import KafkaSink
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs
from streamstack.topics.offsets import read_to_end

pytestmark = pytest.mark.integration

LIVE_SEED = 2026


@pytest.fixture
def live_topics(kafka: Settings) -> Iterator[TopicSpecs]:
    yield from created_topics(kafka, "live")


@pytest.fixture
def chunk_args(config, catalogue) -> dict[str, Any]:
    """A chunk's arguments: the same for its attempts, as the DAG passes them to a retry."""
    return {"live_seed": LIVE_SEED, "speed": 1000.0, "since_ms": int(time.time() * 1000) - 60_000,
            "config": config, "catalogue": catalogue, "transactional_id": f"live-test-{uuid.uuid4().hex[:8]}"}


def expected_lines(config, catalogue, chunk: int, transactions: int) -> dict[str, int]:
    """transaction_id -> number of lines, of the chunk's sales (redrawn from its seed)."""
    model = live.ChunkModel(config, catalogue, live.chunk_seed(LIVE_SEED, chunk), set())
    return {tx.transaction_id: len(tx.lines) for tx in (model.next_transaction() for _ in range(transactions))}


def assert_every_sale_once_and_whole(purchases: list[dict[str, Any]], expected: dict[str, int]) -> None:
    """Each expected sale's lines exactly once, numbered 1..n, and nothing else."""
    lines = [json.loads(r["value"]) for r in purchases]
    identities = Counter((line["transaction_id"], line["line_number"]) for line in lines)
    assert max(identities.values()) == 1, [i for i, n in identities.items() if n > 1]
    assert set(identities) == {(tid, n) for tid, count in expected.items() for n in range(1, count + 1)}
    assert len(lines) == sum(expected.values())


def test_a_chunk_run_twice_sends_every_sale_once(kafka_config, live_topics, config, catalogue, chunk_args) -> None:
    first = live.run_chunk(kafka_config, live_topics, chunk=1, transactions=12, **chunk_args)
    second = live.run_chunk(kafka_config, live_topics, chunk=1, transactions=12, **chunk_args)
    assert (first.transactions, first.skipped) == (12, 0)
    assert (second.transactions, second.skipped, second.purchases) == (0, 12, 0)
    purchases = read_to_end(kafka_config, live_topics["purchases"].name)
    assert_every_sale_once_and_whole(purchases, expected_lines(config, catalogue, 1, 12))
    assert len({r["key"] for r in purchases}) == 12


class CrashingSink(KafkaSink):
    """Dies in the middle of sale ``crash_in`` (1-based): its records are on the broker, uncommitted.

    The sink stays referenced (``ZOMBIES``), as a worker that lost its heartbeat but still runs:
    it is the retry's fencing, not this process's end, that must make its open sale disappear.
    """

    crash_in = 5

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commits = 0
        ZOMBIES.append(self)

    def commit(self) -> None:
        if self.commits == 1 + self.crash_in - 1:  # the catalogue, then the sales before the crash
            assert self._producer.flush(30) == 0  # the open sale's lines reached the broker
            raise RuntimeError("worker killed mid-sale")
        super().commit()
        self.commits += 1


ZOMBIES: list[CrashingSink] = []


def test_a_chunk_killed_mid_sale_and_retried_lands_every_sale_once(
    kafka_config, live_topics, config, catalogue, chunk_args, monkeypatch
) -> None:
    expected = expected_lines(config, catalogue, 2, 10)
    monkeypatch.setattr(live, "KafkaSink", CrashingSink)
    with pytest.raises(RuntimeError, match="worker killed"):
        live.run_chunk(kafka_config, live_topics, chunk=2, transactions=10, **chunk_args)
    (zombie,) = ZOMBIES
    monkeypatch.setattr(live, "KafkaSink", KafkaSink)

    retry = live.run_chunk(kafka_config, live_topics, chunk=2, transactions=10, **chunk_args)
    assert (retry.skipped, retry.transactions, retry.products) == (4, 6, 0)
    topic = live_topics["purchases"].name
    assert_every_sale_once_and_whole(read_to_end(kafka_config, topic), expected)

    # The half-sent sale is in the log, aborted: read_uncommitted sees it twice, read_committed once.
    crashed = list(expected)[CrashingSink.crash_in - 1]
    raw = Counter(json.loads(r["value"])["transaction_id"]
                  for r in read_to_end(kafka_config, topic, isolation="read_uncommitted"))
    assert raw[crashed] == 2 * expected[crashed] and sum(raw.values()) == sum(expected.values()) + expected[crashed]
    # The attempt the retry fenced can commit nothing any more.
    with pytest.raises(DeliveryError, match="not committed"):
        KafkaSink.commit(zombie)
    ZOMBIES.clear()


def test_two_chunks_publish_the_catalogue_once(kafka_config, live_topics, config, catalogue, chunk_args) -> None:
    first = live.run_chunk(kafka_config, live_topics, chunk=3, transactions=3, **chunk_args)
    second = live.run_chunk(kafka_config, live_topics, chunk=4, transactions=3, **chunk_args)
    assert (first.products, second.products) == (len(catalogue), 0)
    assert second.transactions == 3 and second.skipped == 0
    products = read_to_end(kafka_config, live_topics["products"].name)
    assert Counter(r["key"] for r in products) == Counter(p.product_id for p in catalogue.products)
    assert_every_sale_once_and_whole(read_to_end(kafka_config, live_topics["purchases"].name),
                                     {**expected_lines(config, catalogue, 3, 3), **expected_lines(config, catalogue, 4, 3)})


def test_a_fenced_chunk_lands_nothing_more(kafka_config, live_topics, config, catalogue, chunk_args) -> None:
    """``streamstack live stop`` fences the chunk it cut: the task, still running until its next
    heartbeat, can neither commit its open sale nor sell another."""
    zombie = KafkaSink(kafka_config, live_topics, config.producer, transactional_id=chunk_args["transactional_id"])
    zombie.begin()
    zombie.send_purchase("open-sale", json.dumps({"transaction_id": "open-sale", "line_number": 1}).encode())
    assert zombie._producer.flush(30) == 0  # on the broker, uncommitted

    live.fence(kafka_config, chunk_args["transactional_id"])

    with pytest.raises(DeliveryError, match="not committed"):
        zombie.commit()
    topic = live_topics["purchases"].name
    assert read_to_end(kafka_config, topic) == []
    assert [json.loads(r["value"])["transaction_id"] for r in read_to_end(kafka_config, topic, isolation="read_uncommitted")
            ] == ["open-sale"]  # aborted by the fence, not waiting for the broker's timeout
