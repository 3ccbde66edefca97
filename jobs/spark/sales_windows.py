"""Sales and drinks per product in 10-minute event-time windows sliding every 5 minutes.

``spark-submit jobs/spark/sales_windows.py --checkpoint-dir DIR --purchases-topic T --output-topic T``

Watermark 10 minutes on ``transaction_time``: purchases later than that are dropped by design
and the window state is then released. ``--output-mode update`` (default) emits a window's new
value whenever it changes (the latest record per product_id and window_start is the answer);
``append`` emits each window once, final, after the watermark has passed its end.
A line sent twice (a same-seed generator rerun) is counted once: lines are de-duplicated by
identity (transaction_id, line_number) plus their event time, so the watermark bounds that state.
"""

from __future__ import annotations

import argparse

import kafka_io
import runner
import validation as v
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import DataStreamWriter

JOB = "sales_windows"
WINDOW, SLIDE, WATERMARK = "10 minutes", "5 minutes", "10 minutes"


def build(spark: SparkSession, args: argparse.Namespace) -> DataStreamWriter:
    contract = v.Contract.read(args.contract)
    checked = v.validate_purchases(kafka_io.read_stream(spark, args, args.purchases_topic), contract)
    windows = (
        checked.where(F.col("reason").isNull())
        .withWatermark("transaction_ts", WATERMARK)
        .dropDuplicates([*v.IDENTITY, "transaction_ts"])
        .groupBy(F.window("transaction_ts", WINDOW, SLIDE).alias("w"), "product_id")
        .agg(
            F.count(F.lit(1)).alias("transactions"),
            F.sum(F.col("quantity").cast("long")).alias("drinks"),
            F.sum(v.money(F.col("total_purchase"))).alias("sales"),
        )
    )
    out = v.to_kafka_value(
        windows,
        {
            "window_start": v.format_ts(F.col("w.start"), contract),
            "window_end": v.format_ts(F.col("w.end"), contract),
            "product_id": F.col("product_id"),
            "transactions": F.col("transactions"),
            "drinks": F.col("drinks"),
            "sales": F.col("sales").cast("decimal(14,2)"),
        },
        contract.names("sales_windows"),
        ("window_start", "product_id"),  # the window's identity: config/topics.yaml's key
    )
    return kafka_io.write_stream(out, args, args.output_mode)


def main(argv: list[str] | None = None, spark: SparkSession | None = None) -> None:
    p = kafka_io.parser(JOB, __doc__.splitlines()[0])
    kafka_io.topic_arg(p, "purchases-topic", "purchases")
    kafka_io.topic_arg(p, "output-topic", "sales_windows")
    p.add_argument("--output-mode", choices=("update", "append"), default="update")
    args = p.parse_args(argv)
    kafka_io.check_args(p, args, "purchases_topic", "output_topic")
    runner.run(JOB, args, build, spark=spark)


if __name__ == "__main__":
    main()
