"""Sales and drinks per product in 10-minute event-time windows sliding every 5 minutes.

``spark-submit jobs/spark/sales_windows.py --checkpoint-dir DIR --purchases-topic T --output-topic T``

Watermark 10 minutes on ``transaction_time``: purchases later than that are dropped by design
and the window state is then released. ``--output-mode update`` (default) emits a window's new
value whenever it changes (the latest record per product_id and window_start is the answer);
``append`` emits each window once, final, after the watermark has passed its end.
"""

from __future__ import annotations

import argparse

import jobkit
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import DataStreamWriter

from streamstack import events

JOB = "sales_windows"
WINDOW, SLIDE, WATERMARK = "10 minutes", "5 minutes", "10 minutes"


def build(spark: SparkSession, args: argparse.Namespace) -> DataStreamWriter:
    checked = jobkit.validate_purchases(jobkit.read_stream(spark, args, args.purchases_topic))
    windows = (
        checked.where(F.col("reason").isNull())
        .withWatermark("transaction_ts", WATERMARK)
        .groupBy(F.window("transaction_ts", WINDOW, SLIDE).alias("w"), "product_id")
        .agg(
            F.count(F.lit(1)).alias("transactions"),
            F.sum(F.col("quantity").cast("long")).alias("drinks"),
            F.sum(jobkit.money(F.col("total_purchase"))).alias("sales"),
        )
    )
    out = jobkit.to_kafka_value(
        windows,
        {
            "window_start": jobkit.format_ts(F.col("w.start")),
            "window_end": jobkit.format_ts(F.col("w.end")),
            "product_id": F.col("product_id"),
            "transactions": F.col("transactions"),
            "drinks": F.col("drinks"),
            "sales": F.col("sales").cast("decimal(14,2)"),
        },
        events.SALES_WINDOW,
        "product_id",
    )
    return jobkit.write_stream(out, args, args.output_mode)


def main(argv: list[str] | None = None) -> None:
    p = jobkit.parser(JOB, __doc__.splitlines()[0])
    jobkit.topic_arg(p, "purchases-topic", "purchases")
    jobkit.topic_arg(p, "output-topic", "sales_windows")
    p.add_argument("--output-mode", choices=("update", "append"), default="update")
    args = p.parse_args(argv)
    jobkit.check_args(p, args, "purchases_topic", "output_topic")
    jobkit.run(JOB, args, build)


if __name__ == "__main__":
    main()
