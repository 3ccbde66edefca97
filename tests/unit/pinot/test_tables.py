"""config/pinot is consistent with the events and renders into valid REALTIME configs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streamstack.errors import ConfigError
from streamstack.pinot.tables import TABLES, load_specs

CONFIG = Path(__file__).resolve().parents[3] / "config" / "pinot"
TOPICS = {
    "products": "p",
    "purchases": "pu",
    "purchases_enriched": "pe",
    "running_totals": "rt",
    "inventories": "i",
    "sales_windows": "sw",
    "purchases_invalid": "dl",
    "events": "ev",
}


def test_all_tables_load_and_render() -> None:
    specs = {s.name: s for s in load_specs(CONFIG, TOPICS, "broker:1")}
    assert set(specs) == set(TABLES)
    pe = specs["purchasesEnriched"]
    streams = pe.table["tableIndexConfig"]["streamConfigs"]
    assert streams["stream.kafka.topic.name"] == "pe"
    assert streams["stream.kafka.broker.list"] == "broker:1"
    assert "${" not in json.dumps(pe.table)
    assert pe.mode == "dedup" and pe.schema["primaryKeyColumns"] == ["transaction_id", "line_number"]
    assert specs["products"].mode == "upsert" and specs["runningTotals"].mode == "upsert"
    # Dead letters and shop events are de-duplicated too (review §5.12): retries and same-seed reruns.
    assert specs["events"].mode == "dedup" and specs["events"].time_column == "event_time"
    # The raw table reads validated purchases (the enriched topic) and de-duplicates (finding #5).
    assert specs["purchases"].mode == "dedup" and specs["purchases"].topic == "pe"
    assert specs["products"].time_column == "event_time"
    assert pe.time_column == "transaction_time"
    assert specs["deadLetters"].mode == "dedup" and specs["deadLetters"].time_column == "rejected_at"
    assert specs["salesWindows"].mode == "upsert" and specs["salesWindows"].time_column == "window_start"


@pytest.mark.parametrize("name", TABLES)
def test_product_md_stream_settings(name: str) -> None:
    spec = load_specs(CONFIG, TOPICS, "b:1", [name])[0]
    streams = spec.table["tableIndexConfig"]["streamConfigs"]
    assert streams["realtime.segment.flush.threshold.rows"] == "50000"
    assert streams["realtime.segment.flush.threshold.time"] == "3600000"
    assert streams["stream.kafka.consumer.prop.auto.offset.reset"] == "smallest"
    assert streams["stream.kafka.decoder.class.name"].endswith("KafkaJSONMessageDecoder")
    time_spec = spec.schema["dateTimeFieldSpecs"][0]
    assert time_spec["name"] == spec.time_column and time_spec["dataType"] == "TIMESTAMP"
    if spec.mode != "append":
        assert spec.table["routing"]["instanceSelectorType"] == "strictReplicaGroup"


def _copy(tmp_path: Path) -> Path:
    for sub in ("schemas", "tables"):
        (tmp_path / sub).mkdir()
        for f in (CONFIG / sub).glob("*.json"):
            (tmp_path / sub / f.name).write_text(f.read_text())
    return tmp_path


def test_schema_drift_from_events_is_refused(tmp_path: Path) -> None:
    cfg = _copy(tmp_path)
    path = cfg / "schemas" / "purchases.json"
    schema = json.loads(path.read_text())
    schema["dimensionFieldSpecs"][0]["name"] = "txn_id"
    path.write_text(json.dumps(schema))
    with pytest.raises(ConfigError, match=r"missing \['transaction_id'\]"):
        load_specs(cfg, TOPICS, "b:1", ["purchases"])


def test_unknown_placeholder_and_topic_are_refused(tmp_path: Path) -> None:
    cfg = _copy(tmp_path)
    with pytest.raises(ConfigError, match="unknown placeholder"):
        load_specs(cfg, {"products": "p"}, "b:1", ["purchases"])
    path = cfg / "tables" / "purchases.json"
    path.write_text(path.read_text().replace("${topic:purchases_enriched}", "demo.purchases"))
    with pytest.raises(ConfigError, match="placeholder"):
        load_specs(cfg, TOPICS, "b:1", ["purchases"])


def test_an_explicit_bootstrap_wins_over_the_environment(monkeypatch) -> None:
    """``ApplyPinotTablesOperator(bootstrap_servers=...)`` was ignored when STREAMSTACK_BOOTSTRAP_SERVERS was set."""
    from streamstack.pinot.tables import local_specs
    from streamstack.settings import Settings

    monkeypatch.setenv("STREAMSTACK_BOOTSTRAP_SERVERS", "from-env:9092")
    specs = local_specs(Settings.from_env(), ["purchases"], bootstrap_servers="from-connection:19092")
    assert "from-connection:19092" in json.dumps(specs[0].table) and "from-env" not in json.dumps(specs[0].table)


def test_no_table_reads_unvalidated_purchases(tmp_path: Path) -> None:
    cfg = _copy(tmp_path)
    path = cfg / "tables" / "purchases.json"
    path.write_text(path.read_text().replace("${topic:purchases_enriched}", "${topic:purchases}"))
    with pytest.raises(ConfigError, match="the event contract has not checked"):
        load_specs(cfg, TOPICS, "b:1", ["purchases"])
