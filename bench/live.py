"""End-to-end latency of the live pipeline: produced → queryable in Pinot ``purchasesEnriched``.

Issue #28. Per engine, as the platform runs it (its continuous ``purchases_enrichment`` with the
platform's own settings: Kafka Streams EOS v2, Spark's processing-time trigger, Flink's
exactly-once sink and idle timeout), at 10 and 1,000 purchases/s. Each round gives the engine
topics of its own and a Pinot table of its own on its enriched topic (Pinot reads committed
records, as the platform's tables do), produces at the rate for ``--warmup`` + ``--seconds`` s,
and samples about 20 purchases a second of the measured part: a poller asks Pinot every 100 ms
which of the sampled ``transaction_id``s are queryable. latency = first seen − produced (the
broker's timestamp). A round counts only when every sampled purchase was seen. Engines alternate
within each round (the order rotates), best of N with the spread; the reference is Kafka
Streams, the aim p95 ≤ 500 ms for Flink and Kafka Streams, ≤ 1.5 s for Spark. Two contenders are
the platform's former configurations, for comparison: ``kstreams-idle10s`` (the join waiting up to
10 s for products) and ``flink-eos30s`` (the enrichment's exactly-once sinks and 30 s idle timeout).

Needs the stack's Kafka, Pinot, and (for Flink) the Flink cluster up; on a quiet box:

    .venv/bin/python bench/live.py --rounds 3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import rounds as rb  # bench/rounds.py: alternating rounds, best of N, spread, RESULTS.md
import spark as sb  # bench/spark.py: purchases
from flink import products, recent  # bench/flink.py: the catalogue as of now, recent event times

from streamstack import engines
from streamstack.clients import admin_client, producer
from streamstack.flink import jobs as flink_jobs
from streamstack.flink.config import FlinkConfig
from streamstack.pinot import local_client
from streamstack.pinot.client import PinotError
from streamstack.pinot.tables import apply_specs, load_specs
from streamstack.settings import Settings
from streamstack.topics import TopicAdmin, TopicSpecs, load_topics

JOB = "purchases_enrichment"
SAMPLES_PER_S = 20


def engine_for(name: str, settings: Settings, topics: TopicSpecs, tmp: Path) -> engines.StreamEngine:
    """The engine on ``topics`` with state of its own (the conformance kit's isolation)."""
    config, suffix = settings.kafka_client_config(), uuid.uuid4().hex[:8]
    if name == "spark":
        return engines.get("spark", settings=settings, kafka_config=config, topics=topics, checkpoint_dir=tmp / "ck")
    if name.startswith("flink"):
        return engines.get("flink", cfg=FlinkConfig.from_env(settings), kafka_config=config, topics=topics,
                           suffix=suffix)
    # kstreams-idle10s: the join as the platform ran it before, waiting up to 10 s for products.
    args = {JOB: ["--max-task-idle-ms", "10000"]} if name == "kstreams-idle10s" else {}
    return engines.get("kstreams", settings=settings, kafka_config=config, topics=topics, run_dir=tmp / "ks",
                       application_ids={JOB: f"bench-live-{suffix}"}, ports={JOB: 0}, app_args=args)


def table_for(settings: Settings, topics: TopicSpecs, suffix: str) -> str:
    """A copy of ``purchasesEnriched`` on the round's enriched topic, queryable."""
    pinot = local_client(settings)
    (spec,) = load_specs(settings.config_dir / "pinot", topics.names(), settings.bootstrap_servers,
                         ["purchasesEnriched"])
    name = f"purchasesEnriched_live_{suffix}"
    table = {**spec.table, "tableName": name, "segmentsConfig": {**spec.table["segmentsConfig"], "schemaName": name}}
    apply_specs(pinot, [type(spec)(name, {**spec.schema, "schemaName": name}, table, spec.logical_topic, spec.topic)])
    deadline = time.monotonic() + 60
    while True:  # a new table is routed by the broker a few seconds after creation
        try:
            pinot.query_table(f"SELECT COUNT(*) FROM {name}")
            return name
        except PinotError as exc:
            if "BrokerResourceMissingError" not in str(exc) or time.monotonic() > deadline:
                raise


def one_round(name: str, settings: Settings, rate: int, a: argparse.Namespace) -> dict:
    suffix = f"{name.replace('-', '')}{uuid.uuid4().hex[:6]}"
    topics = load_topics(settings.topics_file).suffixed(f"live.{suffix}")
    config = settings.kafka_client_config()
    TopicAdmin(config).apply(topics)
    pinot = local_client(settings)
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        engine = engine_for(name, settings, topics, Path(tmp))
        p = producer({**config, "linger.ms": 1})
        for key, value in products(datetime.now(UTC)):
            p.produce(topics["products"].name, key=key, value=value)
        p.flush(30)
        table = table_for(settings, topics, suffix)
        # flink-eos30s: the enrichment as the platform ran it before (exactly-once, 30 s idle timeout).
        former = flink_jobs.CONTINUOUS_ARGS.pop(JOB) if name == "flink-eos30s" else None
        try:
            engine.submit([JOB], engines.Mode.CONTINUOUS)
        finally:
            if former is not None:
                flink_jobs.CONTINUOUS_ARGS[JOB] = former
        try:
            engines.wait(engine, [JOB], engines.Mode.CONTINUOUS, timeout=600)
            sent: dict[str, int] = {}
            seen: dict[str, float] = {}
            done = threading.Event()

            def poll() -> None:
                while not done.is_set() or (set(sent) - set(seen) and time.monotonic() < grace[0]):
                    pending = sorted(set(sent) - set(seen))[:500]
                    if pending:
                        ids = ",".join(f"'{t}'" for t in pending)
                        rows = pinot.query(f"SELECT transaction_id FROM {table} WHERE transaction_id IN ({ids}) "
                                           "LIMIT 1000")
                        now = time.time() * 1000
                        for row in rows:
                            seen.setdefault(str(row["transaction_id"]), now)
                    time.sleep(0.1)

            def delivered(err, msg) -> None:  # librdkafka's delivery callback
                if err is None:
                    sent[msg.key().decode()] = msg.timestamp()[1]

            grace = [float("inf")]
            poller = threading.Thread(target=poll, daemon=True)
            poller.start()
            total = rate * (a.warmup + a.seconds)
            values = sb.purchases(total, start_id=4 * 10**12 + int(time.time()))
            every = max(1, rate // SAMPLES_PER_S)
            step, t0 = max(1, rate // 50), time.monotonic()
            for i in range(0, total, step):
                for j, (key, value) in enumerate(recent(values[i:i + step], datetime.now(UTC), 1)):
                    measured = i + j >= rate * a.warmup and (i + j) % every == 0
                    p.produce(topics["purchases"].name, key=key, value=value,
                              on_delivery=delivered if measured else None)
                p.poll(0)
                time.sleep(max(0.0, t0 + (i + step) / rate - time.monotonic()))
            p.flush(60)
            grace[0] = time.monotonic() + 60
            done.set()
            poller.join(90)
        finally:
            engine.stop(JOB)
            engine.reset(JOB)
            pinot.drop_table(table, wait=False)
            admin = admin_client(config)  # referenced until done: a collected client never completes
            for future in admin.delete_topics([s.name for s in topics.topics]).values():
                future.result(60)
    missing = len(set(sent) - set(seen))
    if not sent or missing:
        return {"complete": False, "sent": len(sent), "missing": missing}
    return {"complete": True, **rb.latency_summary([seen[k] - sent[k] for k in sent])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rates", default="10,1000")
    ap.add_argument("--engines", default="kstreams,flink,spark")
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    settings = Settings.from_env()
    rows = []
    for rate in (int(r) for r in a.rates.split(",")):
        contenders = {name: (lambda r, name=name, rate=rate: one_round(name, settings, rate, a))
                      for name in a.engines.split(",")}
        results = rb.alternate(a.rounds, contenders, log=lambda line: print(line, flush=True))
        for name, rs in results.items():
            ok = [r for r in rs if r["complete"]]
            aim = 1500 if name == "spark" else 500
            if not ok:
                rows.append(f"| {name} | {rate:,}/s | no complete round | | | | {aim} ms |")
                continue
            rows.append(f"| {name} | {rate:,}/s | **{rb.best(ok, 'p95_ms'):.0f} ms** | {rb.spread(ok, 'p95_ms', 'ms')} | "
                        f"{rb.best(ok, 'p50_ms'):.0f} ms | {min(r['max_ms'] for r in ok):.0f} ms | {aim} ms | "
                        f"{len(ok)}/{len(rs)} |")
    text = f"""
Run {rb.machine()}; load average 1/5/15 min per round in the log. Each engine's continuous
`purchases_enrichment` as the platform runs it, on topics and a Pinot table of its own; latency =
produced (broker timestamp) → the purchase queryable in Pinot (polled every 100 ms), ~{SAMPLES_PER_S}
sampled purchases/s over {a.seconds} s after {a.warmup} s of warm-up; a round counts only when
every sampled purchase was seen. {a.rounds} alternating rounds, best of them with the spread.

| engine | rate | p95 (best) | p95 spread | p50 (best) | max (best) | aim (p95) | complete rounds |
|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}
"""
    print(text)
    if not a.no_write:
        rb.write_section("live", "Live pipeline, produce to queryable in Pinot (bench/live.py)", text)


if __name__ == "__main__":
    main()
