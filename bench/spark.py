"""Benchmark of the Spark jobs against the real local broker; results go to bench/RESULTS.md.

1. Available-now throughput: ``purchases_enrichment`` vs ``copy_topic`` (same Kafka read, same
   Kafka write, no logic) over the same N purchases, in the same run; prints both and the ratio.
   A third run, ``copy_topic --json-roundtrip`` (parse and re-serialise, nothing else), shows how
   much of the gap any JSON-in/JSON-out job pays.
2. Continuous latency: the enrichment job running with a processing-time trigger while purchases
   are produced at a steady rate; latency = enriched record's timestamp (set when Spark's producer
   sends it) - the purchase's produce timestamp, p50/p95.

Usage: ``.venv/bin/python bench/spark.py --count 1000000 --rate 1000 --seconds 60``.
Uses its own suffixed topics and a temporary checkpoint directory, and deletes both afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from confluent_kafka import TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parent))
import rounds as rb  # bench/rounds.py: alternating rounds, best of N, spread, RESULTS.md

from streamstack import events
from streamstack.clients import admin_client, consumer, producer
from streamstack.settings import Settings
from streamstack.spark.engine import SparkEngine
from streamstack.spark.jobs import JobSpec, submission
from streamstack.topics import TopicAdmin, TopicSpecs, load_topics

PROJECT = Path(__file__).resolve().parents[1]
CONF = {"spark.sql.shuffle.partitions": "2", "spark.driver.memory": "2g"}


def purchases(count: int, start_id: int = 10**12) -> list[bytes]:
    """``count`` purchase lines recycled from the recorded sample, each with a unique transaction id."""
    sample = json.loads((PROJECT / "tests" / "data" / "sample_date_new.json").read_text())
    names = events.field_names(events.PURCHASE)
    out = []
    for i in range(count):
        rec = {**sample[i % len(sample)], "transaction_id": str(start_id + i), "line_number": 1}
        out.append(json.dumps({n: rec[n] for n in names}).encode())
    return out


def catalogue() -> list[tuple[str, bytes]]:
    import csv

    rows = []
    with open(PROJECT / "config" / "products.csv", encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            rec = {
                "event_time": events.format_timestamp(datetime.now(UTC)), "product_id": r["ID"],
                "category": r["Category"], "item": r["Item"], "size": r["Size"], "cogs": float(r["COGS"]),
                "price": float(r["Price"]), "inventory_level": int(r["Inventory"]),
                "contains_fruit": r["ContainsFruit"] == "TRUE", "contains_veggies": r["ContainsVeggies"] == "TRUE",
                "contains_nuts": r["ContainsNuts"] == "TRUE", "contains_caffeine": r["ContainsCaffeine"] == "TRUE",
                "propensity_to_buy": int(r["_RangeWeight"]),
            }
            rows.append((r["ID"], json.dumps(rec).encode()))
    return rows


def produce(config: dict, topic: str, records: list[tuple[str, bytes]]) -> None:
    p = producer({**config, "linger.ms": 50, "batch.num.messages": 10000, "queue.buffering.max.messages": 500000})
    for key, value in records:
        while True:
            try:
                p.produce(topic, key=key, value=value)
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    if p.flush(120):
        raise RuntimeError(f"records not delivered to {topic}")


def run_available_now(job: str, settings: Settings, topics: TopicSpecs, ck: Path, extra: list[str]) -> dict:
    sub = submission(job, settings, topics=topics, checkpoint_dir=ck, conf=CONF, extra_args=extra)
    started = time.monotonic()
    proc = subprocess.run(sub.command("local[2]"), env={**os.environ, **sub.env}, capture_output=True, text=True)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{job} failed:\n{proc.stderr[-3000:]}")
    progress = json.loads((ck / f"{job}.progress.json").read_text())["last_progress"]
    return {"wall_s": wall, "batch_s": progress["batchDuration"] / 1000, "rows": progress["numInputRows"]}


def latency(
    settings: Settings, topics: TopicSpecs, ck: Path, rate: int, seconds: int, interval: str, warmup: int
) -> dict:
    """Produce at ``rate`` for ``warmup + seconds``; the first ``warmup`` seconds are reported apart.

    The first micro-batches after a start run the validation's generated code before the JIT
    has compiled it (1-1.5 s each instead of ~0.5 s) and build a backlog; steady state is what
    "latency at 1,000 events/s" means, the warm-up is shown next to it.
    """
    config = settings.kafka_client_config()
    engine = SparkEngine(settings, topics=topics, checkpoint_dir=ck)
    control = engine.control
    control.start("purchases_enrichment", interval=interval, conf=CONF, extra_args=["--starting-offsets", "latest"])
    try:
        deadline = time.monotonic() + 120
        while engine.status("purchases_enrichment").detail["committed_batch"] is None:
            if time.monotonic() > deadline:
                raise RuntimeError("continuous job made no first batch in 120 s")
            time.sleep(1)
        sent: dict[str, int] = {}

        def on_delivery(err, msg) -> None:
            if err is None:
                sent[msg.key().decode()] = msg.timestamp()[1]

        p = producer({**config, "linger.ms": 5})
        start_id = 2 * 10**12
        records = purchases(rate * (warmup + seconds), start_id=start_id)
        first_measured = str(start_id + rate * warmup)
        step, t0 = rate // 10, time.monotonic()
        for i in range(0, len(records), step):
            for value in records[i : i + step]:
                p.produce(topics["purchases"].name, key=json.loads(value)["transaction_id"], value=value, on_delivery=on_delivery)
            p.poll(0)
            time.sleep(max(0.0, t0 + (i + step) / rate - time.monotonic()))
        p.flush(60)
        deadline = time.monotonic() + 120
        while engine.status("purchases_enrichment").lag.total:
            if time.monotonic() > deadline:
                raise RuntimeError("continuous job did not catch up in 120 s")
            time.sleep(1)
        final = engine.status("purchases_enrichment")
    finally:
        control.stop("purchases_enrichment")
    c = consumer({**config, "group.id": f"bench-{uuid.uuid4().hex}", "auto.offset.reset": "earliest"})
    out_topic = topics["purchases_enriched"].name
    parts = c.list_topics(out_topic, timeout=10).topics[out_topic].partitions
    c.assign([TopicPartition(out_topic, p, 0) for p in parts])
    lat, warm, idle = [], [], time.monotonic()
    while len(lat) + len(warm) < len(sent) and time.monotonic() - idle < 15:
        msg = c.poll(0.5)
        if msg is None or msg.error():
            continue
        idle = time.monotonic()
        key = msg.key().decode()
        if key in sent:
            # Same-length decimal ids: text order is numeric order.
            (lat if key >= first_measured else warm).append(msg.timestamp()[1] - sent[key])
    c.close()
    return {
        "sent": len(sent), "received": len(lat) + len(warm), "interval": interval, "rate": rate, "seconds": seconds,
        "warmup": warmup, "warm_p95_ms": rb.latency_summary(warm)["p95_ms"] if warm else None,
        **rb.latency_summary(lat), "rows_per_s": final.detail.get("rows_per_s"), "load": rb.load(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--interval", default="200 milliseconds")
    ap.add_argument("--warmup", type=int, default=20, help="seconds produced before latency is measured")
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    settings = Settings.from_env()
    config = settings.kafka_client_config()
    suffix = f"bench{uuid.uuid4().hex[:6]}"
    declared = load_topics(settings.topics_file)
    specs = TopicSpecs(declared.file, tuple(replace(t, name=f"{t.name}.{suffix}") for t in declared.topics))
    copy_topic = f"demo.bench.copy.{suffix}"
    TopicAdmin(config).apply(specs)
    from confluent_kafka.admin import NewTopic

    out_partitions = specs["purchases_enriched"].partitions
    admin = admin_client(config)
    for future in admin.create_topics([NewTopic(copy_topic, out_partitions, 1)]).values():
        future.result()
    with tempfile.TemporaryDirectory(prefix="spark-bench-") as tmp:
        settings = replace(settings, state_dir=Path(tmp) / "state")
        try:
            produce(config, specs["products"].name, catalogue())
            t = time.monotonic()
            produce(config, specs["purchases"].name, [(v[32:45].decode(), v) for v in purchases(a.count)])
            print(f"produced {a.count} purchases in {time.monotonic() - t:.1f}s")
            from streamstack.spark import jobs as jobs_module

            jobs_module.JOBS["copy_topic"] = JobSpec("copy_topic", "copy_topic.py", {"purchases-topic": "purchases"})
            # Each round from scratch (a checkpoint of its own): every round reads all N purchases.
            runs = rb.alternate(a.rounds, {
                "enrich": lambda r: run_available_now("purchases_enrichment", settings, specs,
                                                      Path(tmp) / f"ck-enrich{r}", []),
                "copy": lambda r: run_available_now("copy_topic", settings, specs, Path(tmp) / f"ck-copy{r}",
                                                    ["--output-topic", copy_topic]),
                "roundtrip": lambda r: run_available_now("copy_topic", settings, specs, Path(tmp) / f"ck-json{r}",
                                                         ["--output-topic", copy_topic, "--json-roundtrip"]),
            }, log=lambda line: print(line, flush=True))
            lat = latency(settings, specs, Path(tmp) / "ck3", a.rate, a.seconds, a.interval, a.warmup)
            print("latency", lat)
        finally:
            deleting = admin.delete_topics([t.name for t in specs.topics] + [copy_topic], operation_timeout=30)
            for future in deleting.values():
                future.result()
    ratio = rb.ratio(runs["copy"], runs["enrich"], "batch_s")
    json_ratio = rb.ratio(runs["copy"], runs["roundtrip"], "batch_s")
    loads = ", ".join(r["load"] for rs in runs.values() for r in rs)
    rows = "\n".join(
        f"| {label} | {runs[k][0]['rows']:,} | {rb.best(runs[k], 'batch_s'):.1f} s | "
        f"{runs[k][0]['rows'] / rb.best(runs[k], 'batch_s'):,.0f} | {rb.spread(runs[k], 'batch_s')} | "
        f"{rb.best(runs[k], 'wall_s'):.1f} s |"
        for k, label in (("enrich", "purchases_enrichment"), ("copy", "copy_topic (no logic)"),
                         ("roundtrip", "copy_topic --json-roundtrip (parse + serialise only)")))
    text = f"""
Run {rb.machine()} ({platform.processor() or platform.machine()}),
pyspark 4.1.1 `local[2]`, shuffle partitions 2, driver 2g, Kafka 4.4 single local broker (shared with
other work on the machine: load average 1/5/15 min per run {loads}). {a.count:,} purchases,
{a.rounds} alternating rounds, best of each.

| available-now | rows | batch time (best) | rows/s (best) | spread | wall incl. JVM start (best) |
|---|---|---|---|---|---|
{rows}

Throughput ratio enrichment / copy: **{ratio:.2f}** (aim >= 0.7). For scale, a job that only parses
each purchase and writes it back as JSON reaches {json_ratio:.2f} of the copy: that is the ceiling
of any job that reads and writes these events as JSON with Spark's JSON functions.

Continuous mode, trigger `{lat['interval']}`, {lat['rate']} purchases/s for {lat['warmup']} s of warm-up then
{lat['seconds']} s measured ({lat['sent']:,} sent, {lat['received']:,} enriched): latency produce -> enriched
append, steady state: p50 **{lat['p50_ms']:.0f} ms**, p95 **{lat['p95_ms']:.0f} ms**, max {lat['max_ms']:.0f} ms
(aim p95 <= 1 s). During the warm-up right after the job started: p95 {lat['warm_p95_ms']:.0f} ms.
"""
    print(text)
    if not a.no_write:
        rb.write_section("spark", "Spark Structured Streaming (bench/spark.py)", text)


if __name__ == "__main__":
    main()
