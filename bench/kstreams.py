"""Benchmark of the Kafka Streams running totals against the real local broker; results in bench/RESULTS.md.

1. Throughput: ``running_totals`` over N purchases, Kafka Streams (bounded run, exactly once)
   against Spark's ``running_totals`` (available-now) over the same topic, in alternating rounds,
   each round from scratch (new application id / checkpoint). Compared on processing time
   (Kafka Streams: RUNNING -> caught up; Spark: the batch's duration), JVM start-ups shown apart.
   Best of the rounds and the spread.
2. Continuous latency: the app running while purchases are produced at a steady rate; latency =
   the moment a read_committed consumer sees the updated total - the purchase's produce
   timestamp (each purchase has a unique transaction_time, and a total's event_time names the
   newest purchase folded in).

Usage: ``.venv/bin/python bench/kstreams.py --count 1000000 --rounds 3 --rate 1000 --seconds 60``.
Topics of its own (suffixed), deleted afterwards; the apps' groups and internal topics are reset.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from confluent_kafka import TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parent))

import rounds as rb  # bench/rounds.py: alternating rounds, best of N, spread, RESULTS.md
from spark import CONF, produce, purchases  # the Spark benchmark's input and producer

from streamstack import events
from streamstack.clients import admin_client, consumer, producer
from streamstack.kstreams.control import KStreamsControl
from streamstack.settings import Settings
from streamstack.spark.jobs import submission
from streamstack.topics import TopicAdmin, TopicSpecs, load_topics

PROJECT = Path(__file__).resolve().parents[1]
APP = "running_totals"
#: How the table names the app as the platform configures it.
PLATFORM = "the platform's (`Main.LIVE_COMMIT_MS`)"


def kstreams_round(settings: Settings, topics: TopicSpecs, run_dir: Path, n: int) -> dict:
    app_id = f"bench-totals-{uuid.uuid4().hex[:8]}"
    control = KStreamsControl(settings, topics=topics, run_dir=run_dir, application_ids={APP: app_id},
                              ports={APP: 0})
    wall = control.run_bounded(APP, timeout=3600)
    log = control.log_file(APP).read_text()
    found = re.findall(r"caught up \((\d+) lines.*?in ([\d.]+) s since RUNNING", log)
    lines, seconds = int(found[-1][0]), float(found[-1][1])
    control.reset(APP)
    return {"wall_s": wall, "process_s": seconds, "rows": n, "lines": lines}


def spark_round(settings: Settings, topics: TopicSpecs, ck: Path) -> dict:
    sub = submission("running_totals", settings, topics=topics, checkpoint_dir=ck, conf=CONF)
    started = time.monotonic()
    proc = subprocess.run(sub.command("local[2]"), env={**os.environ, **sub.env}, capture_output=True, text=True)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise RuntimeError(f"spark running_totals failed:\n{proc.stderr[-3000:]}")
    progress = json.loads((ck / "running_totals.progress.json").read_text())["last_progress"]
    return {"wall_s": wall, "process_s": progress["batchDuration"] / 1000, "rows": progress["numInputRows"]}


def latency(settings: Settings, topics: TopicSpecs, run_dir: Path, rate: int, seconds: int, warmup: int,
            commit_ms: int | None) -> dict:
    """One latency round; ``commit_ms`` None: the app as the platform configures it."""
    config = settings.kafka_client_config()
    args = [] if commit_ms is None else ["--commit-interval-ms", str(commit_ms)]
    control = KStreamsControl(settings, topics=topics, run_dir=run_dir,
                              application_ids={APP: f"bench-latency-{uuid.uuid4().hex[:8]}"}, ports={APP: 0},
                              app_args={APP: args})
    sent: dict[str, tuple[str, int]] = {}  # transaction_time -> (product_id, produce timestamp)
    seen: dict[str, list[tuple[str, int]]] = {}  # product_id -> [(event_time, seen at)] in arrival order
    stop = threading.Event()
    out_topic = topics["running_totals"].name
    # Purchase times start a day ahead of now: a total names the newest purchase it folded in.
    start_time = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)

    def consume() -> None:
        c = consumer({**config, "group.id": f"bench-{uuid.uuid4().hex}", "isolation.level": "read_committed",
                      "fetch.wait.max.ms": 10, "auto.offset.reset": "latest"})
        c.assign([TopicPartition(out_topic, 0, -1)])
        while not stop.is_set():
            msg = c.poll(0.05)
            if msg is None or msg.error():
                continue
            now = int(time.time() * 1000)
            total = json.loads(msg.value())
            seen.setdefault(total["product_id"], []).append((total["event_time"], now))
        c.close()

    control.start(APP)
    reader = threading.Thread(target=consume, daemon=True)
    try:
        reader.start()
        time.sleep(2)  # the consumer's assignment and first fetch; not part of any measurement
        p = producer({**config, "linger.ms": 1})
        template = [json.loads(v) for v in purchases(100)]
        total = rate * (warmup + seconds)
        step, t0 = max(1, rate // 100), time.monotonic()
        for i in range(total):
            rec = dict(template[i % len(template)])
            rec["transaction_time"] = events.format_timestamp(start_time + timedelta(microseconds=i))
            rec["transaction_id"] = str(3 * 10**12 + i)
            key, product = rec["transaction_time"], rec["product_id"]

            def delivered(err, msg, key=key, product=product, measured=i >= rate * warmup) -> None:
                if err is None and measured:
                    sent[key] = (product, msg.timestamp()[1])

            p.produce(topics["purchases"].name, key=rec["transaction_id"], value=json.dumps(rec).encode(),
                      on_delivery=delivered)
            if i % step == 0:
                p.poll(0)
                time.sleep(max(0.0, t0 + (i + 1) / rate - time.monotonic()))
        p.flush(60)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and control.input_lag(APP).total:
            time.sleep(0.5)
        time.sleep(1)
    finally:
        stop.set()
        reader.join(10)
        control.stop(APP)
        control.reset(APP)
    # A purchase is visible once its product's total has an event_time at or after its own: the
    # record cache folds several purchases into one update per product and commit.
    lat = []
    for when, (product, produced) in sent.items():
        first = next((at for event_time, at in seen.get(product, []) if event_time >= when), None)
        if first is not None:
            lat.append(first - produced)
    return {"sent": len(sent), "updates": len(lat), **rb.latency_summary(lat), "rate": rate, "seconds": seconds,
            "warmup": warmup, "commit_ms": commit_ms, "load": rb.load()}


def fresh_topics(config: dict, declared: TopicSpecs) -> TopicSpecs:
    """The declared topics under a suffix of their own: a round starts on empty topics."""
    suffix = f"kbench{uuid.uuid4().hex[:6]}"
    specs = TopicSpecs(declared.file, tuple(replace(t, name=f"{t.name}.{suffix}") for t in declared.topics))
    TopicAdmin(config).apply(specs)
    return specs


def delete_topics(config: dict, specs: TopicSpecs) -> None:
    admin = admin_client(config)  # referenced until done: a collected client never answers
    for future in admin.delete_topics([s.name for s in specs.topics], operation_timeout=30).values():
        future.result()


def latency_round(settings: Settings, declared: TopicSpecs, run_dir: Path, a: argparse.Namespace,
                  commit_ms: int | None) -> dict:
    """A latency round on empty topics of its own: the app measures a steady stream, not a backlog."""
    config = settings.kafka_client_config()
    specs = fresh_topics(config, declared)
    try:
        result = latency(settings, specs, run_dir, a.rate, a.seconds, a.warmup, commit_ms)
    finally:
        delete_topics(config, specs)
    if result["updates"] < result["sent"]:
        raise RuntimeError(f"incomplete round: {result['updates']} of {result['sent']} purchases seen in a total")
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--reference-commit-ms", type=int, default=100,
                    help="the latency reference: the app with this commit interval (the platform's before #27)")
    ap.add_argument("--no-spark", action="store_true", help="Kafka Streams only")
    ap.add_argument("--latency-only", action="store_true", help="only the continuous latency rounds")
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    settings = Settings.from_env()
    config = settings.kafka_client_config()
    declared = load_topics(settings.topics_file)
    ks: list[dict] = []
    sp: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="kstreams-bench-") as tmp:
        if not a.latency_only:
            spark_settings = replace(settings, state_dir=Path(tmp) / "state")
            specs = fresh_topics(config, declared)
            try:
                t = time.monotonic()
                produce(config, specs["purchases"].name, [(v[32:45].decode(), v) for v in purchases(a.count)])
                print(f"produced {a.count} purchases in {time.monotonic() - t:.1f}s", flush=True)
                contenders = {"kstreams": lambda r: kstreams_round(settings, specs, Path(tmp) / f"run{r}", a.count)}
                if not a.no_spark:
                    contenders["spark"] = lambda r: spark_round(spark_settings, specs, Path(tmp) / f"ck{r}")
                results = rb.alternate(a.rounds, contenders, log=lambda line: print(line, flush=True))
                ks, sp = results["kstreams"], results.get("spark", [])
            finally:
                delete_topics(config, specs)
        lat = rb.alternate(a.rounds, {
            "platform": lambda r: latency_round(settings, declared, Path(tmp) / f"lat{r}", a, None),
            "reference": lambda r: latency_round(settings, declared, Path(tmp) / f"ref{r}", a, a.reference_commit_ms),
        }, log=lambda line: print(line, flush=True))
    header = f"Run {rb.machine()}, Kafka 4.4 single local broker, Java 17; load average 1/5/15 min per round"
    text = ""
    if ks:
        best_k = rb.best(ks, "process_s")
        rows = f"| Kafka Streams `running_totals` (EOS v2, 1 thread) | {a.count / best_k:,.0f} | {best_k:.1f} s | " \
               f"{rb.spread(ks, 'process_s')} | {rb.spread(ks, 'wall_s')} |"
        ratio = ""
        if sp:
            best_s = rb.best(sp, "process_s")
            rows += f"\n| Spark `running_totals` (available-now, local[2]) | {a.count / best_s:,.0f} | {best_s:.1f} s | " \
                    f"{rb.spread(sp, 'process_s')} | {rb.spread(sp, 'wall_s')} |"
            ratio = ("\nThroughput ratio Kafka Streams / Spark (best processing times): "
                     f"**{rb.ratio(sp, ks, 'process_s'):.2f}**.\n")
        text += f"""
{header} {', '.join(r['load'] for r in ks + sp)}.
{a.count:,} purchases (3 partitions), {a.rounds} alternating rounds, each from scratch.

| running totals | records/s (best) | processing (best) | spread | wall incl. JVM start (spread) |
|---|---|---|---|---|
{rows}
{ratio}"""
    lines = "\n".join(
        f"| {name} | {', '.join(str(r['commit_ms'] or PLATFORM) for r in rs[:1])} | **{rb.best(rs, 'p95_ms'):.0f} ms** | "
        f"{rb.spread(rs, 'p95_ms', 'ms')} | {rb.best(rs, 'p50_ms'):.0f} ms | {min(r['max_ms'] for r in rs):.0f} ms | "
        f"{min(r['updates'] for r in rs):,} |"
        for name, rs in lat.items())
    latency_text = f"""
{header} {', '.join(r['load'] for r in lat['platform'] + lat['reference'])}.
Continuous latency, {a.rounds} alternating rounds, each on empty topics of its own: {a.rate} purchases/s
for {a.warmup} s of warm-up, then {a.seconds} s measured; latency = produce -> the product's updated
total seen by a read_committed consumer (aim p95 <= 100 ms). A round counts only when every
measured purchase was seen in a total.

| app | commit interval (ms) | p95 (best) | p95 spread | p50 (best) | max (best) | purchases measured |
|---|---|---|---|---|---|---|
{lines}

p95 ratio reference / platform: **{rb.ratio(lat['reference'], lat['platform'], 'p95_ms'):.2f}**.
"""
    print(text + latency_text)
    if not a.no_write:
        if text:
            rb.write_section("kstreams", "Kafka Streams running totals (bench/kstreams.py)", text)
        rb.write_section("kstreams-latency", "Kafka Streams running totals, live latency (bench/kstreams.py)",
                         latency_text)


if __name__ == "__main__":
    main()
