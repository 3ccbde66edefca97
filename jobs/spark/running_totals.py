"""Unwindowed running totals per product: transactions, quantities, sales, latest purchase time.

``spark-submit jobs/spark/running_totals.py --checkpoint-dir DIR --purchases-topic T --output-topic T``

A stateful aggregation in update mode: each micro-batch emits the new absolute totals of the
products it touched, keyed by product_id, to a compacted topic. The state lives in the checkpoint,
so a restart resumes from the last committed batch; a batch replayed after a crash recomputes the
same absolute values from the same state, so a replay rewrites a total and never double counts.
A line sent twice (a generator rerun with the same seed, an at-least-once producer) is counted
once: lines are de-duplicated by their identity (transaction_id, line_number) before the sums,
as Pinot's purchase tables do. Like Pinot's dedup, that keeps one small state entry per line seen.
Purchases that fail validation (``validation.validate_purchases``, from the event contract) are not counted; the
enrichment job is the one writer of their dead letters.
"""

from __future__ import annotations

import argparse

import kafka_io
import runner
import validation as v
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import DataStreamWriter

JOB = "running_totals"


def build(spark: SparkSession, args: argparse.Namespace) -> DataStreamWriter:
    contract = v.Contract.read(args.contract)
    checked = v.validate_purchases(kafka_io.read_stream(spark, args, args.purchases_topic), contract)
    totals = (
        checked.where(F.col("reason").isNull())
        .dropDuplicates(list(v.IDENTITY))
        .groupBy("product_id")
        .agg(
            F.max("transaction_ts").alias("latest_ts"),
            F.count(F.lit(1)).alias("transactions"),
            F.sum(F.col("quantity").cast("long")).alias("quantities"),
            F.sum(v.money(F.col("total_purchase"))).alias("sales"),
        )
    )
    out = v.to_kafka_value(
        totals,
        {
            "event_time": v.format_ts(F.col("latest_ts"), contract),
            "product_id": F.col("product_id"),
            "transactions": F.col("transactions"),
            "quantities": F.col("quantities"),
            "sales": F.col("sales").cast("decimal(14,2)"),
        },
        contract.names("running_totals"),
        "product_id",
    )
    return kafka_io.write_stream(out, args, "update")


def main(argv: list[str] | None = None, spark: SparkSession | None = None) -> None:
    p = kafka_io.parser(JOB, __doc__.splitlines()[0])
    kafka_io.topic_arg(p, "purchases-topic", "purchases")
    kafka_io.topic_arg(p, "output-topic", "running_totals")
    args = p.parse_args(argv)
    kafka_io.check_args(p, args, "purchases_topic", "output_topic")
    runner.run(JOB, args, build, spark=spark)


if __name__ == "__main__":
    main()
