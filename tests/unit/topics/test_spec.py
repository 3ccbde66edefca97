"""Parsing and validation of topic declarations: every error names the file, topic and key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from streamstack.errors import ConfigError
from streamstack.topics import load_topics, topic_name
from streamstack.topics.spec import parse_topics

PROJECT_DIR = Path(__file__).resolve().parents[3]
VALID = {
    "defaults": {"replication_factor": 1, "configs": {"min.insync.replicas": 1}},
    "topics": {
        "products": {
            "name": "demo.products",
            "key": "product_id",
            "partitions": 1,
            "configs": {"cleanup.policy": "compact"},
        },
        "purchases": {
            "name": "demo.purchases",
            "partitions": 3,
            "configs": {"retention.ms": 1000, "preallocate": False},
        },
    },
}


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "topics.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def test_project_file_declares_the_platform_topics() -> None:
    specs = load_topics(PROJECT_DIR / "config" / "topics.yaml")
    names = {s.name for s in specs}
    assert {
        "demo.products",
        "demo.purchases",
        "demo.inventories",
        "demo.running.totals",
        "demo.purchases.enriched",
        "demo.purchases.invalid",
    } <= names
    assert specs["products"].configs["cleanup.policy"] == "delete"  # every version stays joinable
    assert specs["products"].key == specs["running_totals"].key == "product_id"
    assert specs["running_totals"].configs["cleanup.policy"] == "compact"
    assert "retention.ms" in specs["purchases"].configs
    assert topic_name("purchases", PROJECT_DIR / "config" / "topics.yaml") == "demo.purchases"


def test_a_composite_key_is_a_json_object_of_its_fields_in_order() -> None:
    """A window's key is its identity, written as Flink's json key format and Spark's to_json write it."""
    windows = load_topics(PROJECT_DIR / "config" / "topics.yaml")["sales_windows"]
    assert windows.key == ("window_start", "product_id") and windows.key_label == "window_start+product_id"
    value = {"product_id": "SF07", "window_start": "2026-01-05 10:05:00.000000", "sales": 5.0}
    assert windows.record_key(value) == '{"window_start":"2026-01-05 10:05:00.000000","product_id":"SF07"}'
    totals = load_topics(PROJECT_DIR / "config" / "topics.yaml")["running_totals"]
    assert totals.record_key(value) == "SF07"


def test_defaults_merge_and_values_become_strings(tmp_path: Path) -> None:
    specs = load_topics(write(tmp_path, VALID))
    purchases = specs["purchases"]
    assert purchases.partitions == 3
    assert purchases.replication_factor == 1
    assert purchases.configs == {"min.insync.replicas": "1", "retention.ms": "1000", "preallocate": "false"}
    assert specs.names() == {"products": "demo.products", "purchases": "demo.purchases"}


@pytest.mark.parametrize(
    ("mutate", "key", "words"),
    [
        (lambda d: d["topics"]["purchases"].update(partiton=3), "topics.purchases.partiton", "unknown key"),
        (
            lambda d: d["topics"]["purchases"]["configs"].update({"retention.msec": 1}),
            "topics.purchases.configs.retention.msec",
            "unknown Kafka topic config",
        ),
        (
            lambda d: d["topics"]["purchases"].update(partitions=0),
            "topics.purchases.partitions",
            "positive integer",
        ),
        (
            lambda d: d["topics"]["purchases"].update(partitions="3"),
            "topics.purchases.partitions",
            "positive integer",
        ),
        (lambda d: d["topics"]["purchases"].pop("partitions"), "topics.purchases.partitions", "required"),
        (
            lambda d: d["topics"]["purchases"].update(name="bad name!"),
            "topics.purchases.name",
            "legal Kafka topic name",
        ),
        (
            lambda d: d["topics"]["purchases"].update(name="demo.products"),
            "topics.purchases.name",
            "also declared",
        ),
        (lambda d: d["topics"]["products"].pop("key"), "topics.products.key", "needs a message key"),
        (lambda d: d["topics"]["products"].update(key=["product_id", "product_id"]), "topics.products.key", "twice"),
        (lambda d: d["topics"]["products"].update(key=["product_id", "colour"]), "topics.products.key",
         "'colour' is not a field"),
        (lambda d: d["topics"]["products"].update(key=[]), "topics.products.key", "field name or a list"),
        (lambda d: d.update(topic={}), "topic", "unknown key"),
        (lambda d: d["defaults"].update(partitions=1), "defaults.partitions", "unknown key"),
        (lambda d: d.update(topics={}), "topics", "non-empty"),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, mutate, key: str, words: str) -> None:
    data = yaml.safe_load(yaml.safe_dump(VALID))
    mutate(data)
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as err:
        load_topics(path)
    assert err.value.file == str(path)
    assert err.value.key == key
    assert words in str(err.value)
    assert str(path) in str(err.value) and key in str(err.value)


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "topics: [unclosed\n")
    with pytest.raises(ConfigError, match="invalid YAML") as err:
        load_topics(path)
    assert err.value.file == str(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read topics file"):
        load_topics(tmp_path / "nope.yaml")


def test_unknown_logical_name(tmp_path: Path) -> None:
    specs = parse_topics(VALID, tmp_path / "x.yaml")
    with pytest.raises(ConfigError, match="no topic 'orders'"):
        specs["orders"]
