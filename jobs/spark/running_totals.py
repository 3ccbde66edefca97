"""Unwindowed running totals per product: transactions, quantities, sales, latest purchase time.

``spark-submit jobs/spark/running_totals.py --checkpoint-dir DIR --purchases-topic T --output-topic T``

A stateful aggregation in update mode: each micro-batch emits the new absolute totals of the
products it touched, keyed by product_id, to a compacted topic. The state lives in the checkpoint,
so a restart resumes from the last committed batch; a batch replayed after a crash recomputes the
same absolute values from the same state, so a replay rewrites a total and never double counts.
Purchases that fail validation (see ``jobkit.validate_purchases``) are not counted; the
enrichment job is the one writer of their dead letters.
"""

from __future__ import annotations

import argparse

import jobkit
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import DataStreamWriter

from streamstack import events

JOB = "running_totals"


def build(spark: SparkSession, args: argparse.Namespace) -> DataStreamWriter:
    checked = jobkit.validate_purchases(jobkit.read_stream(spark, args, args.purchases_topic))
    totals = (
        checked.where(F.col("reason").isNull())
        .groupBy("product_id")
        .agg(
            F.max("transaction_ts").alias("latest_ts"),
            F.count(F.lit(1)).alias("transactions"),
            F.sum(F.col("quantity").cast("long")).alias("quantities"),
            F.sum(jobkit.money(F.col("total_purchase"))).alias("sales"),
        )
    )
    out = jobkit.to_kafka_value(
        totals,
        {
            "event_time": jobkit.format_ts(F.col("latest_ts")),
            "product_id": F.col("product_id"),
            "transactions": F.col("transactions"),
            "quantities": F.col("quantities"),
            "sales": F.col("sales").cast("decimal(14,2)"),
        },
        events.RUNNING_TOTAL,
        "product_id",
    )
    return jobkit.write_stream(out, args, "update")


def main(argv: list[str] | None = None) -> None:
    p = jobkit.parser(JOB, __doc__.splitlines()[0])
    jobkit.topic_arg(p, "purchases-topic", "purchases")
    jobkit.topic_arg(p, "output-topic", "running_totals")
    args = p.parse_args(argv)
    jobkit.check_args(p, args, "purchases_topic", "output_topic")
    jobkit.run(JOB, args, build)


if __name__ == "__main__":
    main()
