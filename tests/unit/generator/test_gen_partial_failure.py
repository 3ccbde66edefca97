"""Finding #4: a generator run that fails part-way says what landed, per topic."""

from __future__ import annotations

from typing import Any

import pytest

import streamstack.generator.kafka as gk
from streamstack.generator.errors import DeliveryError
from streamstack.settings import Settings
from streamstack.topics import load_topics


class _Meta:
    def __init__(self, topics: list[str]) -> None:
        self.topics = dict.fromkeys(topics)


class _Err:
    def __str__(self) -> str:
        return "Broker: Not enough in-sync replicas"

    def fatal(self) -> bool:
        return False


class _Msg:
    def __init__(self, topic: str) -> None:
        self._topic = topic

    def topic(self) -> str:
        return self._topic


class FlakyProducer:
    """Acknowledges the first ``ok`` records, rejects the rest (what a dying broker does)."""

    def __init__(self, config: dict[str, Any], ok: int, names: list[str]) -> None:
        self.on_delivery = config["on_delivery"]
        self.ok, self.names, self.n = ok, names, 0

    def list_topics(self, timeout: float) -> _Meta:
        return _Meta(self.names)

    def produce(self, topic: str, value: bytes, key: str | None = None) -> None:
        self.n += 1
        if self.n > self.ok:
            self.on_delivery(_Err(), _Msg(topic))

    def poll(self, timeout: float) -> int:
        return 0

    def flush(self, timeout: float) -> int:
        return 0


def test_a_part_failed_run_says_what_landed(monkeypatch: pytest.MonkeyPatch) -> None:
    topics = load_topics(Settings.from_env().topics_file)
    names = [s.name for s in topics]
    monkeypatch.setattr(gk, "make_producer", lambda config: FlakyProducer(config, ok=7, names=names))
    sink = gk.KafkaSink({"bootstrap.servers": "localhost:1"}, topics)
    for i in range(3):
        sink.send_record("products", {"product_id": f"SC0{i}", "x": 1})
    for i in range(10):
        sink.send_purchase(str(100 + i), b"{}")
    with pytest.raises(DeliveryError) as err:
        sink.close()
    text = str(err.value)
    assert "7 of 13 records landed" in text, text
    assert f"{topics['products'].name} 3/3" in text and f"{topics['purchases'].name} 4/10" in text, text
    assert "rerun with the same seed" in text and "count each line (transaction_id+line_number) once" in text, text
    assert sink.landed() == {topics["products"].name: 3, topics["purchases"].name: 4}
