"""What the PyFlink jobs share: arguments, the contract, the validation and the Kafka tables.

Every job reads the resolved event contract (``--contract FILE``, ``streamstack contract write``)
and keeps no rule of its own. Validation is Flink SQL generated from the contract's checks
(``validation.py``), with the reason codes and detail strings of the reference validator
``streamstack.contract.check_purchase``; it runs in the JVM (no Python worker: a Python UDF cost
about twice as much per record). The purchases are read as BYTES (``raw`` format), never through
Flink's JSON format, whose ``ignore-parse-errors`` would drop a bad record silently: the size
limit (``records.max_bytes``) is on bytes, and a value that is not UTF-8 must be told from text
(as STRING, Flink decodes malformed bytes to U+FFFD without a word).

Sinks stamp each record with the time it is written (Kafka record timestamp), not the event
time: a replay of old events would otherwise be deleted at once by the topic's retention.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import validation

MODES = ("bounded", "continuous")
DELIVERY = ("exactly-once", "at-least-once")
TS_SQL = "yyyy-MM-dd HH:mm:ss.SSSSSS"


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name) or default


def parser(job: str, description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=job, description=description)
    p.add_argument("--bootstrap-servers", default=_env("STREAMSTACK_BOOTSTRAP_SERVERS", "localhost:9092"))
    p.add_argument("--contract", default=_env("STREAMSTACK_CONTRACT_JSON"),
                   help="the resolved event contract (`streamstack contract write FILE`)")
    p.add_argument("--mode", choices=MODES, default=_env("STREAMSTACK_FLINK_MODE", "continuous"),
                   help="bounded: what is in Kafka now, then finish; continuous: run until stopped")
    p.add_argument("--job-name", default=f"streamstack.{job}", help="Flink job name (one running copy per name)")
    p.add_argument("--group-id", default=None, help="Kafka consumer group (default: the job name)")
    p.add_argument("--starting-offsets", choices=("earliest", "latest", "group"), default="earliest",
                   help="where a job without savepoint starts; a savepoint's offsets win")
    p.add_argument("--delivery", choices=DELIVERY, default="exactly-once",
                   help="exactly-once: transactional sinks, visible to read_committed consumers at checkpoints")
    p.add_argument("--idle-timeout", default="30 s",
                   help="a partition without records this long stops holding back the watermark (a record it "
                   "sends later may find its product version cleaned up: dead-lettered, never dropped)")
    p.add_argument("--parallelism", type=int, default=1)
    p.add_argument("--kafka-config-file", default=_env("STREAMSTACK_KAFKA_CONFIG_FILE"),
                   help="JSON object of Kafka client properties (SASL/TLS); never on the command line")
    return p


def topic_arg(p: argparse.ArgumentParser, flag: str, logical: str) -> None:
    env = f"STREAMSTACK_TOPIC_{logical.upper()}"
    p.add_argument(f"--{flag}", default=_env(env), help=f"Kafka topic of '{logical}' (env {env})")


def check_args(p: argparse.ArgumentParser, args: argparse.Namespace, *required: str) -> dict[str, Any]:
    """Fail with one line naming what is missing; returns the resolved contract."""
    missing = [r for r in ("contract", *required) if not getattr(args, r)]
    if missing:
        p.error("missing: " + ", ".join("--" + m.replace("_", "-") for m in missing))
    try:
        contract = json.loads(Path(args.contract).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        p.error(f"--contract {args.contract}: {exc}")
    if "schemas" not in contract or "purchase" not in contract:
        p.error(f"--contract {args.contract}: not a resolved contract (write one with `streamstack contract write`)")
    return contract


# ------------------------------------------------------------------------- the environment
def table_env(args: argparse.Namespace):
    """A streaming TableEnvironment (streaming runtime mode in both modes: see bounded)."""
    from pyflink.datastream import StreamExecutionEnvironment
    from pyflink.table import EnvironmentSettings, StreamTableEnvironment

    env = StreamExecutionEnvironment.get_execution_environment()
    t_env = StreamTableEnvironment.create(env, EnvironmentSettings.in_streaming_mode())
    conf = t_env.get_config()
    conf.set("pipeline.name", args.job_name)
    conf.set("parallelism.default", str(args.parallelism))
    conf.set("table.local-time-zone", "UTC")
    conf.set("table.exec.source.idle-timeout", args.idle_timeout.replace(" ", ""))
    conf.set("pipeline.auto-watermark-interval", "50ms")
    conf.set("python.fn-execution.bundle.size", "1000")
    conf.set("python.fn-execution.bundle.time", "100")
    return t_env


#: flink-sql-connector-kafka relocates the Kafka client: a JAAS login module must be named there.
SHADED_KAFKA = "org.apache.flink.kafka.shaded.org.apache.kafka."


def kafka_properties(args: argparse.Namespace) -> dict[str, str]:
    """``properties.*`` options: bootstrap servers plus the config file's client properties."""
    props = {"properties.bootstrap.servers": args.bootstrap_servers}
    if args.kafka_config_file:
        for key, value in json.loads(Path(args.kafka_config_file).read_text()).items():
            value = str(value)
            if key == "sasl.jaas.config" and value.startswith("org.apache.kafka."):
                value = SHADED_KAFKA + value.removeprefix("org.apache.kafka.")
            props[f"properties.{key}"] = value
    return props


def with_clause(options: dict[str, str]) -> str:
    return ",\n  ".join(f"'{k}' = '{str(v).replace(chr(39), chr(39) * 2)}'" for k, v in options.items())


def source_options(args: argparse.Namespace, topic: str, connector: str = "kafka") -> dict[str, str]:
    opts = {"connector": connector, "topic": topic, **kafka_properties(args),
            "properties.group.id": args.group_id or args.job_name,
            # Committed records only: a transactional writer killed mid-way (the live generator, an
            # exactly-once sink) leaves aborted records in the log, which Kafka's default reads.
            "properties.isolation.level": "read_committed"}
    if connector == "kafka":
        opts["scan.startup.mode"] = {"earliest": "earliest-offset", "latest": "latest-offset",
                                     "group": "group-offsets"}[args.starting_offsets]
        if args.starting_offsets == "group":
            opts["properties.auto.offset.reset"] = "earliest"
    if args.mode == "bounded":
        # Streaming runtime mode with bounded sources: the job ends by itself and the final
        # watermark flushes what waited on it (batch mode refuses the upsert product table).
        opts["scan.bounded.mode"] = "latest-offset"
    return opts


def sink_options(args: argparse.Namespace, topic: str, connector: str = "kafka") -> dict[str, str]:
    opts = {"connector": connector, "topic": topic, **kafka_properties(args)}
    if args.delivery == "exactly-once":
        opts.update({
            "sink.delivery-guarantee": "exactly-once",
            # Stable per job and topic: a restart aborts the transactions its predecessor left open.
            "sink.transactional-id-prefix": f"{args.job_name}.{topic}",
            # Flink's default (1 h) is above the broker's cap (15 min): the sink would fail.
            "properties.transaction.timeout.ms": "600000",
        })
    else:
        opts["sink.delivery-guarantee"] = "at-least-once"
    return opts


# ---------------------------------------------------------------------------- the tables
def purchases_source_ddl(args: argparse.Namespace, contract: dict[str, Any], name: str = "purchases_raw") -> str:
    """The purchases' values as raw bytes with their coordinates; ``tt`` (the event time) for watermarks.

    ``tt`` is only the event-time attribute: a record whose time does not parse gets the epoch,
    which never moves the watermark; validity is decided by ``checked_view``, not here. A value
    over ``records.max_bytes`` is not parsed for it either.
    """
    fits = validation.value_fits("`value`", int(contract["records"]["max_bytes"]))
    return f"""
CREATE TEMPORARY TABLE {name} (
  `value` BYTES,
  `partition` INT METADATA FROM 'partition' VIRTUAL,
  `offset` BIGINT METADATA FROM 'offset' VIRTUAL,
  `topic` STRING METADATA FROM 'topic' VIRTUAL,
  tt AS COALESCE(TO_TIMESTAMP(JSON_VALUE(CASE WHEN {fits} THEN CAST(`value` AS STRING) END,
                                         '$.transaction_time'), '{TS_SQL}'),
                 TIMESTAMP '1970-01-01 00:00:00'),
  WATERMARK FOR tt AS tt
) WITH (
  {with_clause({**source_options(args, args.purchases_topic), "value.format": "raw"})}
)"""


SQL_TYPES = {"string": "STRING", "int": "INT", "long": "BIGINT", "double": "DECIMAL(14, 2)",
             "boolean": "BOOLEAN", "timestamp": "STRING"}


def sink_ddl(args: argparse.Namespace, name: str, topic: str, fields: list[dict[str, Any]],
             key: str | None = None, upsert: bool = False, key_fields: tuple[str, ...] = ()) -> str:
    """A Kafka sink whose JSON value has exactly the event's fields in schema order.

    ``rec_ts`` (the Kafka record timestamp) is a metadata column, not part of the value.
    """
    columns = [f"  `{f['name']}` {SQL_TYPES[f['type']]}" for f in fields]
    columns.append("  rec_ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp'")
    opts = sink_options(args, topic, "upsert-kafka" if upsert else "kafka")
    opts.update({"value.format": "json", "value.json.encode.decimal-as-plain-number": "true",
                 "value.fields-include": "ALL"})
    if key_fields:  # a composite upsert key: a JSON key object
        opts.update({"key.format": "json"})
        columns.append(f"  PRIMARY KEY ({', '.join(f'`{k}`' for k in key_fields)}) NOT ENFORCED")
    elif key:
        opts.update({"key.format": "raw"})
        if not upsert:
            opts["key.fields"] = key
        else:
            columns.append(f"  PRIMARY KEY (`{key}`) NOT ENFORCED")
    return f"CREATE TEMPORARY TABLE {name} (\n" + ",\n".join(columns) + f"\n) WITH (\n  {with_clause(opts)}\n)"


# --------------------------------------------------------------------------- validation
CHECKED_FIELDS = validation.CHECKED_FIELDS


def checked_view(t_env, contract: dict[str, Any], source: str = "purchases_raw", name: str = "checked",
                 proctime: bool = False) -> None:
    """Every purchase with its reason (null when valid) and typed fields; ``tt`` stays the rowtime.

    The checks are SQL expressions generated from the contract (``validation.py``), in the JVM.
    The view goes through a DataStream and back (``SOURCE_WATERMARK()`` keeps ``tt`` the rowtime,
    with the source's watermarks and idleness): without that boundary, the optimizer's
    selectivity estimate of a query's ``WHERE reason IS NULL`` expands the predicate through
    every level of the validation (Calcite's pushPastProject + RexSimplify), minutes of planning.
    ``proctime`` adds ``pt``, a processing-time attribute, for ``first_lines_view``.
    """
    from pyflink.table import Schema

    t_env.execute_sql(validation.checked_view_sql(contract, source, f"{name}_sql"))
    table = t_env.from_path(f"{name}_sql")
    builder = Schema.new_builder().from_row_data_type(table.get_schema().to_row_data_type())
    if proctime:
        builder = builder.column_by_expression("pt", "PROCTIME()")
    schema = builder.watermark("tt", "SOURCE_WATERMARK()").build()
    t_env.create_temporary_view(name, t_env.from_data_stream(t_env.to_data_stream(table), schema))


def first_lines_view(t_env, source: str = "checked", name: str = "first_lines") -> None:
    """The valid purchases of ``source`` (a ``checked_view`` with ``proctime``), each line once.

    A line is (transaction_id, line_number); the first copy seen is kept.
    A same-seed rerun of the generator after a failed run sends its lines again with the same
    identity; the totals and windows count each line once, as the Spark and Kafka Streams jobs and
    Pinot's dedup do. Flink's keep-first deduplication on processing time: insert-only output, one
    small state entry per line (kept in checkpoints and savepoints).
    """
    t_env.execute_sql(f"""
CREATE TEMPORARY VIEW {name} AS
SELECT * FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY transaction_id, line_number ORDER BY pt ASC) AS copy
  FROM {source} WHERE reason IS NULL
) WHERE copy = 1""")


def money(expr: str) -> str:
    return f"CAST(ROUND({expr}, 2) AS DECIMAL(14, 2))"


def dead_letter_select(rejected_by: str, reason: str, source: str, contract: dict[str, Any]) -> str:
    """A SELECT of dead letters in ``purchases_invalid`` order from a view with coordinates and ``value`` (BYTES).

    The payload is bounded as ``contract.dead_letter_payload`` says (the text when the value is
    UTF-8, else base64; cut to ``dead_letters.payload_max_chars`` code points; size and SHA-256
    of the bytes), so no dead letter can outgrow the producer's limit (600 KB of ``"`` escaped
    to 1.2 MB and crash-looped the job). All in SQL: SHA256 and TO_BASE64 take BYTES in Flink
    2.2; the size comes from the base64 length (no byte-length function). ``source`` is a FROM
    clause (a WHERE may follow); ``reason`` an expression over its columns. The base64 text and
    the payload text are computed once each (a barrier between the levels, see
    ``validation.BARRIER``): this branch is rare, but its values may be large.
    """
    limit = int(contract["dead_letters"]["payload_max_chars"])
    barrier = validation.BARRIER
    encoding = (f"CASE WHEN `value` IS NULL THEN CAST(NULL AS STRING) "
                f"WHEN {validation.value_is_utf8('`value`')} THEN 'utf-8' ELSE 'base64' END")
    return f"""
SELECT source_topic, source_partition, source_offset,
       DATE_FORMAT(CURRENT_TIMESTAMP, '{TS_SQL}') AS rejected_at,
       '{rejected_by}' AS rejected_by, dl_reason AS reason,
       SUBSTRING(dl_text FROM 1 FOR {limit}) AS payload, dl_encoding AS payload_encoding,
       CHAR_LENGTH(dl_text) > {limit} AS payload_truncated, {validation.base64_size('dl_base64')} AS payload_bytes,
       SHA256(`value`) AS payload_sha256, CURRENT_TIMESTAMP AS rec_ts
FROM (
  SELECT *, CASE WHEN dl_encoding = 'utf-8' THEN CAST(`value` AS STRING) ELSE dl_base64 END AS dl_text,
         dl_b0 + dl_b0 + {barrier} AS dl_b1
  FROM (SELECT *, {reason} AS dl_reason, {encoding} AS dl_encoding, TO_BASE64(`value`) AS dl_base64,
               {barrier} AS dl_b0
        FROM {source}))
WHERE dl_b1 + dl_b1 = 0"""


def run(t_env, statements) -> None:
    """Submit the statement set; wait for a bounded job to finish (the CLI returns at once with -d)."""
    result = statements.execute()
    client = result.get_job_client()
    if client is not None:
        print(f"submitted Flink job {client.get_job_id()}", flush=True)
    result.wait() if os.environ.get("STREAMSTACK_FLINK_WAIT") == "1" else None


def mini_batch(t_env, latency: str = "1s") -> None:
    """Fold the updates of one key within ``latency`` into one output record (aggregating jobs)."""
    conf = t_env.get_config()
    conf.set("table.exec.mini-batch.enabled", "true")
    conf.set("table.exec.mini-batch.allow-latency", latency)
    conf.set("table.exec.mini-batch.size", "5000")
