"""Pinot reads the stream jobs' transactional output topics with isolation level read_committed.

Flink's sinks (exactly-once) and Kafka Streams (exactly_once_v2) write in transactions; a
read_uncommitted consumer would ingest records of aborted transactions (a failed checkpoint, a
killed job) and Pinot would count them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streamstack.engines import OUTPUT_TOPICS
from streamstack.errors import ConfigError
from streamstack.pinot.tables import ISOLATION_KEY, TABLES, load_specs

CONFIG = Path(__file__).resolve().parents[3] / "config" / "pinot"
TOPICS = {"products": "p", "purchases": "pu", "purchases_enriched": "pe", "running_totals": "rt",
          "inventories": "i", "sales_windows": "sw", "purchases_invalid": "dl", "events": "ev"}


def test_every_table_on_an_engine_output_topic_reads_committed_only() -> None:
    specs = load_specs(CONFIG, TOPICS, "broker:1")
    on_outputs = [s for s in specs if s.logical_topic in OUTPUT_TOPICS]
    assert {s.logical_topic for s in on_outputs} == set(OUTPUT_TOPICS)
    for spec in on_outputs:
        assert spec.table["tableIndexConfig"]["streamConfigs"][ISOLATION_KEY] == "read_committed", spec.name


@pytest.mark.parametrize("value", [None, "read_uncommitted"])
def test_a_table_without_it_is_refused_naming_key_and_file(tmp_path: Path, value: str | None) -> None:
    for sub in ("schemas", "tables"):
        (tmp_path / sub).mkdir()
        for f in (CONFIG / sub).glob("*.json"):
            (tmp_path / sub / f.name).write_text(f.read_text())
    path = tmp_path / "tables" / "runningTotals.json"
    table = json.loads(path.read_text())
    streams = table["tableIndexConfig"]["streamConfigs"]
    streams.pop(ISOLATION_KEY)
    if value:
        streams[ISOLATION_KEY] = value
    path.write_text(json.dumps(table))
    with pytest.raises(ConfigError, match=ISOLATION_KEY.replace(".", r"\.")) as info:
        load_specs(tmp_path, TOPICS, "b:1", [n for n in TABLES if n == "runningTotals"])
    assert "runningTotals.json" in str(info.value)


def test_the_quality_reader_reads_committed_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import streamstack.clients
    from streamstack.quality import readers

    seen: dict = {}
    monkeypatch.setattr(streamstack.clients, "consumer", lambda config: seen.update(config) or object())
    readers._consumer({"bootstrap.servers": "b:1", "isolation.level": "read_uncommitted"})
    assert seen["isolation.level"] == "read_committed"
