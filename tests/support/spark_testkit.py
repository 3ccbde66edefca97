"""Test input and output for the Spark jobs, made with confluent-kafka, independent of Spark.

Products come from config/products.csv, purchases from the recorded sample (line_number added),
both with the field names of streamstack.events. Expected results are computed here in plain
Python/pandas, never by the code under test.
"""

from __future__ import annotations

import csv
import importlib
import json
import os
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from streamstack import events
from streamstack.clients import producer
from streamstack.settings import Settings
from streamstack.spark.jobs import DEFAULT_CONF, jit_conf, submission
from streamstack.topics import TopicSpecs
from streamstack.topics.offsets import read_to_end
from support import kit as ck

PROJECT = Path(__file__).resolve().parents[2]
SAMPLE = PROJECT / "tests" / "data" / "sample_date_new.json"
PRODUCTS_CSV = PROJECT / "config" / "products.csv"
#: Test drivers: small input, short-lived JVMs, so the quick JIT of small available-now runs
#: (``jit_conf``) for the continuous ones too.
LIGHT_CONF = {
    "spark.sql.shuffle.partitions": "2",
    "spark.driver.memory": "1g",
    "spark.ui.enabled": "false",
    **jit_conf(0),
}


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


JOBS_DIR = PROJECT / "jobs" / "spark"
_SESSION: dict[str, Any] = {}


def shared_session(settings: Settings) -> Any:
    """The session's one local Spark driver for the job-logic tests, created on first use.

    A ``spark-submit`` per test run cost a JVM start and ~48 CPU-s of warm-up each (about 40 per
    CI run); the jobs' logic runs the same in one long-lived session (``runner.run(spark=...)``).
    Tests whose point is the process (continuous runs, locks, kills, SASL, the DAGs) still use
    ``spark-submit``. Same settings as a submission: the project's defaults, ``LIGHT_CONF``, the
    Kafka connector jars, the jobs' modules importable.
    """
    if "spark" not in _SESSION:
        from pyspark.sql import SparkSession

        # The JVM's default JIT here: C1-only (LIGHT_CONF) pays for short-lived drivers only.
        sub = submission("purchases_enrichment", settings,
                         conf={**LIGHT_CONF, "spark.driver.extraJavaOptions": DEFAULT_CONF["spark.driver.extraJavaOptions"]})
        os.environ.update(sub.env)
        if str(JOBS_DIR) not in sys.path:
            sys.path.insert(0, str(JOBS_DIR))
        builder = SparkSession.builder.master("local[2]").appName("streamstack-tests")
        for key, value in {**sub.conf, "spark.jars": ",".join(sub.jars)}.items():
            builder = builder.config(key, value)
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("WARN")
        _SESSION["spark"] = spark
    return _SESSION["spark"]


def stop_shared_session() -> None:
    """Stop the shared session and its JVM while the broker still runs (else its producers retry
    a stopped broker, and py4j logs into closed streams at interpreter exit)."""
    spark = _SESSION.pop("spark", None)
    if spark is None:
        return
    from pyspark import SparkContext

    spark.stop()
    if SparkContext._gateway is not None:
        SparkContext._gateway.shutdown()
        SparkContext._gateway = SparkContext._jvm = None


def failure_cause(exc: BaseException) -> str:
    """What made a job fail: the error and its causes, not the query plan Spark appends to them."""
    text = str(exc).split("=== Streaming Query ===")[0]
    lines = [line for line in text.splitlines() if line.strip()]
    causes = [line for line in lines[20:] if line.lstrip().startswith(("Caused by", "pyspark.errors", "org.apache"))]
    return "\n".join([f"{type(exc).__name__}:", *lines[:20], *causes[:10]])


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
    """Run several jobs available-now side by side (as the DAGs do) in the shared session.

    Each job has its own checkpoint and output topic, as in the DAGs; each runs its own ``main``
    (arguments as ``streamstack.spark.jobs.submission`` builds them) in a thread. A job still
    running at ``timeout`` is stopped through its stop file and reported. ``jars`` is accepted
    for the callers' sake: the shared session has the connector jars.
    """
    spark = shared_session(settings)
    import runner  # jobs/spark: importable once the shared session is made
    failures: dict[str, str] = {}

    def run(job: str, argv: list[str]) -> None:
        try:
            importlib.import_module(job).main(argv, spark=spark)
        except SystemExit as exc:  # argparse or the checkpoint lock
            failures[job] = f"exited {exc.code}"
        except Exception as exc:  # noqa: BLE001 - reported with the job's name, below
            failures[job] = failure_cause(exc)

    threads = []
    for job in jobs:
        sub = submission(job, settings, topics=topics, checkpoint_dir=checkpoint_dir, conf=LIGHT_CONF,
                         extra_args=extra_args, jars=[])
        thread = threading.Thread(target=run, args=(job, sub.application_args), name=f"spark-{job}", daemon=True)
        thread.start()
        threads.append((job, thread))
    deadline = time.monotonic() + timeout
    for _, thread in threads:
        thread.join(max(1.0, deadline - time.monotonic()))
    late = [job for job, thread in threads if thread.is_alive()]
    for job in late:
        runner.paths(checkpoint_dir, job)["stop"].touch()
    for job, thread in threads:
        thread.join(120)
        if job in late:
            failures[job] = f"did not finish within {timeout:.0f}s (stopped)"
    assert not failures, "\n".join(f"{job}: {why}" for job, why in failures.items())


def expected_enriched(purchase: dict, product: dict) -> dict:
    """An enriched record computed independently (PRODUCT.md section 2): the kit's, identity given."""
    return ck.enriched_row(purchase, product, derived=False)
