"""Pinot's data integrity (issue #29 item 5, review §5.12): dedup of dead letters and shop events,
and the products table's ingestion filter made from the event contract.

The filter's regexes are checked here with Python's ``re`` (the constructs they use, anchors,
classes, groups, ``{n}`` and a look-ahead, mean the same in Java's), on the JSON text Pinot's
``jsonFormat`` gives for a value: against ``contract._type_ok``, the rule every engine applies.
``tests/integration/pinot/test_pinot_integrity.py`` runs them in the real Pinot.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from streamstack import contract as rules
from streamstack.errors import ConfigError
from streamstack.pinot import filters
from streamstack.pinot.tables import TABLES, load_specs
from streamstack.topics import load_topics

PROJECT = Path(__file__).resolve().parents[3]
CONFIG = PROJECT / "config" / "pinot"
TOPIC_SPECS = load_topics(PROJECT / "config" / "topics.yaml")
TOPICS = TOPIC_SPECS.names()
CONTRACT = rules.load_contract(PROJECT / "config" / "contract.yaml", PROJECT / "config" / "generator.yaml", environ={})


def _specs(names=TABLES, contract: dict[str, Any] | None = None):
    return {s.name: s for s in load_specs(CONFIG, TOPICS, "b:1", names, contract=contract or CONTRACT)}


# ------------------------------------------------------------------------------------ dedup
def test_dead_letters_are_deduplicated_on_their_source_record_and_job() -> None:
    spec = _specs(["deadLetters"])["deadLetters"]
    assert spec.mode == "dedup"
    assert spec.schema["primaryKeyColumns"] == ["source_topic", "source_partition", "source_offset", "rejected_by"]
    assert spec.table["dedupConfig"] == {"dedupEnabled": True, "hashFunction": "NONE"}
    assert spec.table["routing"]["instanceSelectorType"] == "strictReplicaGroup"


def test_events_are_deduplicated_on_their_id() -> None:
    spec = _specs(["events"])["events"]
    assert spec.mode == "dedup"
    assert spec.schema["primaryKeyColumns"] == ["subject", "event_type", "event_time", "event_id"]
    assert spec.table["ingestionConfig"]["transformConfigs"] == [
        {"columnName": "event_id", "transformFunction": "jsonPathString(details, '$.event_id', '')"}]
    assert spec.table["routing"]["instanceSelectorType"] == "strictReplicaGroup"


@pytest.mark.parametrize("name", TABLES)
def test_records_with_one_primary_key_share_a_partition(name: str) -> None:
    """Pinot 0.11 keeps dedup and upsert metadata per partition: a duplicate in another partition
    is a second row. So a table with a primary key reads a one-partition topic, or a topic keyed by
    fields of that primary key (the same key always goes to the same partition)."""
    spec = _specs([name])[name]
    if spec.mode == "append":
        return
    topic = TOPIC_SPECS[spec.logical_topic]
    key = (topic.key,) if isinstance(topic.key, str) else tuple(topic.key or ())
    assert topic.partitions == 1 or (key and set(key) <= set(spec.schema["primaryKeyColumns"])), (
        f"{name}: topic {topic.name} has {topic.partitions} partitions, key {key}, "
        f"primary key {spec.schema['primaryKeyColumns']}")


def test_a_derived_column_must_come_from_a_transform(tmp_path: Path) -> None:
    for sub in ("schemas", "tables"):
        (tmp_path / sub).mkdir()
        for f in (CONFIG / sub).glob("*.json"):
            (tmp_path / sub / f.name).write_text(f.read_text())
    table = json.loads((tmp_path / "tables" / "events.json").read_text())
    del table["ingestionConfig"]
    (tmp_path / "tables" / "events.json").write_text(json.dumps(table))
    with pytest.raises(ConfigError, match=r"not in events \['event_id'\]"):
        load_specs(tmp_path, TOPICS, "b:1", ["events"], contract=CONTRACT)


# ----------------------------------------------------------------------------- the filter
def test_the_products_table_drops_what_the_contract_rejects() -> None:
    spec = _specs(["products"])["products"]
    function = spec.table["ingestionConfig"]["filterConfig"]["filterFunction"]
    assert function == filters.contract_filter(CONTRACT, "products")
    for field in CONTRACT["schemas"]["products"]:
        assert f"isNull({field['name']})" in function
    assert "Groovy" not in function and "${" not in function


def test_a_products_table_without_the_filter_is_refused(tmp_path: Path) -> None:
    for sub in ("schemas", "tables"):
        (tmp_path / sub).mkdir()
    (tmp_path / "schemas" / "products.json").write_text((CONFIG / "schemas" / "products.json").read_text())
    table = json.loads((CONFIG / "tables" / "products.json").read_text())
    del table["ingestionConfig"]
    (tmp_path / "tables" / "products.json").write_text(json.dumps(table))
    with pytest.raises(ConfigError, match=r"ingestionConfig.filterConfig.filterFunction.*\$\{contract:products\}"):
        load_specs(tmp_path, TOPICS, "b:1", ["products"], contract=CONTRACT)


def test_the_filter_follows_the_contract() -> None:
    """The rules are the contract's: a nullable field is not "missing", another timestamp format
    is another pattern, and a format Pinot's filter cannot express is an error, not a gap."""
    changed = copy.deepcopy(CONTRACT)
    for field in changed["schemas"]["products"]:
        if field["name"] == "item":
            field["nullable"] = True
    function = filters.contract_filter(changed, "products")
    assert "isNull(item)" not in function and "isNotNull(item) AND" in function
    changed["timestamp"] = {"python": "%Y-%m-%d %H:%M", "java": "yyyy-MM-dd HH:mm", "length": 16}
    assert "[0-5][0-9]\"$" in filters.contract_filter(changed, "products")
    changed["timestamp"] = {"python": "%d/%m/%Y", "java": "dd/MM/yyyy", "length": 10}
    with pytest.raises(ConfigError, match="no Pinot filter form"):
        filters.contract_filter(changed, "products")
    changed["timestamp"] = {"python": "%Y-%m-%d", "java": "yyyy-MM-dd", "length": 26}
    with pytest.raises(ConfigError, match="timestamp.length 26"):
        filters.contract_filter(changed, "products")


def _pinot_json_text(value: Any) -> str | None:
    """What Pinot 0.11's ``jsonFormat`` gives for a decoded JSON value (checked against the jar):
    booleans arrive as the strings "true"/"false"; null and [] as null."""
    if value is None or value == []:
        return None
    if isinstance(value, bool):
        return json.dumps(str(value).lower())
    if isinstance(value, float):
        return json.dumps(str(value)) if value != value or value in (float("inf"), float("-inf")) else repr(value)
    return json.dumps(value)


def _filter_rejects(value: Any, logical: str) -> bool:
    text = _pinot_json_text(value)
    if text is None:
        return True  # missing
    if logical == "timestamp":
        pattern = filters.timestamp_pattern(CONTRACT["timestamp"]["python"], CONTRACT["timestamp"]["length"])
    else:
        pattern = filters.TYPE_PATTERNS[logical]
    if not re.search(pattern, text):
        return True
    if logical == "int":
        low, high = filters.INT_RANGE
        return len(text) > filters.INT_MAX_CHARS or not low <= value <= high
    return False


VALUES = [
    "abc", "", "4.99", "true", 0, 1, -7, 2**31 - 1, -(2**31), 2**31, -(2**31) - 1, 10**30, 1.0, 4.99, -0.5, 1e300,
    float("inf"), True, False, None, [1], {"a": 1}, [],
    "2030-01-01 00:00:00.000000", "2028-02-29 23:59:59.999999", "2000-02-29 00:00:00.000000",
    "2100-02-29 00:00:00.000000", "2030-02-30 00:00:00.000000", "2030-04-31 00:00:00.000000",
    "2030-13-01 00:00:00.000000", "2030-01-01 24:00:00.000000", "2030-01-01 00:60:00.000000",
    "2030-01-01 00:00:60.000000", "0000-01-01 00:00:00.000000", "2030-01-01T00:00:00.000000",
    "2030-01-01 00:00:00", "2030-01-01 00:00:00.0000001", "9999-12-31 23:59:59.999999",
]


@pytest.mark.parametrize("logical", ["string", "int", "double", "boolean", "timestamp"])
def test_the_filter_rejects_what_the_contract_rejects(logical: str) -> None:
    for value in VALUES:
        python_rejects = value is None or not rules._type_ok(value, logical, CONTRACT)
        # Pinot's JSON reader turns true into "true" and a number too large for a double into the
        # text "Infinity": the cases the filter cannot tell apart (docs/services/pinot.md).
        if logical == "string" and (isinstance(value, bool) or value == float("inf")) or (
                logical == "boolean" and value == "true"):
            assert not _filter_rejects(value, logical)
            continue
        assert _filter_rejects(value, logical) == python_rejects, (logical, value)


class _Controller:
    """A controller that has ``table`` (Pinot's echo of a config), and records what is applied."""

    def __init__(self, table: dict[str, Any] | None) -> None:
        self.table, self.applied = table, []

    def get_table(self, name: str) -> dict[str, Any] | None:
        return self.table

    def apply_schema(self, schema: dict[str, Any], dry_run: bool = False) -> Any:
        self.applied.append("schema")

    def apply_table(self, table: dict[str, Any], dry_run: bool = False) -> Any:
        self.applied.append("table")


def test_an_append_table_is_not_turned_into_dedup_in_place() -> None:
    """Pinot 0.11 takes the new config but keeps counting duplicates: re-create, and say so."""
    from streamstack.pinot.client import PinotError
    from streamstack.pinot.tables import apply_specs

    spec = _specs(["deadLetters"])["deadLetters"]
    old = {k: v for k, v in spec.table.items() if k not in ("dedupConfig", "routing")}
    pinot = _Controller({**old, "tableName": "deadLetters_REALTIME"})
    with pytest.raises(PinotError, match=r"is append in Pinot and dedup.*--recreate deadLetters"):
        apply_specs(pinot, [spec])  # type: ignore[arg-type]
    assert pinot.applied == []
    same = _Controller({**spec.table, "dedupConfig": {"dedupEnabled": "true", "hashFunction": "NONE"}})
    apply_specs(same, [spec])  # type: ignore[arg-type]
    assert same.applied == ["schema", "table"]
