"""The Pinot reader against real Pinot: what Pinot returns passes the schema checks unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from streamstack.clients import producer
from streamstack.pinot import PinotClient
from streamstack.pinot.ingestion import wait_caught_up
from streamstack.pinot.tables import TableSpec
from streamstack.quality import CheckOptions, QualityRunner, read_pinot_window
from streamstack.quality.catalogue import load_catalogue
from streamstack.quality.synthetic import synthetic_purchases
from streamstack.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_pinot_window_is_checked_like_the_topic(
    kafka: Settings, pinot: PinotClient, enriched_table: TableSpec, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    frame = synthetic_purchases(
        300, load_catalogue(kafka.config_dir / "products.csv"), end=now, span=timedelta(minutes=30), seed=21
    )
    frame.loc[4, "total_purchase"] = 77.77
    p = producer(kafka.kafka_client_config())
    for record in frame.to_dict(orient="records"):
        p.produce(enriched_table.topic, key=record["transaction_id"], value=json.dumps(record))
    assert p.flush(30) == 0
    wait_caught_up(pinot, enriched_table, kafka.kafka_client_config(), timeout=180)

    batch = read_pinot_window(
        pinot, now - timedelta(hours=1), now + timedelta(minutes=1), table=enriched_table.name
    )
    assert len(batch.frame) == len(frame)
    summary = QualityRunner(kafka, results_root=tmp_path).check(
        batch, options=CheckOptions(reference_time=now, data_docs=False)
    )
    # Only the planted fault: Pinot's types and its TIMESTAMP rendering pass every schema check.
    assert summary.failed_names == ["total_mismatch(total_purchase)"], summary.lines()

    before = read_pinot_window(
        pinot, now - timedelta(days=2), now - timedelta(days=1), table=enriched_table.name
    )
    assert before.is_empty
