"""Pinot benchmark: freshness (produce -> queryable) at a steady rate, and the demo queries' latency.

Runs against the stack's Kafka and Pinot (`streamstack stack up`), on copies of the three demo
tables (purchasesEnriched, purchases, products) with topics of their own, dropped at the end, so
the demo data is untouched:

    python bench/pinot.py --rate 200 --duration 30 --rows 1000000

Freshness: every ``--probe-every`` seconds a marker line is produced and the broker is polled
until a query finds it. Query latency: the three named queries of ``streamstack.pinot.queries``
(pointed at the bench tables) after ``--rows`` sales are loaded into both sales tables and the
catalogue into products, ``--repeat`` times each.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import statistics
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from streamstack import events
from streamstack.clients import admin_client, producer
from streamstack.pinot import QUERIES, PinotError, local_client
from streamstack.pinot.ingestion import wait_caught_up
from streamstack.pinot.tables import apply_specs, load_specs
from streamstack.settings import Settings
from streamstack.topics import load_topics


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def count(client: Any, sql: str) -> int:
    """COUNT(*) result; 0 while the new table has no segment to answer from."""
    rows = client.query_table(sql)[1]
    return int(rows[0][0]) if rows else 0


def record(i: int, tx: str, rnd: random.Random) -> dict[str, Any]:
    pid = f"P{rnd.randint(1, 27):02d}"
    qty = rnd.randint(1, 4)
    now = datetime.now(UTC)
    return {
        "transaction_time": events.format_timestamp(now),
        "transaction_timestamp": int(now.timestamp() * 1000),
        "transaction_id": tx,
        "line_number": 1,
        "product_id": pid,
        "product_category": f"cat{int(pid[1:]) % 4}",
        "product_name": f"name {pid}",
        "product_size": "24 oz.",
        "product_cogs": 1.5,
        "product_price": 4.99,
        "contains_fruit": True,
        "contains_veggies": False,
        "contains_nuts": False,
        "contains_caffeine": False,
        "purchase_price": 4.99,
        "purchase_quantity": qty,
        "is_member": False,
        "member_discount": 0.0,
        "add_supplements": False,
        "supplement_price": 0.0,
        "total_purchase": events.total_purchase(4.99, qty, 0.0, 0.0),
    }


def bench_table(client: Any, admin: Any, settings: Settings, logical: str, suffix: str, partitions: int) -> tuple:
    """A copy of demo table ``logical`` on a topic of its own: ``(topic, table name, spec)``."""
    from confluent_kafka.admin import NewTopic

    names = load_topics(settings.topics_file).names()
    spec = load_specs(settings.config_dir / "pinot", names, settings.bootstrap_servers, [logical])[0]
    topic = f"bench.{spec.logical_topic}.{suffix}"
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result()
    spec = load_specs(
        settings.config_dir / "pinot", {**names, spec.logical_topic: topic}, settings.bootstrap_servers, [logical]
    )[0]
    name = f"{logical}_bench_{suffix}"
    table = {
        **spec.table,
        "tableName": name,
        "segmentsConfig": {**spec.table["segmentsConfig"], "schemaName": name},
    }
    spec = type(spec)(name, {**spec.schema, "schemaName": name}, table, spec.logical_topic, topic)
    apply_specs(client, [spec])
    deadline = time.monotonic() + 60
    while True:  # a new table is routed by the broker a few seconds after creation
        try:
            client.query_table(f"SELECT COUNT(*) FROM {name}")
            break
        except PinotError as exc:
            if "BrokerResourceMissingError" not in str(exc):
                raise
        if time.monotonic() > deadline:
            raise SystemExit(f"table {name} not queryable 60 s after creation")
        time.sleep(0.5)
    return topic, name, spec


def product(i: int) -> dict[str, Any]:
    now = events.format_timestamp(datetime.now(UTC))
    values = {"event_time": now, "product_id": f"P{i:02d}", "category": f"cat{i % 4}", "item": f"name P{i:02d}",
              "size": "24 oz.", "cogs": 1.5, "price": 4.99, "inventory_level": 100, "contains_fruit": True,
              "contains_veggies": False, "contains_nuts": False, "contains_caffeine": False, "propensity_to_buy": i}
    return {f.name: values[f.name] for f in events.PRODUCT}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=200.0, help="steady events/s during the freshness run")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of the freshness run")
    ap.add_argument("--probe-every", type=float, default=0.5)
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows loaded before the query run")
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--partitions", type=int, default=3)
    args = ap.parse_args()

    settings = Settings.from_env()
    client = local_client(settings)
    suffix = uuid.uuid4().hex[:6]
    admin = admin_client(settings.kafka_client_config())
    tables = {
        logical: bench_table(client, admin, settings, logical, suffix, partitions)
        for logical, partitions in (
            ("purchasesEnriched", args.partitions), ("purchases", args.partitions), ("products", 1)
        )
    }
    topic, name, _ = tables["purchasesEnriched"]
    purchases_topic, products_topic = tables["purchases"][0], tables["products"][0]
    p = producer({**settings.kafka_client_config(), "linger.ms": 5})
    rnd = random.Random(1)
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} cpus={__import__('os').cpu_count()}",
    }
    try:
        # -- freshness at a steady rate ------------------------------------------------------
        fresh: list[float] = []
        sent, start = 0, time.monotonic()
        next_probe = start
        while time.monotonic() - start < args.duration:
            due = int((time.monotonic() - start) * args.rate)
            while sent < due:
                p.produce(topic, key=f"s{sent}", value=json.dumps(record(sent, f"s{sent}", rnd)))
                sent += 1
            p.poll(0)
            if time.monotonic() >= next_probe:
                tx = f"probe-{len(fresh)}-{suffix}"
                t0 = time.monotonic()  # produce time: the send and the broker's ack count too
                p.produce(topic, key=tx, value=json.dumps(record(0, tx, rnd)))
                p.flush(10)
                while not count(client, f"SELECT COUNT(*) FROM {name} WHERE transaction_id = '{tx}'"):
                    if time.monotonic() - t0 > 30:
                        raise SystemExit(f"probe {tx} not queryable after 30 s")
                    time.sleep(0.01)
                fresh.append(time.monotonic() - t0)
                next_probe = time.monotonic() + args.probe_every
        p.flush(30)
        result["freshness_s"] = {
            "n": len(fresh),
            "rate_per_s": args.rate,
            "p50": round(pct(fresh, 50), 3),
            "p95": round(pct(fresh, 95), 3),
            "max": round(max(fresh), 3),
        }
        print(json.dumps(result["freshness_s"]))

        # -- load, then query latency ----------------------------------------------------------
        # The same sales in the purchases table (raw purchases) and the catalogue in products.
        t0 = time.monotonic()
        for i in range(args.rows - sent):
            enriched = record(i, f"r{i}", rnd)
            p.produce(topic, key=f"r{i}", value=json.dumps(enriched))
            p.produce(purchases_topic, key=f"r{i}", value=json.dumps(events.purchase_from_enriched(enriched)))
            if i % 10000 == 0:
                p.poll(0)
        for i in range(1, 28):
            p.produce(products_topic, key=f"P{i:02d}", value=json.dumps(product(i)))
        p.flush(120)
        produced_s = time.monotonic() - t0
        rows = {}
        for logical, (_, _, table_spec) in tables.items():
            rows[logical] = wait_caught_up(client, table_spec, settings.kafka_client_config(), timeout=1800, poll=5).rows
        result["load"] = {
            "rows": rows,
            "produce_s": round(produced_s, 1),
            "until_caught_up_s": round(time.monotonic() - t0, 1),
        }
        print(json.dumps(result["load"]))
        latency: dict[str, Any] = {}
        for q in QUERIES.values():
            sql = re.sub(
                r"\bFROM (purchasesEnriched|purchases|products)\b",
                lambda m: f"FROM {tables[m.group(1)][1]}",
                q.sql.format(limit=100),
            )
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                client.query_table(sql)
                times.append((time.perf_counter() - t) * 1000)
            latency[q.name] = {
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(pct(times, 95), 1),
            }
        count_times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            client.query_table(f"SELECT COUNT(*), AVG(total_purchase) FROM {name}")
            count_times.append((time.perf_counter() - t) * 1000)
        latency["count-avg"] = {
            "p50_ms": round(statistics.median(count_times), 1),
            "p95_ms": round(pct(count_times, 95), 1),
        }
        result["query_latency"] = latency
        print(json.dumps(result, indent=2))
    finally:
        for bench_topic, table_name, _ in tables.values():
            client.drop_table(table_name)
            admin.delete_topics([bench_topic])[bench_topic].result()


if __name__ == "__main__":
    main()
