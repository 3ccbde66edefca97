"""Generator settings: ``config/generator.yaml`` plus ``STREAMSTACK_GENERATOR_*`` overrides.

Every number of PRODUCT.md section 3 is a setting here. The file is checked strictly — an
unknown key, a wrong type or a probability out of range is a ``ConfigError`` naming the file
(or the environment variable) and the key — because a mistyped setting that is silently
ignored produces plausible but wrong data, the worst kind for a demo platform.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamstack.config_files import load_yaml_text
from streamstack.errors import ConfigError
from streamstack.generator.shop import ShopConfig, line_discount, parse_shop
from streamstack.settings import Settings

ENV_PREFIX = "STREAMSTACK_GENERATOR_"
#: Names the config file itself, so it is not a setting.
ENV_CONFIG_FILE = ENV_PREFIX + "CONFIG"
#: Producer keys that must come from the connection, not from the generator's config.
CONNECTION_KEYS = ("bootstrap.servers", "security.protocol", "sasl.", "ssl.")
#: Producer keys the generator owns: changing them would break delivery guarantees.
FIXED_PRODUCER = {"enable.idempotence": True, "acks": "all"}


@dataclass(frozen=True)
class GeneratorConfig:
    """Validated generator settings (defaults = the original demo); see ``config/generator.yaml``."""

    catalogue_file: Path
    number_of_sales: int = 1000
    sale_interval_min_seconds: float = 2.0
    sale_interval_max_seconds: float = 5.0
    member_probability: float = 0.3
    member_discount: float = 0.10
    items_per_transaction_weights: tuple[float, ...] = (0.65, 0.25, 0.10)
    quantity_weights: tuple[float, ...] = (0.80, 0.167, 0.033)
    propensity_draw_min: int = 3
    propensity_draw_max: int = 200
    supplement_price: float = 1.99
    supplement_probability: float = 0.2
    supplement_probability_boosted: float = 0.5
    supplement_boosted_prefixes: tuple[str, ...] = ("SF", "SC")
    min_inventory: int = 10
    restock_amount: int = 15
    producer: dict[str, Any] = field(default_factory=dict)
    #: The shop's life (opening hours, profiles, supply, anomalies, price changes): simulated runs only.
    shop: ShopConfig = field(default_factory=ShopConfig)
    source: str = "<defaults>"

    @property
    def member_discounts(self) -> tuple[float, ...]:
        """Every ``member_discount`` a member's line can carry: the member discount, or a promotion's if larger."""
        promos = self.shop.promotion_discounts()
        return tuple(sorted({self.member_discount, *(line_discount(self.member_discount, d, True) for d in promos)}))

    @property
    def non_member_discounts(self) -> tuple[float, ...]:
        """Every ``member_discount`` a non-member's line can carry: none, or a promotion's."""
        return tuple(sorted({0.0, *(line_discount(self.member_discount, d, False) for d in self.shop.promotion_discounts())}))


# --- value parsers: (raw value, from_env) -> value, raising ValueError with a reason -------------


def _int(minimum: int) -> Callable[[Any, bool], int]:
    def parse(raw: Any, from_env: bool) -> int:
        if from_env and isinstance(raw, str):
            try:
                raw = int(raw)
            except ValueError:
                raise ValueError(f"{raw!r} is not an integer") from None
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValueError(f"{raw!r} is not an integer")
        if raw < minimum:
            raise ValueError(f"{raw} is below the minimum {minimum}")
        return raw

    return parse


def _float(minimum: float, maximum: float = math.inf) -> Callable[[Any, bool], float]:
    def parse(raw: Any, from_env: bool) -> float:
        if from_env and isinstance(raw, str):
            try:
                raw = float(raw)
            except ValueError:
                raise ValueError(f"{raw!r} is not a number") from None
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            raise ValueError(f"{raw!r} is not a number")
        if not minimum <= raw <= maximum:
            raise ValueError(f"{raw} is not within [{minimum}, {maximum}]")
        return float(raw)

    return parse


_probability = _float(0.0, 1.0)


def _list(raw: Any, from_env: bool) -> list[Any]:
    if from_env and isinstance(raw, str):
        return [item.strip() for item in raw.split(",") if item.strip()]
    if not isinstance(raw, list):
        raise ValueError(f"{raw!r} is not a list")
    return raw


def _weights(raw: Any, from_env: bool) -> tuple[float, ...]:
    items = _list(raw, from_env)
    if not items:
        raise ValueError("needs at least one weight")
    weights = tuple(_probability(item, from_env) for item in items)
    if abs(sum(weights) - 1.0) > 1e-6:
        raise ValueError(f"probabilities {list(weights)} sum to {sum(weights):.6f}, not 1")
    return weights


def _prefixes(raw: Any, from_env: bool) -> tuple[str, ...]:
    items = _list(raw, from_env)
    if not all(isinstance(item, str) and item for item in items):
        raise ValueError(f"{raw!r} is not a list of product id prefixes")
    return tuple(items)


def _path(raw: Any, from_env: bool) -> str:
    if not isinstance(raw, str) or not raw:
        raise ValueError(f"{raw!r} is not a file path")
    return raw


def _producer(raw: Any, from_env: bool) -> dict[str, Any]:
    if from_env:
        raise ValueError("the producer section cannot be set from the environment; edit the file")
    if not isinstance(raw, dict):
        raise ValueError("must be a mapping of librdkafka settings")
    out = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not isinstance(value, str | int | float | bool):
            raise ValueError(f"{key!r}: {value!r} is not a librdkafka setting")
        if key.startswith(CONNECTION_KEYS):
            raise ValueError(f"{key!r} is a connection setting: set it on the connection, not here")
        if key in FIXED_PRODUCER:
            raise ValueError(f"{key!r} is fixed by the generator ({FIXED_PRODUCER})")
        out[key] = value
    return out


def _shop_from_env(raw: Any, from_env: bool) -> Any:
    """The ``shop`` section is structured: parsed by ``parse_shop`` with the file, never from the environment."""
    if from_env:
        raise ValueError("the shop section cannot be set from the environment; edit the file")
    return raw


PARSERS: dict[str, Callable[[Any, bool], Any]] = {
    "catalogue_file": _path,
    "number_of_sales": _int(1),
    "sale_interval_min_seconds": _float(0.0),
    "sale_interval_max_seconds": _float(0.0),
    "member_probability": _probability,
    "member_discount": _probability,
    "items_per_transaction_weights": _weights,
    "quantity_weights": _weights,
    "propensity_draw_min": _int(0),
    "propensity_draw_max": _int(0),
    "supplement_price": _float(0.0),
    "supplement_probability": _probability,
    "supplement_probability_boosted": _probability,
    "supplement_boosted_prefixes": _prefixes,
    "min_inventory": _int(0),
    "restock_amount": _int(1),
    "producer": _producer,
    "shop": _shop_from_env,
}


def default_config_file() -> Path:
    """``$STREAMSTACK_GENERATOR_CONFIG`` or ``config/generator.yaml`` of the project."""
    return Path(os.environ.get(ENV_CONFIG_FILE) or Settings.from_env().config_dir / "generator.yaml")


def parse_config(data: Any, file: Path, environ: Mapping[str, str] | None = None) -> GeneratorConfig:
    """Validate a loaded YAML mapping read from ``file``, then apply environment overrides."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("the document must be a mapping of settings", file=file)
    values: dict[str, Any] = {}
    for key, raw in data.items():
        if key not in PARSERS:
            raise ConfigError(f"unknown setting (known: {', '.join(PARSERS)})", file=file, key=str(key))
        try:
            values[key] = PARSERS[key](raw, False)
        except ValueError as exc:
            raise ConfigError(str(exc), file=file, key=key) from None
    env = os.environ if environ is None else environ
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX) or name == ENV_CONFIG_FILE:
            continue
        key = name[len(ENV_PREFIX):].lower()
        if key not in PARSERS:
            raise ConfigError(
                f"unknown generator setting (known: {', '.join(PARSERS)})", file="environment", key=name
            )
        try:
            values[key] = PARSERS[key](raw, True)
        except ValueError as exc:
            raise ConfigError(str(exc), file="environment", key=name) from None

    if "shop" in values:
        values["shop"] = parse_shop(values["shop"], file)
    catalogue = Path(values.pop("catalogue_file", "products.csv"))
    if not catalogue.is_absolute():
        catalogue = file.parent / catalogue
    config = GeneratorConfig(catalogue_file=catalogue, source=str(file), **values)
    _cross_check(config, file)
    return config


def _cross_check(config: GeneratorConfig, file: Path) -> None:
    if config.sale_interval_min_seconds > config.sale_interval_max_seconds:
        raise ConfigError(
            f"{config.sale_interval_min_seconds} is above sale_interval_max_seconds "
            f"{config.sale_interval_max_seconds}", file=file, key="sale_interval_min_seconds",
        )
    if config.propensity_draw_min > config.propensity_draw_max:
        raise ConfigError(
            f"{config.propensity_draw_min} is above propensity_draw_max {config.propensity_draw_max}",
            file=file, key="propensity_draw_min",
        )


def load_config(path: Path | str | None = None, environ: Mapping[str, str] | None = None) -> GeneratorConfig:
    """Read, validate and override the generator settings (default file: ``default_config_file()``)."""
    file = Path(path) if path else default_config_file()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the generator settings: {exc.strerror}", file=file) from exc
    data = load_yaml_text(text, file)
    if data is None:
        # An empty file used to mean "all defaults": almost always a truncated or wrong file.
        raise ConfigError(
            "the file is empty (no settings); list at least one setting, e.g. number_of_sales", file=file
        )
    return parse_config(data, file, environ)
