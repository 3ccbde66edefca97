"""Finding #7: typos that used to load silently each give one line naming the file and the key."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from streamstack.errors import ConfigError
from streamstack.generator.config import load_config
from streamstack.pinot.tables import load_specs
from streamstack.settings import Settings
from streamstack.topics import load_topics

SETTINGS = Settings.from_env()
TOPICS = load_topics(SETTINGS.topics_file)


def _pinot_dir(tmp_path: Path, table: str, edit) -> Path:
    target = tmp_path / "pinot"
    shutil.copytree(SETTINGS.config_dir / "pinot", target)
    file = target / "tables" / f"{table}.json"
    data = json.loads(file.read_text())
    edit(data)
    file.write_text(json.dumps(data))
    return target


def _one_line(exc: pytest.ExceptionInfo, *parts: str) -> None:
    text = str(exc.value)
    assert "\n" not in text, text
    for part in parts:
        assert part in text, text


def test_misspelt_dedup_config_is_an_error(tmp_path: Path) -> None:
    def edit(d: dict) -> None:
        d["dedupConfg"] = d.pop("dedupConfig")

    pinot = _pinot_dir(tmp_path, "purchasesEnriched", edit)
    with pytest.raises(ConfigError) as exc:
        load_specs(pinot, TOPICS.names(), "localhost:9092", ["purchasesEnriched"])
    _one_line(exc, "purchasesEnriched.json", "dedupConfg")


def test_segments_config_typo_is_a_config_error_not_a_key_error(tmp_path: Path) -> None:
    def edit(d: dict) -> None:
        d["segmentsConfig"]["timeColumName"] = d["segmentsConfig"].pop("timeColumnName")

    pinot = _pinot_dir(tmp_path, "purchases", edit)
    with pytest.raises(ConfigError) as exc:
        load_specs(pinot, TOPICS.names(), "localhost:9092", ["purchases"])
    _one_line(exc, "purchases.json", "segmentsConfig.timeColumName")


def test_duplicated_topic_entry_is_an_error(tmp_path: Path) -> None:
    text = SETTINGS.topics_file.read_text()
    dup = tmp_path / "topics.yaml"
    dup.write_text(text + "\n  purchases:\n    name: other.purchases\n    partitions: 1\n")
    with pytest.raises(ConfigError) as exc:
        load_topics(dup)
    _one_line(exc, str(dup), "topics.purchases", "duplicate")


def test_duplicated_yaml_key_in_a_topic_is_an_error(tmp_path: Path) -> None:
    text = SETTINGS.topics_file.read_text().replace("    partitions: 3\n", "    partitions: 3\n    partitions: 6\n", 1)
    dup = tmp_path / "topics.yaml"
    dup.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_topics(dup)
    _one_line(exc, "partitions", "duplicate")


def test_message_key_must_be_a_field_of_the_topics_events(tmp_path: Path) -> None:
    bad = tmp_path / "topics.yaml"
    bad.write_text(SETTINGS.topics_file.read_text().replace("key: transaction_id", "key: transacton_id", 1))
    with pytest.raises(ConfigError) as exc:
        load_topics(bad)
    _one_line(exc, str(bad), "topics.purchases.key", "transacton_id")


def test_empty_generator_settings_file_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "generator.yaml"
    empty.write_text("# nothing here\n")
    with pytest.raises(ConfigError) as exc:
        load_config(empty, environ={})
    _one_line(exc, str(empty), "empty")


def test_duplicated_generator_setting_is_an_error(tmp_path: Path) -> None:
    dup = tmp_path / "generator.yaml"
    dup.write_text("number_of_sales: 10\nnumber_of_sales: 20\n")
    with pytest.raises(ConfigError) as exc:
        load_config(dup, environ={})
    _one_line(exc, "number_of_sales", "duplicate")
