"""Pinot benchmark: freshness (produce -> queryable) at a steady rate, and the demo queries' latency.

Runs against the stack's Kafka and Pinot (`streamstack stack up`), on a topic and a
purchasesEnriched-shaped table of its own (dropped at the end), so the demo data is untouched:

    python bench/pinot.py --rate 200 --duration 30 --rows 1000000

Freshness: every ``--probe-every`` seconds a marker line is produced and the broker is polled
until a query finds it. Query latency: the three named queries of ``streamstack.pinot.queries``
(pointed at the bench tables) after ``--rows`` enriched rows are loaded, ``--repeat`` times each.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
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
    topic = f"bench.purchases.enriched.{suffix}"
    from confluent_kafka.admin import NewTopic

    admin = admin_client(settings.kafka_client_config())
    admin.create_topics([NewTopic(topic, args.partitions, 1)])[topic].result()
    spec = load_specs(
        settings.config_dir / "pinot",
        {"purchases_enriched": topic},
        settings.bootstrap_servers,
        ["purchasesEnriched"],
    )[0]
    name = f"purchasesEnriched_bench_{suffix}"
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
            if client.query_table(f"SELECT COUNT(*) FROM {name}")[1]:
                break
        except PinotError as exc:
            if "BrokerResourceMissingError" not in str(exc):
                raise
        if time.monotonic() > deadline:
            raise SystemExit(f"table {name} not queryable 60 s after creation")
        time.sleep(0.5)
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
                p.produce(topic, key=tx, value=json.dumps(record(0, tx, rnd)))
                p.flush(10)
                t0 = time.monotonic()
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
        t0 = time.monotonic()
        for i in range(args.rows - sent):
            p.produce(topic, key=f"r{i}", value=json.dumps(record(i, f"r{i}", rnd)))
            if i % 10000 == 0:
                p.poll(0)
        p.flush(120)
        produced_s = time.monotonic() - t0
        state = wait_caught_up(client, spec, settings.kafka_client_config(), timeout=1800, poll=5)
        result["load"] = {
            "rows": state.rows,
            "produce_s": round(produced_s, 1),
            "until_caught_up_s": round(time.monotonic() - t0, 1),
        }
        print(json.dumps(result["load"]))
        latency: dict[str, Any] = {}
        for q in QUERIES.values():
            sql = q.sql.format(limit=100).replace("FROM purchasesEnriched", f"FROM {name}")
            if f"FROM {name}" not in sql:
                continue  # the products/purchases queries need their own tables; see docs
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
        client.drop_table(name)
        admin.delete_topics([topic])[topic].result()


if __name__ == "__main__":
    main()
