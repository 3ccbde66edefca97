"""Records of the Pinot tests: the catalogue, product versions and enriched purchases, built in plain Python."""

from __future__ import annotations

import csv
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from streamstack import contract as rules
from streamstack import events
from streamstack.clients import producer
from streamstack.settings import Settings

_CONTRACT = rules.load_contract()
DISCOUNT = rules.allowed_values(_CONTRACT, "member_discount")[True][0]
SUPPLEMENT = rules.allowed_values(_CONTRACT, "supplement_price")[True][0]

def catalogue(settings: Settings) -> list[dict[str, str]]:
    with open(settings.config_dir / "products.csv") as f:
        return list(csv.DictReader(f))


def produce(settings: Settings, topic: str, key: str, records: list[dict[str, Any]]) -> None:
    p = producer({**settings.kafka_client_config(), "linger.ms": 20, "enable.idempotence": True})
    for record in records:
        p.produce(topic, key=str(record[key]), value=json.dumps(record))
    assert p.flush(30) == 0


def product_record(p: dict[str, str], moment: datetime, price: float, cogs: float) -> dict[str, Any]:
    """The product event of catalogue row ``p`` at ``moment``, with the given price and COGS."""
    return {
        "event_time": events.format_timestamp(moment),
        "product_id": p["ID"],
        "category": p["Category"],
        "item": p["Item"],
        "size": p["Size"],
        "cogs": cogs,
        "price": price,
        "inventory_level": int(p["Inventory"]),
        "contains_fruit": p["ContainsFruit"] == "TRUE",
        "contains_veggies": p["ContainsVeggies"] == "TRUE",
        "contains_nuts": p["ContainsNuts"] == "TRUE",
        "contains_caffeine": p["ContainsCaffeine"] == "TRUE",
        "propensity_to_buy": 1,
    }


def enriched(n: int, products: list[dict[str, str]], seed: int = 7) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    start = datetime.now(UTC) - timedelta(minutes=10)
    out = []
    for i in range(n):
        p = rnd.choice(products)
        price, qty, member = float(p["Price"]), rnd.randint(1, 4), rnd.random() < 0.3
        supplement = SUPPLEMENT if rnd.random() < 0.2 else 0.0
        discount = DISCOUNT if member else 0.0
        moment = start + timedelta(milliseconds=i)
        for line in (1, 2) if i % 5 == 0 else (1,):
            out.append(
                {
                    "transaction_time": events.format_timestamp(moment),
                    "transaction_timestamp": int(moment.timestamp() * 1000),
                    "transaction_id": f"tx-{i}",
                    "line_number": line,
                    "product_id": p["ID"],
                    "product_category": p["Category"],
                    "product_name": p["Item"],
                    "product_size": p["Size"],
                    "product_cogs": float(p["COGS"]),
                    "product_price": price,
                    "contains_fruit": p["ContainsFruit"] == "TRUE",
                    "contains_veggies": p["ContainsVeggies"] == "TRUE",
                    "contains_nuts": p["ContainsNuts"] == "TRUE",
                    "contains_caffeine": p["ContainsCaffeine"] == "TRUE",
                    "purchase_price": price,
                    "purchase_quantity": qty,
                    "is_member": member,
                    "member_discount": discount,
                    "add_supplements": supplement > 0,
                    "supplement_price": supplement,
                    "total_purchase": events.total_purchase(price, qty, supplement, discount),
                }
            )
    return out
