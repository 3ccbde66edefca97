"""Benchmark of the Flink enrichment against Spark's, same input, same run; results go to bench/RESULTS.md.

1. Bounded enrichment throughput: ``purchases_enrichment`` on Flink (bounded, job duration from
   the REST API: deploy + run, without the ``flink run`` client) and on Spark (available-now,
   batch time and wall time incl. JVM start) over the same N purchases, alternating rounds, best
   of ``--rounds`` with the spread. Each engine writes its own output topics (``engines.comparison_topics``).
2. Continuous latency on Flink: the job running while purchases are produced at ``--rate``;
   latency = enriched record timestamp (write time) - the purchase's produce timestamp, p50/p95.

Purchases are the recorded sample with unique ids and *current* transaction times (the product
versions are published a day earlier), so the temporal join has a version for each.
Usage: ``.venv/bin/python bench/flink.py --count 1000000 --rounds 3 --rate 1000 --seconds 60``
(needs the Flink cluster: ``streamstack stack up kafka flink-jobmanager flink-taskmanager``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from confluent_kafka import TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parent))
import rounds as rb  # bench/rounds.py: alternating rounds, best of N, spread, RESULTS.md
import spark as sb  # bench/spark.py: produce, purchases, run_available_now

from streamstack import engines, events
from streamstack.clients import admin_client, consumer, producer
from streamstack.contract import write_contract
from streamstack.flink.config import FlinkConfig
from streamstack.flink.jobs import submission
from streamstack.flink.rest import FlinkRest
from streamstack.settings import Settings
from streamstack.topics import TopicAdmin, TopicSpecs, load_topics
from streamstack.topics.offsets import end_offsets

PROJECT = Path(__file__).resolve().parents[1]


def recent(values: list[bytes], start: datetime, step_us: int) -> list[tuple[str, bytes]]:
    out = []
    for i, v in enumerate(values):
        rec = json.loads(v)
        rec["transaction_time"] = events.format_timestamp(start + timedelta(microseconds=i * step_us))
        out.append((rec["transaction_id"], json.dumps(rec).encode()))
    return out


def products(at: datetime) -> list[tuple[str, bytes]]:
    rows = []
    for key, value in sb.catalogue():
        rec = json.loads(value)
        rec["event_time"] = events.format_timestamp(at)
        rows.append((key, json.dumps(rec).encode()))
    return rows


def output_offsets(config: dict, names: dict[str, str]) -> dict[str, int]:
    """Offsets on the enriched and dead-letter topics now (summed over partitions)."""
    return {t: sum(end_offsets(config, names[t]).values()) for t in ("purchases_enriched", "purchases_invalid")}


def check_output(before: dict[str, int], after: dict[str, int], count: int, engine: str, markers: int = 0) -> int:
    """A round counts only if every purchase was enriched: a job that rejects its input is fast too.

    Offsets of a transactional writer (Flink) include one commit marker per partition and
    transaction, hence ``markers`` of slack; no dead letter is allowed.
    """
    enriched = after["purchases_enriched"] - before["purchases_enriched"]
    invalid = after["purchases_invalid"] - before["purchases_invalid"]
    if invalid or not count <= enriched <= count + markers:
        raise RuntimeError(f"{engine} round invalid: {enriched} enriched offsets and {invalid} dead-letter offsets "
                           f"for {count} purchases")
    return enriched


def flink_bounded(cfg: FlinkConfig, contract: Path, names: dict[str, str], tag: str, count: int,
                  parallelism: int) -> dict:
    rest = FlinkRest(cfg.rest_url)
    config = cfg.settings.kafka_client_config()
    before = output_offsets(config, names)
    started = time.monotonic()
    jid = submission("purchases_enrichment", cfg, contract, names, mode="bounded",
                     name=f"streamstack.bench.{tag}", parallelism=parallelism).run()
    rest.wait_state(jid, {"FINISHED"}, timeout=3600, poll=0.5)
    job = rest.job(jid)
    wall = time.monotonic() - started
    # Bounded: one transaction per checkpoint plus the final one, a marker per partition each.
    partitions = len(end_offsets(config, names["purchases_enriched"]))
    enriched = check_output(before, output_offsets(config, names), count, "flink", markers=partitions * (2 + int(wall)))
    return {"job_s": job["duration"] / 1000, "wall_s": wall, "enriched_offsets": enriched}


def spark_bounded(settings: Settings, specs: TopicSpecs, ck: Path, names: dict[str, str], count: int) -> dict:
    config = settings.kafka_client_config()
    before = output_offsets(config, names)
    r = sb.run_available_now("purchases_enrichment", settings, specs, ck, [])
    check_output(before, output_offsets(config, names), count, "spark")
    return {"job_s": r["batch_s"], "wall_s": r["wall_s"], "rows": r["rows"]}


def latency(cfg: FlinkConfig, contract: Path, names: dict[str, str], rate: int, seconds: int) -> dict:
    settings = cfg.settings
    config = settings.kafka_client_config()
    rest = FlinkRest(cfg.rest_url)
    jid = submission("purchases_enrichment", cfg, contract, names, mode="continuous", name="streamstack.bench.latency",
                     extra=["--starting-offsets", "latest", "--delivery", "at-least-once", "--idle-timeout", "1 s"]).run()
    try:
        rest.wait_state(jid, {"RUNNING"}, timeout=300)
        time.sleep(5)  # let every task reach RUNNING (the job state is RUNNING before its tasks are)
        sent: dict[str, int] = {}

        def on_delivery(err, msg) -> None:
            if err is None:
                sent[msg.key().decode()] = msg.timestamp()[1]

        p = producer({**config, "linger.ms": 1})
        values = sb.purchases(rate * seconds, start_id=3 * 10**12)
        step, t0 = max(1, rate // 20), time.monotonic()
        for i in range(0, len(values), step):
            for key, value in recent(values[i:i + step], datetime.now(UTC), 1):
                p.produce(names["purchases"], key=key, value=value, on_delivery=on_delivery)
            p.poll(0)
            time.sleep(max(0.0, t0 + (i + step) / rate - time.monotonic()))
        p.flush(60)
        c = consumer({**config, "group.id": f"bench-{uuid.uuid4().hex}", "auto.offset.reset": "earliest"})
        out = names["purchases_enriched"]
        parts = c.list_topics(out, timeout=10).topics[out].partitions
        c.assign([TopicPartition(out, q, 0) for q in parts])
        lat, idle = [], time.monotonic()
        while len(lat) < len(sent) and time.monotonic() - idle < 30:
            msg = c.poll(0.5)
            if msg is None or msg.error():
                continue
            idle = time.monotonic()
            key = msg.key().decode()
            if key in sent:
                lat.append(msg.timestamp()[1] - sent[key])
        c.close()
    finally:
        rest._call("PATCH", f"/jobs/{jid}?mode=cancel")
    if not lat:
        raise RuntimeError("no enriched record received")
    return {"sent": len(sent), "received": len(lat), **rb.latency_summary(lat), "rate": rate, "seconds": seconds,
            "load": rb.load()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--flink-parallelism", type=int, default=1,
                    help="subtasks of the bounded Flink job (2 measured no faster on 2 cores: bench/RESULTS.md)")
    ap.add_argument("--no-latency", action="store_true")
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    settings = Settings.from_env()
    cfg = FlinkConfig.from_env(settings)
    config = settings.kafka_client_config()
    suffix = f"bench{uuid.uuid4().hex[:6]}"
    declared = load_topics(settings.topics_file)
    base = {t.logical: f"{t.name}.{suffix}" for t in declared.topics}
    per_engine = {e: engines.comparison_topics(base, e) for e in ("flink", "spark")}
    all_names = sorted({n for names in per_engine.values() for n in names.values()})
    by_name = {t.logical: t for t in declared.topics}
    specs_for = {
        e: TopicSpecs(declared.file, tuple(replace(by_name[k], name=v) for k, v in names.items()))
        for e, names in per_engine.items()
    }
    for specs in specs_for.values():
        TopicAdmin(config).apply(specs)
    now = datetime.now(UTC).replace(tzinfo=None)
    with tempfile.TemporaryDirectory(prefix="flink-bench-") as tmp:
        contract = write_contract(Path(tmp) / "contract.json")
        try:
            sb.produce(config, base["products"], products(now - timedelta(days=1)))
            t = time.monotonic()
            sb.produce(config, base["purchases"], recent(sb.purchases(a.count), now - timedelta(hours=1), 1000))
            print(f"produced {a.count} purchases in {time.monotonic() - t:.1f}s", flush=True)
            spark_settings = replace(settings, state_dir=Path(tmp) / "state")
            results = rb.alternate(a.rounds, {
                "flink": lambda r: flink_bounded(cfg, contract, per_engine["flink"], f"{suffix}.{r}", a.count,
                                                 a.flink_parallelism),
                "spark": lambda r: spark_bounded(spark_settings, specs_for["spark"], Path(tmp) / f"ck{r}",
                                                 per_engine["spark"], a.count),
            }, log=lambda line: print(line, flush=True))
            lat = None if a.no_latency else latency(cfg, contract, per_engine["flink"], a.rate, a.seconds)
            print("latency", lat, flush=True)
        finally:
            admin = admin_client(config)
            for future in admin.delete_topics(all_names, operation_timeout=30).values():
                future.result()
    fl, sp = results["flink"], results["spark"]
    loads = ", ".join(r["load"] for r in fl + sp)
    text = f"""
Run {rb.machine()} (load average 1/5/15 min at each round: {loads}).
Every round checked: each purchase enriched, no dead letter. PyFlink 2.2.1 session cluster (1 TaskManager,
bounded job at parallelism {a.flink_parallelism}, validation in Flink SQL generated from the contract, no Python worker), pyspark 4.1.1
`local[2]`. {a.count:,} purchases, {a.rounds} alternating rounds (Flink first in even rounds), best of each.

| bounded enrichment | best job time | rows/s (best) | spread | wall (best), incl. client/JVM start |
|---|---|---|---|---|
| Flink (REST job duration) | {rb.best(fl, 'job_s'):.1f} s | {a.count / rb.best(fl, 'job_s'):,.0f} | {rb.spread(fl, 'job_s')} | {rb.best(fl, 'wall_s'):.1f} s |
| Spark (available-now batch) | {rb.best(sp, 'job_s'):.1f} s | {a.count / rb.best(sp, 'job_s'):,.0f} | {rb.spread(sp, 'job_s')} | {rb.best(sp, 'wall_s'):.1f} s |

Throughput ratio Flink / Spark (best job times): **{rb.ratio(sp, fl, 'job_s'):.2f}** (aim >= 1.5).
"""
    if lat:
        text += f"""
Flink continuous, at-least-once sink, {lat['rate']} purchases/s for {lat['seconds']} s ({lat['sent']:,} sent,
{lat['received']:,} enriched; load {lat['load']}): latency produce -> enriched append p50 **{lat['p50_ms']:.0f} ms**,
p95 **{lat['p95_ms']:.0f} ms**, max {lat['max_ms']:.0f} ms (aim p95 <= 200 ms).
"""
    print(text)
    if not a.no_write:
        rb.write_section("flink", "Apache Flink vs Spark (bench/flink.py)", text)


if __name__ == "__main__":
    main()
