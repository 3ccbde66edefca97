"""Sales and drinks per product in 10-minute event-time windows sliding every 5 minutes.

``spark-submit jobs/spark/sales_windows.py --checkpoint-dir DIR --purchases-topic T --output-topic T --invalid-topic T``

The windows, the watermark and what is late are the contract's (``windows`` in
``config/contract.yaml``): the watermark is the newest ``transaction_time`` of the earlier
micro-batches minus ``allowed_lateness_minutes``. A valid line behind it is counted in no window
and dead-lettered ``late`` on ``--invalid-topic``: never dropped unseen, as Spark's own window
aggregation would drop it. So the windows are a stateful processor (``transformWithState``) keyed
by (window start, product_id), not ``groupBy(window(...))``: Spark filters the rows behind the
watermark out of its built-in stateful operators before any code sees them.

Each key keeps its totals and the identities (transaction_id, line_number) it counted, so a line
sent twice (a same-seed generator rerun) is counted once; its state goes when the watermark
passes the window's end, after which every line of it is late. ``--output-mode update``
(default) emits a window's new value whenever it changes (the latest record per
``{"window_start","product_id"}`` is the answer); ``append`` emits each window once, final, when
the watermark passes its end. Windows and late dead letters go out in one Kafka write.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kafka_io
import runner
import validation as v
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import DataStreamWriter

JOB = "sales_windows"
#: Written into the checkpoint by this job: a checkpoint without it is the older window
#: aggregation's, whose state this processor cannot read.
STATE_FORMAT = ("streamstack-state-format", "window-totals-processor-1")
#: What the processor emits per row: a window's current value, or a late line.
OUTPUT = ("kind string, window_start long, product_id string, transactions long, drinks long, cents long, "
          "source_topic string, source_partition int, source_offset long, value binary, transaction_time string, "
          "watermark long")


def windows_processor(size_ms: int, slide_ms: int, append: bool) -> Any:
    """The ``StatefulProcessor`` of one (window start, product_id) key.

    Made in a function so Spark's Python worker gets the class by value (the worker cannot
    import the job's module in the tests' shared session).
    """
    from pyspark.sql import Row
    from pyspark.sql.streaming import StatefulProcessor

    class WindowTotals(StatefulProcessor):
        def init(self, handle: Any) -> None:
            self.handle = handle
            self.totals = handle.getValueState("totals", "transactions long, drinks long, cents long")
            self.lines = handle.getValueState("lines", "ids array<string>")

        def _window(self, key: tuple, totals: tuple) -> Row:
            return Row(kind="window", window_start=key[0], product_id=key[1], transactions=totals[0],
                       drinks=totals[1], cents=totals[2], source_topic=None, source_partition=None,
                       source_offset=None, value=None, transaction_time=None, watermark=None)

        def handleInputRows(self, key: tuple, rows: Iterator[Row], timerValues: Any) -> Iterator[Row]:
            watermark = max(timerValues.getCurrentWatermarkInMs(), 0)
            known = self.totals.exists()
            transactions, drinks, cents = self.totals.get() if known else (0, 0, 0)
            seen = set(self.lines.get()[0]) if known else set()
            counted = 0
            for r in rows:
                if r.ms < watermark:
                    # Late for both of its windows: one dead letter, from its earliest window's key.
                    if key[0] == r.ms - r.ms % slide_ms - (size_ms - slide_ms):
                        yield Row(kind="late", window_start=key[0], product_id=key[1], transactions=None,
                                  drinks=None, cents=None, source_topic=r.source_topic,
                                  source_partition=r.source_partition, source_offset=r.source_offset,
                                  value=r.value, transaction_time=r.transaction_time, watermark=watermark)
                    continue
                identity = f"{r.transaction_id}/{r.line_number}"
                if identity in seen:
                    continue
                seen.add(identity)
                transactions, drinks, cents, counted = transactions + 1, drinks + r.quantity, cents + r.cents, counted + 1
            if counted:
                if not known:
                    self.handle.registerTimer(key[0] + size_ms)  # the watermark passes the window's end
                self.totals.update((transactions, drinks, cents))
                self.lines.update((sorted(seen),))
                if not append:
                    yield self._window(key, (transactions, drinks, cents))

        def handleExpiredTimer(self, key: tuple, timerValues: Any, expiredTimerInfo: Any) -> Iterator[Row]:
            if append and self.totals.exists():
                yield self._window(key, self.totals.get())
            self.totals.clear()
            self.lines.clear()

        def close(self) -> None:
            pass

    return WindowTotals()


def window_rows(checked: DataFrame, contract: v.Contract, append: bool) -> DataFrame:
    """The processor's output over the valid lines of ``checked`` (``validate_purchases``)."""
    windows = contract.doc["windows"]
    size_ms, slide_ms = windows["size_minutes"] * 60_000, windows["slide_minutes"] * 60_000
    ms = F.unix_millis(F.col("transaction_ts"))
    last = ms - ms % slide_ms
    lines = (
        checked.where(F.col("reason").isNull())
        .withWatermark("transaction_ts", f"{windows['allowed_lateness_minutes']} minutes")
        # ``ms`` is a new column without the watermark's mark: rows behind the watermark reach
        # the processor (which dead-letters them) instead of being filtered out before it.
        .select(
            F.explode(F.array(*[last - slide_ms * n for n in range(size_ms // slide_ms)])).alias("window_start"),
            "product_id", "transaction_id", "line_number", "transaction_time", ms.alias("ms"),
            F.col("quantity").cast("long").alias("quantity"),
            (v.money(F.col("total_purchase")) * 100).cast("long").alias("cents"),
            "source_topic", "source_partition", "source_offset", "value",
        )
    )
    return lines.groupBy("window_start", "product_id").transformWithState(
        windows_processor(size_ms, slide_ms, append), OUTPUT, "Append" if append else "Update", "EventTime")


def output_columns(args: argparse.Namespace, contract: v.Contract) -> list[Column]:
    """``key, value, topic`` of windows and late dead letters: one projection, a per-row choice."""
    w = contract.doc["windows"]
    start = F.timestamp_millis(F.col("window_start"))
    window = {
        "window_start": v.format_ts(start, contract),
        "window_end": v.format_ts(start + F.expr(f"INTERVAL {w['size_minutes']} MINUTES"), contract),
        "product_id": F.col("product_id"),
        "transactions": F.col("transactions"),
        "drinks": F.col("drinks"),
        "sales": (F.col("cents").cast("decimal(20,0)") / 100).cast("decimal(14,2)"),
    }
    late = F.col("kind") == "late"
    return [
        # The window's identity is its key (config/topics.yaml): {"window_start","product_id"}.
        F.when(~late, v.kafka_key(window, ("window_start", "product_id"))).alias("key"),
        F.when(late, v.dead_letter_value(f"spark.{JOB}", contract))
        .otherwise(v.json_value(window, contract.names("sales_windows"))).alias("value"),
        F.when(late, F.lit(args.invalid_topic)).otherwise(F.lit(args.output_topic)).alias("topic"),
    ]


def late_reason(contract: v.Contract) -> Column:
    """``late: transaction_time T is behind the windows' watermark W (...)`` of a late row."""
    w = contract.doc["windows"]
    return F.format_string(
        f"{w['late_code']}: transaction_time %s is behind the windows' watermark %s "
        f"(the newest transaction_time of the earlier micro-batches minus {w['allowed_lateness_minutes']} minutes)",
        F.col("transaction_time"),
        v.format_ts(F.timestamp_millis(F.col("watermark")), contract),
    )


class IncompatibleCheckpoint(RuntimeError):
    """The checkpoint holds state this job cannot read."""


def check_state_format(checkpoint: Path) -> None:
    """Refuse a checkpoint of the older ``groupBy(window(...))`` job, naming the way out; mark a new one.

    Spark would fail on it deep in the state store (other operators, another state provider).
    """
    name, version = STATE_FORMAT
    marker = checkpoint / name
    if (checkpoint / "offsets").exists() and not (marker.exists() and marker.read_text().strip() == version):
        raise IncompatibleCheckpoint(
            f"{checkpoint} holds the state of an older {JOB} job (a window aggregation that dropped "
            f"late lines unseen), which this version cannot resume. `streamstack engine reset --engine spark {JOB}` starts "
            "it over from what the purchases topic still holds (7 days): each window is recomputed from "
            "its lines there, so the oldest one the topic holds only in part is rewritten with that part)")
    checkpoint.mkdir(parents=True, exist_ok=True)
    marker.write_text(version + "\n")


def build(spark: SparkSession, args: argparse.Namespace) -> DataStreamWriter:
    check_state_format(runner.paths(args.checkpoint_dir, JOB)["checkpoint"])
    contract = v.Contract.read(args.contract)
    checked = v.validate_purchases(kafka_io.read_stream(spark, args, args.purchases_topic), contract)
    rows = window_rows(checked, contract, args.output_mode == "append")
    out = rows.withColumn("reason", late_reason(contract)).select(*output_columns(args, contract))
    return kafka_io.write_stream(out, args, args.output_mode, per_row_topic=True)


def main(argv: list[str] | None = None, spark: SparkSession | None = None) -> None:
    p = kafka_io.parser(JOB, __doc__.splitlines()[0])
    kafka_io.topic_arg(p, "purchases-topic", "purchases")
    kafka_io.topic_arg(p, "output-topic", "sales_windows")
    kafka_io.topic_arg(p, "invalid-topic", "purchases_invalid")
    p.add_argument("--output-mode", choices=("update", "append"), default="update")
    args = p.parse_args(argv)
    kafka_io.check_args(p, args, "purchases_topic", "output_topic", "invalid_topic")
    runner.run(JOB, args, build, spark=spark)


if __name__ == "__main__":
    main()
