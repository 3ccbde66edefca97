"""The Kafka readers against the real broker: exact offset ranges, time windows, bad records."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from streamstack.clients import producer
from streamstack.quality import CheckOptions, OffsetRange, QualityRunner, read_kafka_range, read_kafka_window
from streamstack.quality.catalogue import load_catalogue
from streamstack.quality.runner import REJECTED_NAME
from streamstack.quality.synthetic import synthetic_purchases
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs

pytestmark = pytest.mark.integration


def _enriched_topic(specs: TopicSpecs) -> str:
    (spec,) = [s for s in specs.topics if s.logical == "purchases_enriched"]
    assert spec.partitions > 1, "the test wants several partitions"
    return spec.name


def _produce(
    config: dict, topic: str, payloads: list[tuple[str, bytes]], timestamp_ms: int | None = None
) -> None:
    p = producer(config)
    errors: list[str] = []
    for key, value in payloads:
        kwargs = {"timestamp": timestamp_ms} if timestamp_ms is not None else {}
        p.produce(
            topic,
            key=key,
            value=value,
            on_delivery=lambda err, msg: errors.append(str(err)) if err else None,
            **kwargs,
        )
    assert p.flush(30) == 0
    assert errors == []


@pytest.fixture
def frame(kafka: Settings) -> pd.DataFrame:
    catalogue = load_catalogue(kafka.config_dir / "products.csv")
    return synthetic_purchases(120, catalogue, end=datetime.now(UTC), seed=3)


def _payloads(frame: pd.DataFrame) -> list[tuple[str, bytes]]:
    return [(r["transaction_id"], json.dumps(r).encode()) for r in frame.to_dict(orient="records")]


def test_offset_range_reads_exactly_the_range(
    kafka_config: dict, fresh_topics: TopicSpecs, frame: pd.DataFrame
) -> None:
    topic = _enriched_topic(fresh_topics)
    _produce(kafka_config, topic, [*_payloads(frame), ("bad", b"{not json")])
    from streamstack.topics.offsets import end_offsets

    highs = end_offsets(kafka_config, topic)
    assert sum(highs.values()) == len(frame) + 1

    full = read_kafka_range(kafka_config, topic, [OffsetRange(p, 0, h) for p, h in highs.items()], timeout=60)
    assert len(full.frame) == len(frame)
    assert [r.payload for r in full.rejected] == ["{not json"]
    assert sorted(full.frame["transaction_id"]) == sorted(frame["transaction_id"])
    assert all(loc.startswith("p") and "@" in loc for loc in full.locations)

    busiest = max(highs, key=highs.get)
    part = read_kafka_range(kafka_config, topic, [OffsetRange(busiest, 1, 3)], timeout=60)
    assert len(part.frame) + len(part.rejected) == 2
    assert {loc for loc in part.locations} | {r.location for r in part.rejected} == {
        f"p{busiest}@1",
        f"p{busiest}@2",
    }


def test_time_window_and_empty_window(
    kafka_config: dict, fresh_topics: TopicSpecs, frame: pd.DataFrame
) -> None:
    topic = _enriched_topic(fresh_topics)
    now = datetime.now(UTC)
    old = now - timedelta(hours=3)
    _produce(kafka_config, topic, _payloads(frame.head(20)), timestamp_ms=int(old.timestamp() * 1000))
    _produce(kafka_config, topic, _payloads(frame.iloc[20:]))
    recent = read_kafka_window(
        kafka_config, topic, now - timedelta(minutes=30), datetime.now(UTC) + timedelta(seconds=5)
    )
    assert len(recent.frame) == len(frame) - 20
    earlier = read_kafka_window(kafka_config, topic, old - timedelta(minutes=1), old + timedelta(minutes=1))
    assert sorted(earlier.frame["transaction_id"]) == sorted(frame.head(20)["transaction_id"])
    nothing = read_kafka_window(kafka_config, topic, now - timedelta(days=2), now - timedelta(days=1))
    assert nothing.is_empty


def test_runner_on_a_kafka_window(
    kafka: Settings, kafka_config: dict, fresh_topics: TopicSpecs, frame: pd.DataFrame, tmp_path: Path
) -> None:
    topic = _enriched_topic(fresh_topics)
    _produce(kafka_config, topic, [*_payloads(frame), ("bad", b"oops")])
    time.sleep(0.1)
    batch = read_kafka_window(
        kafka_config,
        topic,
        datetime.now(UTC) - timedelta(minutes=10),
        datetime.now(UTC) + timedelta(seconds=5),
    )
    summary = QualityRunner(kafka, results_root=tmp_path).check(batch, options=CheckOptions(data_docs=False))
    assert summary.rows_checked == len(frame)
    assert summary.status == "failed" and summary.failed_names == [REJECTED_NAME]
    assert "kafka " + topic in summary.source


def test_missing_topic_is_an_error(kafka_config: dict) -> None:
    from streamstack.quality import SourceError

    with pytest.raises(SourceError, match="no such topic|Unknown topic"):
        read_kafka_window(
            kafka_config,
            "demo.does.not.exist.quality",
            datetime.now(UTC) - timedelta(hours=1),
            datetime.now(UTC),
        )
