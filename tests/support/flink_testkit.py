"""Input builders and readers of the Flink integration tests (plain Python, independent of Flink)."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from streamstack import events
from streamstack.clients import producer
from streamstack.generator.catalogue import load_catalogue
from streamstack.generator.config import load_config
from support import kit as ck

read_topic = ck.read_topic


def catalogue():
    return load_catalogue(load_config().catalogue_file)


def base_time() -> datetime:
    """Two hours ago, on the minute: recent enough for the topics' retention."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return now.replace(second=0, microsecond=0) - timedelta(hours=2)


def purchase(moment: datetime, tid: int, product_id: str, price: float, quantity: int = 1) -> dict[str, Any]:
    """A valid purchase line (no member discount, no supplement), in ``events.PURCHASE`` order."""
    return {
        "transaction_time": events.format_timestamp(moment),
        "transaction_id": str(tid),
        "line_number": 1,
        "product_id": product_id,
        "price": price,
        "quantity": quantity,
        "is_member": False,
        "member_discount": 0.0,
        "add_supplements": False,
        "supplement_price": 0.0,
        "total_purchase": events.total_purchase(price, quantity, 0.0, 0.0),
    }


def produce(config: dict[str, Any], topic: str, records: list[dict[str, Any]], key: str,
            partition_of: Callable[[int], int] | None = None) -> None:
    p = producer({**config, "enable.idempotence": True, "acks": "all", "linger.ms": 5})
    for i, r in enumerate(records):
        kwargs = {"partition": partition_of(i)} if partition_of else {}
        p.produce(topic, key=str(r[key]), value=json.dumps(r).encode(), **kwargs)
        p.poll(0)
    assert p.flush(30) == 0, f"records to {topic} not delivered"


def values(config: dict[str, Any], topic: str) -> list[dict[str, Any]]:
    return [json.loads(r["value"]) for r in read_topic(config, topic)]


def latest_by(config: dict[str, Any], topic: str, key: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for r in sorted(read_topic(config, topic), key=lambda r: (r["partition"], r["offset"])):
        value = json.loads(r["value"])
        out[value[key]] = value
    return out


def poll_until(check: Callable[[], Any], timeout: float, what: str, every: float = 2.0) -> Any:
    """Call ``check`` until it returns a truthy value; fail naming ``what`` and the last value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"{what} not reached within {timeout:.0f}s (last: {str(last)[:500]})")


# -- running totals: batches of purchases and the totals they must add up to --------------------
def batch(start: int, count: int, base) -> list[dict]:
    products = catalogue().products[:5]
    return [
        purchase(base + timedelta(seconds=start + i), 700_000 + start + i, products[i % 5].product_id,
                    products[i % 5].price, quantity=1 + i % 3)
        for i in range(count)
    ]


def expected_totals(purchases: list[dict]) -> dict[str, tuple[int, int, Decimal]]:
    out: dict[str, list] = defaultdict(lambda: [0, 0, Decimal(0)])
    for p in purchases:
        t = out[p["product_id"]]
        t[0] += 1
        t[1] += p["quantity"]
        t[2] += Decimal(str(p["total_purchase"]))
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def totals_match(config: dict, topic: str, purchases: list[dict]) -> bool:
    latest = latest_by(config, topic, "product_id")
    got = {k: (v["transactions"], v["quantities"], Decimal(str(v["sales"]))) for k, v in latest.items()}
    want = expected_totals(purchases)
    if any(got.get(k, (0, 0, 0))[0] > w[0] for k, w in want.items()):
        raise AssertionError(f"double counting: {got} > {want}")
    return got == want
