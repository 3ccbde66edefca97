"""Records and topic helpers of the Kafka Streams integration tests (one enrichment app on topics of its own)."""

from __future__ import annotations

import time
from typing import Any

from streamstack import events
from streamstack.clients import producer
from streamstack.topics.offsets import read_to_end

APP = "purchases_enrichment"
DEADLINE = 180.0


def purchase(product_id: str, tx: str, time_: str) -> dict[str, Any]:
    price, quantity = 5.99, 2
    return {
        "transaction_time": time_, "transaction_id": tx, "line_number": 1, "product_id": product_id,
        "price": price, "quantity": quantity, "is_member": False, "member_discount": 0.0,
        "add_supplements": False, "supplement_price": 0.0,
        "total_purchase": events.total_purchase(price, quantity, 0.0, 0.0),
    }


def product(product_id: str) -> dict[str, Any]:
    return {
        "event_time": "2026-12-01 09:00:00.000000", "product_id": product_id, "category": "Classic Smoothies",
        "item": "Sunny Day", "size": "24 oz.", "cogs": 1.5, "price": 5.99, "inventory_level": 50,
        "contains_fruit": True, "contains_veggies": False, "contains_nuts": False, "contains_caffeine": False,
        "propensity_to_buy": 3,
    }


def publish(config: dict[str, str], topic: str, records: list[tuple[str, bytes]]) -> None:
    p = producer({**config, "acks": "all", "enable.idempotence": True})
    for key, value in records:
        p.produce(topic, key=key, value=value)
        p.poll(0)
    assert p.flush(60) == 0


def wait_for(config: dict[str, str], topic: str, count: int) -> list[dict[str, Any]]:
    """The first ``count`` records of ``topic`` (read_committed, raw bytes), waiting up to DEADLINE."""
    deadline = time.monotonic() + DEADLINE
    records: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        records = read_to_end(config, topic, raw=True)
        if len(records) >= count:
            return sorted(records, key=lambda r: (r["partition"], r["offset"]))
        time.sleep(0.5)
    raise AssertionError(f"{topic}: {len(records)} records after {DEADLINE:.0f}s, expected {count}")
