"""Copy a topic record for record: the no-logic baselines of the enrichment benchmark.

Same read (Kafka source) and same write (one Kafka batch write inside ``foreachBatch``) as
``purchases_enrichment``, no parsing, no join: the ratio of the two isolates the cost of the logic.
With ``--json-roundtrip`` each value is parsed with the purchase schema and serialised again, no
checks, no join: the least any job must do that reads and writes these events as JSON.
"""

from __future__ import annotations

import argparse

import kafka_io
import runner
import validation as v
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import DataStreamWriter

JOB = "copy_topic"


def build(spark: SparkSession, args: argparse.Namespace) -> DataStreamWriter:
    kafka = kafka_io.kafka_options(args)
    value = F.col("value")
    if args.json_roundtrip:
        value = F.to_json(F.from_json(value.cast("string"), v.struct_type(v.Contract.read(args.contract).fields("purchases"))))
    columns = [F.col("key"), value.alias("value")]

    def process(batch: DataFrame, batch_id: int) -> None:
        batch.select(*columns).write.format("kafka").options(**kafka).option("topic", args.output_topic).save()

    return kafka_io.read_stream(spark, args, args.purchases_topic).writeStream.foreachBatch(process)


def main(argv: list[str] | None = None, spark: SparkSession | None = None) -> None:
    p = kafka_io.parser(JOB, __doc__.splitlines()[0])
    kafka_io.topic_arg(p, "purchases-topic", "purchases")
    p.add_argument("--output-topic", required=True)
    p.add_argument("--json-roundtrip", action="store_true", help="parse and re-serialise each value")
    args = p.parse_args(argv)
    kafka_io.check_args(p, args, "purchases_topic", "output_topic")
    runner.run(JOB, args, build, spark=spark)


if __name__ == "__main__":
    main()
