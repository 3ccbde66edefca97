"""Arguments and Kafka I/O shared by the Spark jobs.

Every job takes ``--bootstrap-servers``, ``--checkpoint-dir``, ``--trigger``, ``--contract`` and
its topics; Kafka client properties beyond the bootstrap servers (SASL, TLS) come from
``--kafka-config-file`` (a JSON object of client properties, written 0600 by the submitting
code from the Airflow connection), so no secret is ever on a command line. ``--kafka-option``
stays for non-secret extras.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import DataStreamWriter

TRIGGERS = ("available-now", "processing-time")


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
        help=f"base directory or URI; the query checkpoints to <dir>/{job} (env STREAMSTACK_SPARK_CHECKPOINT_DIR)",
    )
    p.add_argument(
        "--contract",
        default=_env("STREAMSTACK_CONTRACT_JSON"),
        help="the resolved event contract (`streamstack contract write FILE`; env STREAMSTACK_CONTRACT_JSON)",
    )
    p.add_argument("--trigger", choices=TRIGGERS, default=_env("STREAMSTACK_SPARK_TRIGGER", "available-now"))
    p.add_argument("--interval", default="1 second", help="processing-time trigger interval")
    p.add_argument("--max-offsets-per-trigger", type=int, default=None)
    p.add_argument("--starting-offsets", default="earliest", help="first run only; a checkpoint wins after")
    p.add_argument(
        "--kafka-config-file",
        default=_env("STREAMSTACK_KAFKA_CONFIG_FILE"),
        help="JSON object of Kafka client properties (SASL/TLS); env STREAMSTACK_KAFKA_CONFIG_FILE",
    )
    p.add_argument(
        "--kafka-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra non-secret Kafka client property (repeatable); secrets go in --kafka-config-file",
    )
    return p


def topic_arg(p: argparse.ArgumentParser, flag: str, logical: str) -> None:
    env = f"STREAMSTACK_TOPIC_{logical.upper()}"
    p.add_argument(f"--{flag}", default=_env(env), help=f"Kafka topic of '{logical}' (env {env})")


def check_args(p: argparse.ArgumentParser, args: argparse.Namespace, *required: str) -> None:
    missing = [r for r in ("checkpoint_dir", "contract", *required) if not getattr(args, r)]
    if missing:
        p.error("missing: " + ", ".join("--" + m.replace("_", "-") for m in missing))
    for item in args.kafka_option:
        if "=" not in item:
            p.error(f"--kafka-option {item!r} is not KEY=VALUE")
    if args.kafka_config_file:
        try:
            loaded = json.loads(Path(args.kafka_config_file).read_text())
        except (OSError, ValueError) as exc:
            p.error(f"--kafka-config-file {args.kafka_config_file}: {exc}")
        if not isinstance(loaded, dict):
            p.error(f"--kafka-config-file {args.kafka_config_file}: not a JSON object of properties")


def kafka_options(args: argparse.Namespace) -> dict[str, str]:
    """Spark's ``kafka.*`` options: bootstrap servers, the config file's properties, extras."""
    opts = {"kafka.bootstrap.servers": args.bootstrap_servers}
    if args.kafka_config_file:
        for key, value in json.loads(Path(args.kafka_config_file).read_text()).items():
            opts[f"kafka.{key}"] = str(value)
    for item in args.kafka_option:
        key, _, value = item.partition("=")
        opts[f"kafka.{key.strip()}"] = value.strip()
    return opts


def write_stream(out: DataFrame, args: argparse.Namespace, output_mode: str,
                 per_row_topic: bool = False) -> DataStreamWriter:
    """The Kafka sink of the aggregating jobs: ``key``/``value`` rows to ``--output-topic``.

    ``per_row_topic``: each row names its topic in a ``topic`` column (the sink's ``topic``
    option would override it), e.g. outputs and dead letters in one write.
    """
    writer = out.writeStream.format("kafka").options(**kafka_options(args)).outputMode(output_mode)
    return writer if per_row_topic else writer.option("topic", args.output_topic)


#: Committed records only: a transactional writer killed mid-way (the live generator, an engine's
#: exactly-once sink) leaves aborted records in the log, which Kafka's default reads.
READ_COMMITTED = {"kafka.isolation.level": "read_committed"}


def read_stream(spark: SparkSession, args: argparse.Namespace, topic: str) -> DataFrame:
    reader = spark.readStream.format("kafka").options(**kafka_options(args), **READ_COMMITTED)
    reader = reader.option("subscribe", topic).option("startingOffsets", args.starting_offsets)
    if args.max_offsets_per_trigger:
        reader = reader.option("maxOffsetsPerTrigger", str(args.max_offsets_per_trigger))
    return reader.load()


def read_batch(spark: SparkSession, args: argparse.Namespace, topic: str) -> DataFrame:
    """The whole topic as it is now (a snapshot), e.g. every version of the product catalogue."""
    return (
        spark.read.format("kafka")
        .options(**kafka_options(args), **READ_COMMITTED)
        .option("subscribe", topic)
        .option("startingOffsets", "earliest")
        .option("endingOffsets", "latest")
        .load()
    )
