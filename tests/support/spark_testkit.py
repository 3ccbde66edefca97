"""Test input and output for the Spark jobs, made with confluent-kafka, independent of Spark.

Products come from config/products.csv, purchases from the recorded sample (line_number added),
both with the field names of streamstack.events. Expected results are computed here in plain
Python/pandas, never by the code under test.
"""

from __future__ import annotations

import calendar
import contextlib
import csv
import json
import os
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from streamstack import events
from streamstack.clients import producer
from streamstack.settings import Settings
from streamstack.spark.jobs import submission
from streamstack.topics import TopicSpecs
from streamstack.topics.offsets import read_to_end

PROJECT = Path(__file__).resolve().parents[3]
SAMPLE = PROJECT / "tests" / "data" / "sample_date_new.json"
PRODUCTS_CSV = PROJECT / "config" / "products.csv"
LIGHT_CONF = {"spark.sql.shuffle.partitions": "2", "spark.driver.memory": "1g", "spark.ui.enabled": "false"}


def catalogue(event_time: str = "2022-09-14 00:00:00.000000", price_bump: dict[str, float] | None = None) -> list[dict]:
    bump = price_bump or {}
    out = []
    with open(PRODUCTS_CSV, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            out.append(
                {
                    "event_time": event_time,
                    "product_id": row["ID"],
                    "category": row["Category"],
                    "item": row["Item"],
                    "size": row["Size"],
                    "cogs": float(row["COGS"]),
                    "price": round(float(row["Price"]) + bump.get(row["ID"], 0.0), 2),
                    "inventory_level": int(row["Inventory"]),
                    "contains_fruit": row["ContainsFruit"] == "TRUE",
                    "contains_veggies": row["ContainsVeggies"] == "TRUE",
                    "contains_nuts": row["ContainsNuts"] == "TRUE",
                    "contains_caffeine": row["ContainsCaffeine"] == "TRUE",
                    "propensity_to_buy": int(row["_RangeWeight"]),
                }
            )
    assert [list(p) for p in out[:1]] == [events.field_names(events.PRODUCT)]
    return out


def sample_purchases() -> list[dict]:
    """The 307 recorded lines, in the PURCHASE field order, with line_number 1..n per transaction."""
    seen: dict[str, int] = defaultdict(int)
    out = []
    for rec in json.loads(SAMPLE.read_text()):
        seen[rec["transaction_id"]] += 1
        rec = {**rec, "line_number": seen[rec["transaction_id"]]}
        out.append({name: rec[name] for name in events.field_names(events.PURCHASE)})
    return out


def produce(config: dict[str, str], topic: str, records: list[tuple[str | None, Any]]) -> None:
    """Produce ``(key, value)``; dict values are JSON, bytes/str are sent as they are."""
    p = producer({**config, "linger.ms": 20})
    for key, value in records:
        payload = json.dumps(value).encode() if isinstance(value, dict) else value
        p.produce(topic, key=key, value=payload)
        p.poll(0)
    left = p.flush(30)
    assert left == 0, f"{left} records not delivered to {topic}"


def produce_purchases(config: dict[str, str], topic: str, purchases: list[dict]) -> None:
    produce(config, topic, [(p["transaction_id"], p) for p in purchases])


def produce_catalogue(config: dict[str, str], topic: str, products: list[dict]) -> None:
    produce(config, topic, [(p["product_id"], p) for p in products])


def consume_all(config: dict[str, str], topic: str) -> list[dict]:
    """Every record of ``topic`` up to its current end: ``key, value (str), partition, offset, timestamp``."""
    return read_to_end(config, topic)


def by_line(records: list[dict]) -> dict[tuple[str, int], dict]:
    """Enriched records (as from ``consume_all``) by (transaction_id, line_number); a repeat fails."""
    out: dict[tuple[str, int], dict] = {}
    for r in records:
        value = json.loads(r["value"])
        key = (value["transaction_id"], value["line_number"])
        assert key not in out, f"duplicate enriched row {key}"
        out[key] = value
    return out


def run_job(
    job: str,
    settings: Settings,
    topics: TopicSpecs,
    checkpoint_dir: Path,
    *,
    extra_args: list[str] | None = None,
    timeout: float = 240,
) -> None:
    """Run a job available-now through the project's submission; fail with its log on error."""
    run_jobs([job], settings, topics, checkpoint_dir, extra_args=extra_args, timeout=timeout)


def run_jobs(
    jobs: list[str] | tuple[str, ...],
    settings: Settings,
    topics: TopicSpecs,
    checkpoint_dir: Path,
    *,
    timeout: float = 480,
    jars: list[Path] | None = None,
    extra_args: list[str] | None = None,
) -> None:
    """Run several jobs available-now side by side (as the DAGs do); fail with the log of any that fails.

    Each job has its own checkpoint and output topic; on two cores one job's JVM start and Kafka
    waits overlap another's work.
    """
    procs, logs, failures = {}, {}, []
    with contextlib.ExitStack() as files:
        for job in jobs:
            kwargs = {"jars": jars} if jars is not None else {}
            sub = submission(job, settings, topics=topics, checkpoint_dir=checkpoint_dir, conf=LIGHT_CONF,
                             extra_args=extra_args, **kwargs)
            # A file per job, not a pipe: an undrained pipe would stall a job while another is awaited.
            logs[job] = files.enter_context(tempfile.TemporaryFile("w+"))
            procs[job] = subprocess.Popen(sub.command("local[2]"), env={**os.environ, **sub.env},
                                          stdout=logs[job], stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + timeout
        try:
            for job, proc in procs.items():
                proc.wait(timeout=max(1.0, deadline - time.monotonic()))
                if proc.returncode != 0:
                    logs[job].seek(0)
                    failures.append(f"{job} exited {proc.returncode}:\n{logs[job].read()[-4000:]}")
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    assert not failures, "\n".join(failures)


def expected_enriched(purchase: dict, product: dict) -> dict:
    """An enriched record computed independently (PRODUCT.md section 2), field by field."""
    moment = events.parse_timestamp(purchase["transaction_time"])
    return {
        "transaction_time": purchase["transaction_time"],
        "transaction_timestamp": calendar.timegm(moment.utctimetuple()) * 1000 + moment.microsecond // 1000,
        "transaction_id": purchase["transaction_id"],
        "line_number": purchase["line_number"],
        "product_id": purchase["product_id"],
        "product_category": product["category"],
        "product_name": product["item"],
        "product_size": product["size"],
        "product_cogs": round(product["cogs"], 2),
        "product_price": round(product["price"], 2),
        "contains_fruit": product["contains_fruit"],
        "contains_veggies": product["contains_veggies"],
        "contains_nuts": product["contains_nuts"],
        "contains_caffeine": product["contains_caffeine"],
        "purchase_price": round(purchase["price"], 2),
        "purchase_quantity": purchase["quantity"],
        "is_member": purchase["is_member"],
        "member_discount": round(purchase["member_discount"], 2),
        "add_supplements": purchase["add_supplements"],
        "supplement_price": round(purchase["supplement_price"], 2),
        "total_purchase": round(purchase["total_purchase"], 2),
        "identity_derived": False,
    }
