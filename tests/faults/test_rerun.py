"""Finding 4: a same-seed rerun after a run that failed part-way counts nothing twice, in any table.

The first run "fails" after 60 transactions (the records that landed), the rerun with the same
seed sends all 120 again: the first 60 a second time, with the same identity. The engine's
totals and windows (topics and their Pinot upsert tables) must equal those of the 120 sent once.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import faultkit as fk
import pytest
from support import spark_testkit as kit

from streamstack import events
from streamstack.pinot import PinotClient
from streamstack.pinot.ingestion import wait_caught_up
from streamstack.settings import Settings
from streamstack.spark.jars import connector_jars
from streamstack.topics.offsets import read_to_end

pytestmark = [pytest.mark.integration, pytest.mark.timeout(720)]
SEED, LANDED, ALL = 4711, 60, 120


def latest_by(records: list[dict], *key: str) -> dict[tuple, dict]:
    """The last record per key in offset order (update-mode output: the last one is the answer)."""
    out: dict[tuple, dict] = {}
    for r in sorted(records, key=lambda r: (r["partition"], r["offset"])):
        value = json.loads(r["value"])
        out[tuple(value[k] for k in key)] = value
    return out


def expected_totals(purchases: list[dict[str, Any]]) -> dict[str, tuple[int, int, float]]:
    out: dict[str, list] = defaultdict(lambda: [0, 0, 0.0])
    for p in purchases:
        row = out[p["product_id"]]
        row[0] += 1
        row[1] += p["quantity"]
        row[2] += p["total_purchase"]
    return {k: (t, q, round(s, 2)) for k, (t, q, s) in out.items()}


def expected_windows(purchases: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[int, int, float]]:
    """10-minute windows sliding every 5 minutes, computed without Spark."""
    out: dict[tuple[str, str], list] = defaultdict(lambda: [0, 0, 0.0])
    for p in purchases:
        moment = events.parse_timestamp(p["transaction_time"])
        floor = moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0)
        for start in (floor - timedelta(minutes=5), floor):
            row = out[(start.strftime(events.TIMESTAMP_FORMAT), p["product_id"])]
            row[0] += 1
            row[1] += p["quantity"]
            row[2] += p["total_purchase"]
    return {k: (t, d, round(s, 2)) for k, (t, d, s) in out.items()}


def test_same_seed_rerun_counts_nothing_twice(kafka: Settings, pinot: PinotClient, tmp_path: Path) -> None:
    connector_jars(kafka)
    topics = fk.make_topics(kafka)
    tables = fk.make_tables(kafka, pinot, topics, ["runningTotals", "salesWindows"])
    try:
        first = fk.generate(kafka, topics, SEED, LANDED, mode="load")
        rerun = fk.generate(kafka, topics, SEED, ALL, mode="load")
        expected = fk.valid(fk.expected_purchases(SEED, ALL))
        sent = fk.topic_lines(kafka, topics["purchases"].name)
        assert len(sent) == first.purchases + rerun.purchases and len(set(sent)) == rerun.purchases  # repeats

        kit.run_jobs(("running_totals", "sales_windows"), kafka, topics, tmp_path / "checkpoints", timeout=480)

        config = kafka.kafka_client_config()
        totals = latest_by(read_to_end(config, topics["running_totals"].name), "product_id")
        got = {k[0]: (v["transactions"], v["quantities"], round(v["sales"], 2)) for k, v in totals.items()}
        assert got == expected_totals(expected)
        windows = latest_by(read_to_end(config, topics["sales_windows"].name), "window_start", "product_id")
        got_windows = {k: (v["transactions"], v["drinks"], round(v["sales"], 2)) for k, v in windows.items()}
        assert got_windows == expected_windows(expected)

        # The Pinot tables of both (upserts: the latest record per key is the row).
        pinot_want = {"runningTotals": (len(got), len(expected)),
                      "salesWindows": (len(got_windows), 2 * len(expected))}  # each line is in 2 windows
        for name, (rows, transactions) in pinot_want.items():
            spec = tables[name]
            wait_caught_up(pinot, spec, config, timeout=120)
            fk.wait_for(lambda s=spec, n=rows: fk.pinot_count(pinot, s.name) == n, 60, f"{rows} rows in {name}")
            (row,) = pinot.query(f"SELECT SUM(transactions) AS t FROM {spec.name}")
            assert int(row["t"]) == transactions, name
        assert sum(t for t, _, _ in got_windows.values()) == 2 * len(expected)  # each line in 2 windows
    finally:
        for spec in tables.values():
            pinot.drop_table(spec.name)
        fk.delete_topics(kafka, topics)
