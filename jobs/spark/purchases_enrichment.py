"""Enrich purchases with the product version valid at their time; dead-letter what cannot be enriched.

``spark-submit jobs/spark/purchases_enrichment.py --checkpoint-dir DIR --contract FILE --purchases-topic T ...``

Each purchase meets exactly one product version: the newest on the products topic whose
``event_time`` is not later than the purchase's ``transaction_time`` (the event contract's rule),
so a price or COGS change never rewrites history and a re-published catalogue adds no row. A
purchase older than every version of its product is dead-lettered ``no_product_version``.

Why a batch snapshot of the versions inside ``foreachBatch`` and not a stream-stream join: a
stream-stream join keeps every product version in state and joins each purchase with all of
them, which is exactly the duplicate-on-republish bug of the original demo. Here the snapshot is
turned into validity intervals ``[event_time, next event_time)`` per product, so the join is an
equi-join on product_id with a range condition that matches at most one interval. The snapshot is
re-read at most every ``--catalogue-refresh`` seconds, and at once when a batch meets a purchase
with no version, so a product published a moment before its first purchase is not dead-lettered.

Output and dead letters go out in one Kafka write per micro-batch (per-row ``topic`` column).
The Kafka sink is at-least-once: a batch interrupted between write and checkpoint commit is
written again on restart, so consumers de-duplicate on (transaction_id, line_number).
"""

from __future__ import annotations

import argparse
import json
import time

import kafka_io
import runner
import validation as v
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.streaming import DataStreamWriter

JOB = "purchases_enrichment"


class Catalogue:
    """Every version of every product, as validity intervals, re-read from the products topic when stale.

    ``changed()`` tells, from the topic's end offsets (one driver-side metadata request, no Spark
    job), whether a record was added since the snapshot was read. While nothing was, a re-read
    would give the same snapshot, so a batch needs no missing-version re-check.
    """

    def __init__(self, spark: SparkSession, args: argparse.Namespace, contract: v.Contract) -> None:
        self.spark, self.args, self.contract = spark, args, contract
        self.columns = [n for n in contract.names("products") if n != "product_id"]
        self.refresh_seconds = args.catalogue_refresh
        self.frame: DataFrame | None = None
        self.loaded_at = float("-inf")
        self.loaded_ends: dict[int, int] | None = None
        self._offsets = _EndOffsets(spark, args, args.products_topic)
        self.dead_letters = _ProductDeadLetters(spark, args, contract)

    def load(self) -> DataFrame:
        ends = self._offsets.get()  # before the read: a record added meanwhile counts as a change
        raw = kafka_io.read_batch(self.spark, self.args, self.args.products_topic)
        # Collected once to the driver (a few rows per product): later batches join a local
        # relation instead of reading the topic again, and the malformed records are dead-lettered
        # from the same rows. Cached: a frame made from Python rows would otherwise run a Python
        # task every batch.
        checked = v.validate_products(raw, self.contract)
        local = self.spark.createDataFrame(checked.collect(), checked.schema)
        self.dead_letters.write(local)
        # One version per (product, event_time): a repeat at the same time counts as its last record.
        versions = (
            local.where(F.col("reason").isNull())
            .groupBy("product_id", "valid_from")
            .agg(F.max_by(F.struct(*self.columns), F.struct("source_offset", "source_partition")).alias("p"))
        )
        following = Window.partitionBy("product_id").orderBy("valid_from")
        intervals = versions.select(
            "product_id",
            F.col("valid_from").alias("_valid_from"),
            F.lead("valid_from").over(following).alias("_valid_to"),
            *[F.col(f"p.{c}").alias(f"p_{c}") for c in self.columns],
            F.lit(True).alias("_known"),
        )
        if self.frame is not None:
            self.frame.unpersist()
        self.frame = self.spark.createDataFrame(intervals.collect(), intervals.schema).cache()
        self.frame.count()
        self.loaded_at = time.monotonic()
        self.loaded_ends = ends
        return self.frame

    def get(self) -> DataFrame:
        if self.frame is None:
            return self.load()
        if time.monotonic() - self.loaded_at >= self.refresh_seconds:
            if self.changed():
                return self.load()
            self.loaded_at = time.monotonic()  # nothing new on the topic: the snapshot is current
        return self.frame

    def fresh(self) -> bool:
        return time.monotonic() - self.loaded_at < 0.5

    def changed(self) -> bool:
        """Whether the products topic may hold a record the snapshot lacks (True when unsure)."""
        if self.loaded_ends is None:
            return True
        ends = self._offsets.get()
        return ends is None or ends != self.loaded_ends


class _ProductDeadLetters:
    """Writes the malformed product records to the dead-letter topic, each once per checkpoint.

    The catalogue is re-read whole on every refresh, so the offsets up to which its records were
    checked are kept in the query's checkpoint directory (``products-dead-letters.json``,
    written after the Kafka write): a refresh writes only the new ones, a restart goes on where the
    last run stopped, and ``streamstack engine reset --engine spark`` (which deletes the checkpoint) starts over,
    as for the purchases. A crash between the write and the file writes them again: at least
    once, like the job's other output. A topic that was recreated (offsets below the stored ones)
    starts over too.
    """

    def __init__(self, spark: SparkSession, args: argparse.Namespace, contract: v.Contract) -> None:
        self.spark, self.args, self.contract = spark, args, contract
        self.file = runner.paths(args.checkpoint_dir, JOB)["checkpoint"] / "products-dead-letters.json"
        self.kafka = kafka_io.kafka_options(args)

    def _done(self) -> dict[int, int]:
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        if data.get("topic") != self.args.products_topic:
            return {}
        return {int(p): int(o) for p, o in data["next_offsets"].items()}

    def write(self, checked: DataFrame) -> None:
        """Dead-letter the new malformed rows of ``checked`` (``validate_products`` of the whole topic, local)."""
        ends = {r.source_partition: r.end for r in
                checked.groupBy("source_partition").agg((F.max("source_offset") + 1).alias("end")).collect()}
        # A partition that now ends before the stored position was recreated: it starts over.
        done = {p: o for p, o in self._done().items() if ends.get(p, 0) >= o}
        new = checked.where(F.col("reason").isNotNull())
        for partition, offset in done.items():
            new = new.where((F.col("source_partition") != partition) | (F.col("source_offset") >= offset))
        out = new.select(
            F.lit(None).cast("string").alias("key"),
            v.dead_letter_value(f"spark.{JOB}", self.contract, {n: F.col(n) for n in v.PAYLOAD_FIELDS}).alias("value"),
        )
        if out.limit(1).count():
            out.write.format("kafka").options(**self.kafka).option("topic", self.args.invalid_topic).save()
        self.file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"topic": self.args.products_topic, "next_offsets": {**done, **ends}}),
                       encoding="utf-8")
        tmp.replace(self.file)


class _EndOffsets:
    """End offsets of a topic, read on the driver with the Kafka client Spark's connector ships.

    Goes through the driver JVM (``kafka-clients`` is on its class path for the Kafka source), so
    the job still imports only pyspark. One consumer, reused; ``get()`` is None if unavailable,
    which callers treat as "may have changed" (the exact, slower path).
    """

    def __init__(self, spark: SparkSession, args: argparse.Namespace, topic: str) -> None:
        self.spark, self.args, self.topic = spark, args, topic
        self._consumer = None
        self._broken = False

    def _client(self):  # a py4j proxy of KafkaConsumer
        if self._consumer is None:
            jvm = self.spark.sparkContext._jvm
            props = jvm.java.util.Properties()
            for key, value in kafka_io.kafka_options(self.args).items():
                props.setProperty(key.removeprefix("kafka."), value)
            deser = "org.apache.kafka.common.serialization.ByteArrayDeserializer"
            props.setProperty("key.deserializer", deser)
            props.setProperty("value.deserializer", deser)
            props.setProperty("enable.auto.commit", "false")
            self._consumer = jvm.org.apache.kafka.clients.consumer.KafkaConsumer(props)
        return self._consumer

    def get(self) -> dict[int, int] | None:
        if self._broken:
            return None
        try:
            consumer = self._client()
            jvm = self.spark.sparkContext._jvm
            partitions = jvm.java.util.ArrayList()
            for info in consumer.partitionsFor(self.topic):
                partitions.add(jvm.org.apache.kafka.common.TopicPartition(self.topic, info.partition()))
            ends = consumer.endOffsets(partitions)
            return {tp.partition(): int(ends.get(tp)) for tp in partitions}
        except Exception as exc:  # noqa: BLE001 - any failure means "unsure": fall back to the exact check
            print(f"warning: {JOB}: end offsets of {self.topic} unavailable ({exc}); checking each batch", flush=True)
            self._broken = True
            return None


def enriched_columns() -> dict:
    """Output expressions in the exact order of the enriched-purchase schema."""
    return {
        "transaction_time": F.col("transaction_time"),
        "transaction_timestamp": F.unix_millis("transaction_ts"),
        "transaction_id": F.col("transaction_id"),
        "line_number": F.col("line_number"),
        "product_id": F.col("product_id"),
        "product_category": F.col("p_category"),
        "product_name": F.col("p_item"),
        "product_size": F.col("p_size"),
        "product_cogs": v.money(F.col("p_cogs")),
        "product_price": v.money(F.col("p_price")),
        "contains_fruit": F.col("p_contains_fruit"),
        "contains_veggies": F.col("p_contains_veggies"),
        "contains_nuts": F.col("p_contains_nuts"),
        "contains_caffeine": F.col("p_contains_caffeine"),
        "purchase_price": v.money(F.col("price")),
        "purchase_quantity": F.col("quantity"),
        "is_member": F.col("is_member"),
        "member_discount": v.money(F.col("member_discount")),
        "add_supplements": F.col("add_supplements"),
        "supplement_price": v.money(F.col("supplement_price")),
        "total_purchase": v.money(F.col("total_purchase")),
        "identity_derived": F.col("identity_derived"),
    }


def enrich(checked: DataFrame, catalogue: DataFrame, contract: v.Contract) -> DataFrame:
    """Join validated purchases with the one version valid at their time; none is a reason."""
    c = catalogue.withColumnRenamed("product_id", "_product_id")
    valid_at = (
        (F.col("product_id") == F.col("_product_id"))
        & (F.col("_valid_from") <= F.col("transaction_ts"))
        & (F.col("_valid_to").isNull() | (F.col("transaction_ts") < F.col("_valid_to")))
    )
    joined = checked.join(F.broadcast(c), valid_at, "left")
    missing = F.format_string(
        f"{contract.missing_version_code}: product_id '%s' has no version valid at %s",
        F.col("product_id"),
        F.col("transaction_time"),
    )
    return joined.withColumn("reason", F.coalesce(F.col("reason"), F.when(F.col("_known").isNull(), missing)))


def output_columns(args: argparse.Namespace, contract: v.Contract) -> list[Column]:
    """``key, value, topic`` of enriched records and dead letters, for the Kafka sink.

    One projection with a per-row choice, not a union of two filtered frames: a union reads and
    parses the micro-batch twice unless it is persisted. Built once: the columns are unresolved
    expressions, valid for every micro-batch.
    """
    good = F.col("reason").isNull()
    enriched = v.json_value(enriched_columns(), contract.names("purchases_enriched"))
    return [
        F.when(good, F.col("transaction_id").cast("string")).alias("key"),
        F.when(good, enriched).otherwise(v.dead_letter_value(f"spark.{JOB}", contract)).alias("value"),
        F.when(good, F.lit(args.output_topic)).otherwise(F.lit(args.invalid_topic)).alias("topic"),
    ]


def build(spark: SparkSession, args: argparse.Namespace) -> DataStreamWriter:
    """The query: validation in the streaming plan, the catalogue join per micro-batch.

    Everything that does not depend on the catalogue snapshot (the wide validation, the output
    expressions) is built once here, not in ``process``: building it through py4j for every
    micro-batch cost ~0.5 s of driver time per batch, which is what continuous latency is made of.
    """
    contract = v.Contract.read(args.contract)
    catalogue = Catalogue(spark, args, contract)
    kafka = kafka_io.kafka_options(args)
    columns = output_columns(args, contract)

    def write(joined: DataFrame) -> None:
        joined.select(*columns).write.format("kafka").options(**kafka).save()

    def process(checked: DataFrame, batch_id: int) -> None:
        current = catalogue.get()
        if catalogue.fresh() or not catalogue.changed():
            # The snapshot was just read, or is what the topic holds now: a re-read would give the
            # same, so an unknown product is unknown. One pass: no persist, no extra action.
            write(enrich(checked, current, contract))
            return
        joined = enrich(checked, current, contract).persist()
        try:
            unknown = joined.where(F.col("reason").startswith(contract.missing_version_code)).limit(1).count()
            if unknown and not catalogue.fresh():
                joined.unpersist()
                joined = enrich(checked, catalogue.load(), contract).persist()
            write(joined)
        finally:
            joined.unpersist()

    checked = v.validate_purchases(kafka_io.read_stream(spark, args, args.purchases_topic), contract)
    return checked.writeStream.foreachBatch(process)


def main(argv: list[str] | None = None, spark: SparkSession | None = None) -> None:
    p = kafka_io.parser(JOB, __doc__.splitlines()[0])
    kafka_io.topic_arg(p, "purchases-topic", "purchases")
    kafka_io.topic_arg(p, "products-topic", "products")
    kafka_io.topic_arg(p, "output-topic", "purchases_enriched")
    kafka_io.topic_arg(p, "invalid-topic", "purchases_invalid")
    p.add_argument("--catalogue-refresh", type=float, default=30.0, help="seconds a catalogue snapshot is reused")
    args = p.parse_args(argv)
    kafka_io.check_args(p, args, "purchases_topic", "products_topic", "output_topic", "invalid_topic")
    runner.run(JOB, args, build, spark=spark)


if __name__ == "__main__":
    main()
