"""Shared parts of the Spark jobs: arguments, session, event schemas, validation, run loop.

Imports only pyspark and ``streamstack.events`` so that it can ship with ``--py-files`` to a
cluster. Every job is ``spark-submit jobs/spark/<job>.py`` and follows the same contract, which
``streamstack.spark.control`` relies on:

- checkpoint ``<checkpoint-dir>/<job>``; lock ``<checkpoint-dir>/<job>.lock`` (an exclusive
  ``flock`` held for the life of the driver, with ``{"pid", "mode"}`` inside) so a second copy on
  the same checkpoint refuses to start; progress ``<checkpoint-dir>/<job>.progress.json``;
- SIGTERM/SIGINT (or a ``<job>.stop`` file) stop the query between micro-batches, exit code 0;
- bad input never stops a job: the validation turns it into a reason, not an exception.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pyspark.errors import StreamingQueryException
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.streaming import DataStreamWriter, StreamingQuery

from streamstack import events

EXIT_LOCKED = 75  # EX_TEMPFAIL: another copy holds the checkpoint
TRIGGERS = ("available-now", "processing-time")
CORRUPT = "_corrupt_record"
TS_PATTERN = events.TIMESTAMP_JAVA_PATTERN

#: Reason codes of dead letters; the detail follows after ": ".
NOT_JSON = "not_json"
MISSING_FIELD = "missing_field"
MISTYPED_FIELD = "mistyped_field"
QUANTITY_OUT_OF_RANGE = "quantity_out_of_range"
TOTAL_MISMATCH = "total_mismatch"
UNKNOWN_PRODUCT = "unknown_product"
QUANTITY_RANGE = (1, 3)
TOTAL_TOLERANCE = 0.01 + 1e-9  # "within a cent"

_SPARK_TYPES: dict[str, T.DataType] = {
    "string": T.StringType(),
    "int": T.IntegerType(),
    "long": T.LongType(),
    "double": T.DoubleType(),
    "boolean": T.BooleanType(),
    "timestamp": T.StringType(),  # kept as the event's text; validated and parsed explicitly
}


# ---------------------------------------------------------------- schemas (from events.py)
def struct_type(fields: tuple[events.Field, ...]) -> T.StructType:
    """The Spark schema of an event type; timestamps stay strings (their text is the contract)."""
    return T.StructType([T.StructField(f.name, _SPARK_TYPES[f.type], True) for f in fields])


def raw_struct_type(fields: tuple[events.Field, ...]) -> T.StructType:
    """Every field as text plus the corrupt-record column: tells missing from mistyped from not-JSON."""
    return T.StructType(
        [T.StructField(f.name, T.StringType(), True) for f in fields] + [T.StructField(CORRUPT, T.StringType(), True)]
    )


def parse_ts(col: Column) -> Column:
    """Event timestamp text -> TIMESTAMP (UTC session), null when not exactly the event format."""
    return F.when(F.length(col) == 26, F.try_to_timestamp(col, F.lit(TS_PATTERN)))


def format_ts(col: Column) -> Column:
    return F.date_format(col, TS_PATTERN)


def money(col: Column) -> Column:
    """Money as DECIMAL(12,2): exact sums, and JSON keeps 2 decimals (``2.10``) as in PRODUCT.md."""
    return F.round(col.cast("decimal(14,4)"), 2).cast("decimal(12,2)")


def _raw_ok(raw_col: str, logical: str) -> Column:
    """Whether the text of a JSON value can be the logical type (the typed parse catches quoted ones)."""
    raw = F.col(raw_col)
    if logical in ("int", "long"):
        target = "int" if logical == "int" else "bigint"
        return raw.rlike(r"^-?[0-9]+$") & F.expr(f"try_cast(`{raw_col}` AS {target})").isNotNull()
    if logical == "double":
        return raw.rlike(r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")
    if logical == "boolean":
        return raw.isin("true", "false")
    if logical == "timestamp":
        return parse_ts(raw).isNotNull()
    return F.lit(True)


def typed_struct_type(fields: tuple[events.Field, ...]) -> T.StructType:
    """The typed schema plus the corrupt-record column (set when any value does not fit its type)."""
    return T.StructType([*struct_type(fields).fields, T.StructField(CORRUPT, T.StringType(), True)])


def validate_purchases(kafka_rows: DataFrame) -> DataFrame:
    """Parse Kafka rows of purchases; add ``reason`` (null when valid) and the typed fields.

    Output columns: ``source_topic, source_partition, source_offset, payload, reason``, every
    purchase field (typed; ``transaction_time`` as text) and ``transaction_ts`` (TIMESTAMP).
    The first failing check in field order gives the reason, so each record has exactly one.

    One typed parse for every record. Only a *suspicious* record (not an object, a value that does
    not fit its type, a null or missing field, a NaN/Infinity double) is parsed a second time, all
    fields as text, to tell missing from mistyped from not-JSON exactly as before; for any other
    record those checks cannot fail, so only the timestamp, transaction_id, quantity and total
    checks run. Both branches give the same reason as the full check list would.
    """
    fields = events.PURCHASE
    df = kafka_rows.select(
        F.col("topic").alias("source_topic"),
        F.col("partition").alias("source_partition"),
        F.col("offset").alias("source_offset"),
        F.col("value").cast("string").alias("payload"),
    )
    df = df.select(
        "*", F.from_json("payload", typed_struct_type(fields), {"columnNameOfCorruptRecord": CORRUPT}).alias("_t")
    )
    t = F.col("_t")
    suspicious = t.isNull() | F.col(f"_t.{CORRUPT}").isNotNull()
    for f in fields:
        suspicious = suspicious | F.col(f"_t.{f.name}").isNull()
        if f.type == "double":
            v = F.col(f"_t.{f.name}")
            suspicious = suspicious | F.isnan(v) | v.isin(float("inf"), float("-inf"))
    # The text parse sits inside the CASE branch, so a clean record never pays for it.
    raw = F.when(suspicious, F.from_json("payload", raw_struct_type(fields), {"columnNameOfCorruptRecord": CORRUPT}))
    ts_fields = [f.name for f in fields if f.type == "timestamp"]
    df = df.select(
        "*",
        suspicious.alias("_suspicious"),
        raw.alias("_r"),
        *[parse_ts(F.col(f"_t.{name}")).alias(f"_ts_{name}") for name in ts_fields],
    )
    flat = [F.col(f"_r.{f.name}").alias(f"_raw_{f.name}") for f in fields]
    df = df.select("*", *flat)
    # Checks that only a suspicious record can fail (their text parse is in _r).
    early: list[tuple[Column, Column]] = [
        (
            F.col("_r").isNull() | F.col(f"_r.{CORRUPT}").isNotNull(),
            F.lit(f"{NOT_JSON}: payload is not a JSON object"),
        )
    ]
    for f in fields:
        early.append((F.col(f"_raw_{f.name}").isNull(), F.lit(f"{MISSING_FIELD}: {f.name}")))
    typed_checks: list[tuple[Column, Column]] = []
    clean_checks: list[tuple[Column, Column]] = []
    for f in fields:
        text = F.lit(f"{MISTYPED_FIELD}: {f.name} is not a {f.type}")
        typed_checks.append((~_raw_ok(f"_raw_{f.name}", f.type) | F.col(f"_t.{f.name}").isNull(), text))
        if f.type == "timestamp":  # a string in the typed parse: its format is checked for every record
            clean_checks.append((F.col(f"_ts_{f.name}").isNull(), text))
    late: list[tuple[Column, Column]] = [
        (~F.col("_t.transaction_id").rlike(r"^[0-9]+$"), F.lit(f"{MISTYPED_FIELD}: transaction_id is not digits"))
    ]
    lo, hi = QUANTITY_RANGE
    late.append(
        (
            ~F.col("_t.quantity").between(lo, hi),
            F.format_string(f"{QUANTITY_OUT_OF_RANGE}: quantity %s not in {lo}..{hi}", F.col("_t.quantity")),
        )
    )
    expected = F.round(t.quantity * (t.price + t.supplement_price) * (1 - t.member_discount), 2)
    late.append(
        (
            F.abs(t.total_purchase - expected) > F.lit(TOTAL_TOLERANCE),
            F.format_string(
                f"{TOTAL_MISMATCH}: total_purchase %s, formula gives %.2f", t.total_purchase, expected
            ),
        )
    )
    # A flat coalesce of WHENs, not 40 nested CASEs: same "first failing check" result, smaller code.
    full = F.coalesce(*[F.when(cond, text) for cond, text in early + typed_checks + late])
    clean = F.coalesce(*[F.when(cond, text) for cond, text in clean_checks + late])
    reason = F.when(F.col("_suspicious"), full).otherwise(clean)
    return df.select(
        "source_topic",
        "source_partition",
        "source_offset",
        "payload",
        reason.alias("reason"),
        *[F.col(f"_t.{f.name}").alias(f.name) for f in fields],
        F.col("_ts_transaction_time").alias("transaction_ts"),
    )


def dead_letter_value(rejected_by: str) -> Column:
    """The dead-letter JSON of a row with ``source_*``, ``payload``, ``reason`` (INVALID_PURCHASE order)."""
    exprs = {
        "source_topic": F.col("source_topic"),
        "source_partition": F.col("source_partition"),
        "source_offset": F.col("source_offset"),
        "rejected_at": format_ts(F.current_timestamp()),
        "rejected_by": F.lit(rejected_by),
        "reason": F.col("reason"),
        "payload": F.col("payload"),
    }
    names = events.field_names(events.INVALID_PURCHASE)
    if set(exprs) != set(names):
        raise RuntimeError(f"dead-letter columns {sorted(exprs)} differ from events.INVALID_PURCHASE {names}")
    return F.to_json(F.struct(*[exprs[n].alias(n) for n in names]), {"ignoreNullFields": "false"})


def dead_letters(invalid: DataFrame, rejected_by: str) -> DataFrame:
    """Rows with ``source_*``, ``payload``, ``reason`` -> dead-letter JSON values (INVALID_PURCHASE order)."""
    return invalid.select(F.lit(None).cast("string").alias("key"), dead_letter_value(rejected_by).alias("value"))


def json_value(exprs: dict[str, Column], fields: tuple[events.Field, ...]) -> Column:
    """``exprs`` serialised as one JSON object in the field order of ``fields``."""
    names = events.field_names(fields)
    if list(exprs) != names:
        raise RuntimeError(f"output columns {list(exprs)} differ from the event schema {names}")
    return F.to_json(F.struct(*[exprs[n].alias(n) for n in names]))


def to_kafka_value(df: DataFrame, exprs: dict[str, Column], fields: tuple[events.Field, ...], key: str) -> DataFrame:
    """Serialise ``exprs`` in the field order of ``fields`` as ``key``/``value`` for the Kafka sink."""
    return df.select(F.col(key).cast("string").alias("key"), json_value(exprs, fields).alias("value"))


# ---------------------------------------------------------------- arguments and Kafka options
def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value else default


def parser(job: str, description: str) -> argparse.ArgumentParser:
    """The arguments every job takes; topics default to ``STREAMSTACK_TOPIC_<LOGICAL>``."""
    p = argparse.ArgumentParser(prog=job, description=description)
    p.add_argument("--bootstrap-servers", default=_env("STREAMSTACK_BOOTSTRAP_SERVERS", "localhost:9092"))
    p.add_argument(
        "--checkpoint-dir",
        default=_env("STREAMSTACK_SPARK_CHECKPOINT_DIR"),
        help=f"base directory; the query checkpoints to <dir>/{job} (env STREAMSTACK_SPARK_CHECKPOINT_DIR)",
    )
    p.add_argument("--trigger", choices=TRIGGERS, default=_env("STREAMSTACK_SPARK_TRIGGER", "available-now"))
    p.add_argument("--interval", default="1 second", help="processing-time trigger interval")
    p.add_argument("--max-offsets-per-trigger", type=int, default=None)
    p.add_argument("--starting-offsets", default="earliest", help="first run only; a checkpoint wins after")
    p.add_argument(
        "--kafka-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra Kafka client property, e.g. security.protocol=SASL_SSL (repeatable)",
    )
    return p


def topic_arg(p: argparse.ArgumentParser, flag: str, logical: str) -> None:
    env = f"STREAMSTACK_TOPIC_{logical.upper()}"
    p.add_argument(f"--{flag}", default=_env(env), help=f"Kafka topic of '{logical}' (env {env})")


def check_args(p: argparse.ArgumentParser, args: argparse.Namespace, *required: str) -> None:
    missing = [r for r in ("checkpoint_dir", *required) if not getattr(args, r)]
    if missing:
        p.error("missing: " + ", ".join("--" + m.replace("_", "-") for m in missing))
    for item in args.kafka_option:
        if "=" not in item:
            p.error(f"--kafka-option {item!r} is not KEY=VALUE")


def kafka_options(args: argparse.Namespace) -> dict[str, str]:
    opts = {"kafka.bootstrap.servers": args.bootstrap_servers}
    for item in args.kafka_option:
        key, _, value = item.partition("=")
        opts[f"kafka.{key.strip()}"] = value.strip()
    return opts


def write_stream(out: DataFrame, args: argparse.Namespace, output_mode: str) -> DataStreamWriter:
    """The Kafka sink of the aggregating jobs: ``key``/``value`` rows to ``--output-topic``."""
    return (
        out.writeStream.format("kafka")
        .options(**kafka_options(args))
        .option("topic", args.output_topic)
        .outputMode(output_mode)
    )


def read_stream(spark: SparkSession, args: argparse.Namespace, topic: str) -> DataFrame:
    reader = spark.readStream.format("kafka").options(**kafka_options(args))
    reader = reader.option("subscribe", topic).option("startingOffsets", args.starting_offsets)
    if args.max_offsets_per_trigger:
        reader = reader.option("maxOffsetsPerTrigger", str(args.max_offsets_per_trigger))
    return reader.load()


def read_batch(spark: SparkSession, args: argparse.Namespace, topic: str) -> DataFrame:
    """The whole topic as it is now (a snapshot), e.g. the compacted product catalogue."""
    return (
        spark.read.format("kafka")
        .options(**kafka_options(args))
        .option("subscribe", topic)
        .option("startingOffsets", "earliest")
        .option("endingOffsets", "latest")
        .load()
    )


def session(job: str) -> SparkSession:
    spark = (
        SparkSession.builder.appName(f"streamstack-{job}")
        .config("spark.sql.session.timeZone", "UTC")
        # Constraint propagation over the validation's ~100 aliased expressions and the catalogue
        # join made InferFiltersFromConstraints take 1-2 s per micro-batch (95% of the optimiser's
        # time, measured with RuleExecutor.dumpTimeSpent); the plan has no filter it could infer.
        .config("spark.sql.constraintPropagation.enabled", "false")
        # Adaptive execution re-plans the batch writes inside foreachBatch after each stage; with
        # no shuffle to tune (a broadcast of ~30 products) it only adds ~10-20% per micro-batch.
        # Streaming queries themselves never use it.
        .config("spark.sql.adaptive.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel(_env("STREAMSTACK_SPARK_LOG_LEVEL", "WARN") or "WARN")
    return spark


# ---------------------------------------------------------------- lock, progress, run loop
def paths(checkpoint_dir: str | Path, job: str) -> dict[str, Path]:
    base = Path(checkpoint_dir)
    return {
        "checkpoint": base / job,
        "lock": base / f"{job}.lock",
        "progress": base / f"{job}.progress.json",
        "stop": base / f"{job}.stop",
    }


def acquire_lock(lock_path: Path, mode: str) -> IO[str]:
    """Hold the job's lock for the life of this process, or exit EXIT_LOCKED naming the holder."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(lock_path, "a+")  # noqa: SIM115 - held open on purpose until the process ends
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        print(f"error: another copy of this job holds {lock_path}: {holder}", file=sys.stderr)
        sys.exit(EXIT_LOCKED)
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps({"pid": os.getpid(), "ppid": os.getppid(), "mode": mode, "started": _now()}) + "\n")
    handle.flush()
    return handle


def _now() -> str:
    return events.format_timestamp(datetime.now(UTC))


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, default=str))
    tmp.replace(path)


def _progress(job: str, mode: str, state: str, query: StreamingQuery | None, error: str | None = None) -> dict:
    last = query.lastProgress if query is not None else None
    return {
        "job": job,
        "pid": os.getpid(),
        "mode": mode,
        "state": state,
        "updated_at": _now(),
        "error": error,
        "last_progress": last,
    }


def run(
    job: str,
    args: argparse.Namespace,
    build: Callable[[SparkSession, argparse.Namespace], DataStreamWriter],
) -> None:
    """Lock, start the query built by ``build``, keep the progress file, stop cleanly on SIGTERM."""
    where = paths(args.checkpoint_dir, job)
    lock = acquire_lock(where["lock"], args.trigger)
    where["stop"].unlink(missing_ok=True)
    stop = {"requested": False}

    def _request_stop(signum: int, _frame: object) -> None:
        stop["requested"] = True

    signal.signal(signal.SIGTERM, _request_stop)
    signal.signal(signal.SIGINT, _request_stop)

    spark = session(job)
    query: StreamingQuery | None = None
    try:
        for attempt in (1, 2):
            query = _start(spark, job, args, build, where["checkpoint"])
            try:
                _watch(query, job, args, where, stop)
                break
            except StreamingQueryException as exc:
                if attempt == 1 and _is_replay_metrics_bug(exc):
                    # Spark 4.1 Kafka source bug: re-running a batch that was planned but not
                    # committed before a crash skips latestOffset(), and the progress report of
                    # that batch then fails with an NPE *after* the batch was committed. Starting
                    # the query again from the (now clean) checkpoint is correct and loses nothing.
                    print(f"warning: {job}: restarting after Spark's replay-metrics NPE", file=sys.stderr)
                    continue
                raise
    except Exception as exc:
        _write_json(where["progress"], _progress(job, args.trigger, "failed", query, error=str(exc)[:2000]))
        raise
    _write_json(where["progress"], _progress(job, args.trigger, "stopped", query))
    where["stop"].unlink(missing_ok=True)
    spark.stop()
    with contextlib.suppress(OSError):
        lock.close()


def _start(
    spark: SparkSession,
    job: str,
    args: argparse.Namespace,
    build: Callable[[SparkSession, argparse.Namespace], DataStreamWriter],
    checkpoint: Path,
) -> StreamingQuery:
    writer = build(spark, args).queryName(job).option("checkpointLocation", str(checkpoint))
    if args.trigger == "available-now":
        return writer.trigger(availableNow=True).start()
    return writer.trigger(processingTime=args.interval).start()


def _watch(query: StreamingQuery, job: str, args: argparse.Namespace, where: dict, stop: dict) -> None:
    """Keep the progress file fresh until the query ends; raise its failure, if any."""
    _write_json(where["progress"], _progress(job, args.trigger, "running", query))
    last_id, last_write = None, time.monotonic()
    while query.isActive:
        if stop["requested"] or where["stop"].exists():
            _stop_between_batches(query)
            break
        query.awaitTermination(1)
        progress = query.lastProgress
        batch_id = progress.get("batchId") if progress else None
        if batch_id != last_id or time.monotonic() - last_write > 5:
            _write_json(where["progress"], _progress(job, args.trigger, "running", query))
            last_id, last_write = batch_id, time.monotonic()
    query.awaitTermination()  # re-raises the query's failure, if any


def _is_replay_metrics_bug(exc: Exception) -> bool:
    text = str(exc)
    return "IterableOps.map" in text and "Option.get()" in text and "is null" in text


def _stop_between_batches(query: StreamingQuery, timeout: float = 60.0) -> None:
    """Stop when no micro-batch is running, so the last batch is committed, not replayed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and query.isActive and query.status.get("isTriggerActive"):
        time.sleep(0.05)
    query.stop()
