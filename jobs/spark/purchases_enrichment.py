"""Enrich purchases with the latest version of their product; dead-letter what cannot be enriched.

``spark-submit jobs/spark/purchases_enrichment.py --checkpoint-dir DIR --purchases-topic T ...``

Why a batch snapshot of the catalogue inside ``foreachBatch`` and not a stream-stream join: a
stream-stream join keeps every product version in state and joins each purchase with all of
them, which is exactly the duplicate-on-republish bug of the original demo. Here each
micro-batch of purchases is joined with one row per product_id: the record with the highest
offset for the key (what compaction keeps; a tombstone deletes the product). The snapshot is
re-read at most every ``--catalogue-refresh`` seconds, and at once when a batch meets an unknown
product, so a product published a moment before its first purchase is not dead-lettered.

Output and dead letters go out in one Kafka write per micro-batch (per-row ``topic`` column).
The Kafka sink is at-least-once: a batch interrupted between write and checkpoint commit is
written again on restart, so consumers de-duplicate on (transaction_id, line_number).
"""

from __future__ import annotations

import argparse
import time

import jobkit
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import DataStreamWriter

from streamstack import events

JOB = "purchases_enrichment"
PRODUCT_COLUMNS = [f.name for f in events.PRODUCT if f.name != "product_id"]


class Catalogue:
    """The latest version of each product, re-read from the products topic when stale."""

    def __init__(self, spark: SparkSession, args: argparse.Namespace) -> None:
        self.spark, self.args = spark, args
        self.refresh_seconds = args.catalogue_refresh
        self.frame: DataFrame | None = None
        self.loaded_at = float("-inf")

    def load(self) -> DataFrame:
        raw = jobkit.read_batch(self.spark, self.args, self.args.products_topic)
        parsed = raw.select(
            F.col("key").cast("string").alias("key"),
            "partition",
            "offset",
            F.from_json(F.col("value").cast("string"), jobkit.struct_type(events.PRODUCT)).alias("p"),
        ).select(F.coalesce(F.col("p.product_id"), F.col("key")).alias("product_id"), "partition", "offset", "p")
        latest = (
            parsed.where(F.col("product_id").isNotNull())
            .groupBy("product_id")
            .agg(F.max_by("p", F.struct("offset", "partition")).alias("p"))
            .where(F.col("p").isNotNull())  # the latest record is a tombstone or unreadable: no product
        )
        projected = latest.select(
            "product_id", *[F.col(f"p.{c}").alias(f"p_{c}") for c in PRODUCT_COLUMNS], F.lit(True).alias("_known")
        )
        # Collected once to the driver (one row per product): later batches join a local relation
        # instead of reading the topic again.
        self.frame = self.spark.createDataFrame(projected.collect(), projected.schema)
        self.loaded_at = time.monotonic()
        return self.frame

    def get(self) -> DataFrame:
        if self.frame is None or time.monotonic() - self.loaded_at >= self.refresh_seconds:
            return self.load()
        return self.frame

    def fresh(self) -> bool:
        return time.monotonic() - self.loaded_at < 0.5


def enriched_columns() -> dict:
    """Output expressions in the exact order of ``events.PURCHASE_ENRICHED``."""
    return {
        "transaction_time": F.col("transaction_time"),
        "transaction_timestamp": F.unix_millis("transaction_ts"),
        "transaction_id": F.col("transaction_id"),
        "line_number": F.col("line_number"),
        "product_id": F.col("product_id"),
        "product_category": F.col("p_category"),
        "product_name": F.col("p_item"),
        "product_size": F.col("p_size"),
        "product_cogs": jobkit.money(F.col("p_cogs")),
        "product_price": jobkit.money(F.col("p_price")),
        "contains_fruit": F.col("p_contains_fruit"),
        "contains_veggies": F.col("p_contains_veggies"),
        "contains_nuts": F.col("p_contains_nuts"),
        "contains_caffeine": F.col("p_contains_caffeine"),
        "purchase_price": jobkit.money(F.col("price")),
        "purchase_quantity": F.col("quantity"),
        "is_member": F.col("is_member"),
        "member_discount": jobkit.money(F.col("member_discount")),
        "add_supplements": F.col("add_supplements"),
        "supplement_price": jobkit.money(F.col("supplement_price")),
        "total_purchase": jobkit.money(F.col("total_purchase")),
    }


def enrich(checked: DataFrame, catalogue: DataFrame) -> DataFrame:
    """Join validated purchases with one product row each; unknown products become a reason."""
    joined = checked.join(F.broadcast(catalogue), "product_id", "left")
    unknown = F.format_string(f"{jobkit.UNKNOWN_PRODUCT}: %s is not in the catalogue", F.col("product_id"))
    return joined.withColumn(
        "reason", F.coalesce(F.col("reason"), F.when(F.col("_known").isNull(), unknown))
    )


def outputs(joined: DataFrame, args: argparse.Namespace) -> DataFrame:
    """Enriched records and dead letters as one ``key, value, topic`` frame for the Kafka sink."""
    good = jobkit.to_kafka_value(
        joined.where(F.col("reason").isNull()), enriched_columns(), events.PURCHASE_ENRICHED, "transaction_id"
    ).withColumn("topic", F.lit(args.output_topic))
    bad = jobkit.dead_letters(joined.where(F.col("reason").isNotNull()), f"spark.{JOB}").withColumn(
        "topic", F.lit(args.invalid_topic)
    )
    return good.unionByName(bad)


def build(spark: SparkSession, args: argparse.Namespace) -> DataStreamWriter:
    catalogue = Catalogue(spark, args)
    kafka = jobkit.kafka_options(args)

    def process(batch: DataFrame, batch_id: int) -> None:
        checked = jobkit.validate_purchases(batch)
        joined = enrich(checked, catalogue.get()).persist()
        try:
            unknown = joined.where(F.col("reason").startswith(jobkit.UNKNOWN_PRODUCT)).limit(1).count()
            if unknown and not catalogue.fresh():
                joined.unpersist()
                joined = enrich(checked, catalogue.load()).persist()
            outputs(joined, args).write.format("kafka").options(**kafka).save()
        finally:
            joined.unpersist()

    return jobkit.read_stream(spark, args, args.purchases_topic).writeStream.foreachBatch(process)


def main(argv: list[str] | None = None) -> None:
    p = jobkit.parser(JOB, __doc__.splitlines()[0])
    jobkit.topic_arg(p, "purchases-topic", "purchases")
    jobkit.topic_arg(p, "products-topic", "products")
    jobkit.topic_arg(p, "output-topic", "purchases_enriched")
    jobkit.topic_arg(p, "invalid-topic", "purchases_invalid")
    p.add_argument("--catalogue-refresh", type=float, default=30.0, help="seconds a catalogue snapshot is reused")
    args = p.parse_args(argv)
    jobkit.check_args(p, args, "purchases_topic", "products_topic", "output_topic", "invalid_topic")
    jobkit.run(JOB, args, build)


if __name__ == "__main__":
    main()
