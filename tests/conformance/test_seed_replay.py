"""The seed's recordings replay into exact numbers, on every engine, onto topics that already hold today's data.

The seed's recordings are from 2022; ``make demo`` publishes the catalogue at today's time, so
before ``streamstack replay`` published the catalogue as of a file's first transaction, every
recorded line became a ``no_product_version`` dead letter. Here today's catalogue and purchases
are on the topics first, as after ``make demo``; both seed files are replayed twice the way the
CLI does it, and each engine's bounded enrichment must enrich every distinct line with the same
values each time, dead-letter nothing, and so give the files' per-product sums: on the enriched
topic, and in Pinot, whose ``purchasesEnriched`` table (config/pinot, over the test's topics)
keeps one row per line however often the file was replayed.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from support import spark_testkit as sk
from support.pinot import TablesOnDemand, table_specs

from streamstack.contract import load_contract, write_contract
from streamstack.events import format_timestamp
from streamstack.generator import load_catalogue, load_config
from streamstack.generator.kafka import KafkaSink
from streamstack.generator.replay import earliest_versions, replay
from streamstack.pinot import PinotClient
from streamstack.pinot.ingestion import wait_caught_up
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs
from streamstack.topics.offsets import read_to_end

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[1] / "data"
FILES = (DATA / "sample_date_new.json", DATA / "sample_data_small.json")


def _replay(config: dict, topics: TopicSpecs, file: Path) -> int:
    """What ``streamstack replay FILE`` does: the versions on the topic first, then the file."""
    settings = load_config(environ={})
    catalogue = load_catalogue(settings.catalogue_file).products
    known = earliest_versions([(r["key"], r["value"]) for r in
                               read_to_end(config, topics["products"].name, raw=True)], load_contract())
    summary = replay(file, KafkaSink(config, topics, settings.producer),
                     known_products={p.product_id for p in catalogue}, catalogue=catalogue, known_versions=known)
    return summary.product_versions


def _spark(kafka: Settings, topics: TopicSpecs, tmp: Path) -> None:
    from streamstack.spark.jars import connector_jars

    sk.run_jobs(["purchases_enrichment"], kafka, topics, tmp / "checkpoints", jars=connector_jars(kafka))


def _kstreams(kafka: Settings, topics: TopicSpecs, tmp: Path) -> None:
    from streamstack.kstreams.control import KStreamsControl

    app = "purchases_enrichment"
    control = KStreamsControl(kafka, topics=topics, run_dir=tmp / "kstreams",
                              application_ids={app: f"seed-replay-{uuid.uuid4().hex[:8]}"}, ports={app: 0})
    try:
        control.run_bounded(app, timeout=300)
    finally:
        control.stop(app)
        control.reset(app)


def _flink(kafka: Settings, topics: TopicSpecs, tmp: Path) -> None:
    from streamstack.flink.config import FlinkConfig
    from streamstack.flink.jobs import submission
    from streamstack.flink.rest import FlinkRest
    from streamstack.stack.stack import Stack

    Stack(kafka, names=["flink-jobmanager", "flink-taskmanager"]).up(lambda _line: None)
    cfg = FlinkConfig.from_env(kafka)
    contract = write_contract(tmp / "contract.json")
    names = {spec.logical: spec.name for spec in topics.topics}
    jid = submission("purchases_enrichment", cfg, contract, names, mode="bounded",
                     name=f"streamstack.seed-replay.{uuid.uuid4().hex[:8]}").run()
    FlinkRest(cfg.rest_url).wait_state(jid, {"FINISHED"}, timeout=600)


ENGINES: dict[str, Callable[[Settings, TopicSpecs, Path], None]] = {
    "spark": _spark, "kstreams": _kstreams, "flink": _flink,
}


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_seed_recordings_replay_exactly_after_todays_data(
    engine: str, kafka: Settings, pinot: PinotClient, fresh_topics: TopicSpecs, tmp_path: Path
) -> None:
    topics = fresh_topics
    config = kafka.kafka_client_config()
    now = format_timestamp(datetime.now(UTC))
    sk.produce_catalogue(config, topics["products"].name, sk.catalogue(now))
    todays = [{**p, "transaction_id": f"88{i:05d}", "transaction_time": now} for i, p in
              enumerate(sk.sample_purchases()[:10])]
    sk.produce_purchases(config, topics["purchases"].name, todays)

    assert [_replay(config, topics, file) for file in FILES][0] > 0  # the 2022 file needs 2022 versions
    assert [_replay(config, topics, file) for file in FILES] == [0, 0]  # a second replay publishes none

    ENGINES[engine](kafka, topics, tmp_path)

    letters = [json.loads(r["value"])["reason"] for r in read_to_end(config, topics["purchases_invalid"].name)]
    assert letters == [], letters[:5]
    rows: dict[tuple[str, int], dict] = {}
    for r in read_to_end(config, topics["purchases_enriched"].name):
        value = json.loads(r["value"])
        key = (value["transaction_id"], value["line_number"])
        assert rows.get(key, value) == value, f"{key} enriched twice, differently"
        rows[key] = value
    recorded = {(p["transaction_id"], p["line_number"]): p for p in
                (json.loads(r["value"]) for r in read_to_end(config, topics["purchases"].name))}
    assert len(recorded) == len(rows) == 307 + 290 + 10
    want: dict[str, Decimal] = defaultdict(Decimal)
    for p in recorded.values():
        want[p["product_id"]] += Decimal(str(p["total_purchase"]))
    got: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows.values():
        got[row["product_id"]] += Decimal(str(row["total_purchase"]))
    assert got == want

    tables = TablesOnDemand(pinot, table_specs(kafka, topics, ["purchasesEnriched"]))
    try:
        spec = tables["purchasesEnriched"]
        assert wait_caught_up(pinot, spec, config, timeout=180).rows == len(recorded)
        sums = pinot.query(f"SELECT product_id, SUM(total_purchase) AS s, COUNT(*) AS n FROM {spec.name} "
                           "GROUP BY product_id LIMIT 1000")
        lines: dict[str, int] = defaultdict(int)
        for p in recorded.values():
            lines[p["product_id"]] += 1
        assert {r["product_id"]: (round(Decimal(str(r["s"])), 2), r["n"]) for r in sums} == {
            pid: (total, lines[pid]) for pid, total in want.items()}
    finally:
        tables.drop()
