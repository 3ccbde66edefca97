"""Generator settings: PRODUCT.md defaults, environment overrides, errors naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from streamstack.errors import ConfigError
from streamstack.generator import GeneratorConfig, load_config

CONFIG_FILE = Path(__file__).resolve().parents[3] / "config" / "generator.yaml"


def test_the_file_holds_the_defaults_of_the_original(config: GeneratorConfig) -> None:
    assert config.number_of_sales == 1000
    assert (config.sale_interval_min_seconds, config.sale_interval_max_seconds) == (2.0, 5.0)
    assert (config.member_probability, config.member_discount) == (0.3, 0.10)
    assert config.items_per_transaction_weights == (0.65, 0.25, 0.10)
    assert config.quantity_weights == (0.80, 0.167, 0.033)
    assert (config.propensity_draw_min, config.propensity_draw_max) == (3, 200)
    assert (config.supplement_price, config.supplement_probability, config.supplement_probability_boosted) == (
        1.99, 0.2, 0.5)
    assert config.supplement_boosted_prefixes == ("SF", "SC")
    assert (config.min_inventory, config.restock_amount) == (10, 15)
    assert config.catalogue_file == CONFIG_FILE.parent / "products.csv"
    assert config.producer["compression.type"] in ("lz4", "zstd")


def _file(tmp_path: Path, **settings: object) -> Path:
    data = yaml.safe_load(CONFIG_FILE.read_text())
    data.update(settings)
    path = tmp_path / "generator.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("settings", "key", "reason"),
    [
        ({"member_probabilty": 0.3}, "member_probabilty", "unknown setting"),
        ({"member_probability": "lots"}, "member_probability", "not a number"),
        ({"member_probability": 1.5}, "member_probability", "not within"),
        ({"number_of_sales": 0}, "number_of_sales", "below the minimum"),
        ({"number_of_sales": True}, "number_of_sales", "not an integer"),
        ({"quantity_weights": [0.8, 0.1]}, "quantity_weights", "sum to"),
        ({"items_per_transaction_weights": "0.65"}, "items_per_transaction_weights", "not a list"),
        ({"supplement_boosted_prefixes": [1]}, "supplement_boosted_prefixes", "prefixes"),
        ({"sale_interval_min_seconds": 9.0}, "sale_interval_min_seconds", "above"),
        ({"producer": {"bootstrap.servers": "x:1"}}, "producer", "connection setting"),
        ({"producer": {"acks": 1}}, "producer", "fixed by the generator"),
    ],
)
def test_wrong_settings_name_the_file_and_the_key(tmp_path: Path, settings: dict, key: str, reason: str) -> None:
    path = _file(tmp_path, **settings)
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    assert err.value.file == str(path)
    assert err.value.key == key
    assert reason in str(err.value) and str(path) in str(err.value)


def test_environment_overrides_scalars_and_lists() -> None:
    config = load_config(CONFIG_FILE, environ={
        "STREAMSTACK_GENERATOR_MEMBER_PROBABILITY": "0.5",
        "STREAMSTACK_GENERATOR_QUANTITY_WEIGHTS": "0.7, 0.2, 0.1",
        "STREAMSTACK_GENERATOR_RESTOCK_AMOUNT": "40",
        "STREAMSTACK_GENERATOR_CONFIG": "ignored: it names the file",
        "UNRELATED": "x",
    })
    assert config.member_probability == 0.5
    assert config.quantity_weights == (0.7, 0.2, 0.1)
    assert config.restock_amount == 40


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("STREAMSTACK_GENERATOR_MEMBER_PROBABILTY", "0.5", "unknown generator setting"),
        ("STREAMSTACK_GENERATOR_MIN_INVENTORY", "ten", "not an integer"),
        ("STREAMSTACK_GENERATOR_PRODUCER", "{}", "cannot be set from the environment"),
    ],
)
def test_wrong_environment_overrides_name_the_variable(name: str, value: str, reason: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(CONFIG_FILE, environ={name: value})
    assert err.value.key == name and err.value.file == "environment" and reason in str(err.value)


def test_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.yaml", environ={})
    broken = tmp_path / "broken.yaml"
    broken.write_text("member_probability: [0.3\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config(broken, environ={})


def test_config_file_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _file(tmp_path, number_of_sales=7)
    monkeypatch.setenv("STREAMSTACK_GENERATOR_CONFIG", str(path))
    assert load_config().number_of_sales == 7
