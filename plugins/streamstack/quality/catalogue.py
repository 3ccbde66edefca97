"""The product catalogue (``config/products.csv``) as the quality suite needs it.

The suite checks enriched purchases against the catalogue the generator publishes, so it reads
the same file instead of repeating 27 products in the expectations: one source, no drift.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from streamstack.errors import ConfigError

#: Enriched-purchase column -> catalogue CSV column it must agree with.
ATTRIBUTES: dict[str, str] = {
    "product_category": "Category",
    "product_name": "Item",
    "product_size": "Size",
    "product_cogs": "COGS",
    "product_price": "Price",
    "contains_fruit": "ContainsFruit",
    "contains_veggies": "ContainsVeggies",
    "contains_nuts": "ContainsNuts",
    "contains_caffeine": "ContainsCaffeine",
}
_MONEY = {"COGS", "Price"}
_BOOLEAN = {"ContainsFruit", "ContainsVeggies", "ContainsNuts", "ContainsCaffeine"}


def catalogue_column(attribute: str) -> str:
    """Name of the derived column holding the catalogue's value of ``attribute``."""
    return f"catalogue_{attribute}"


def _parse(value: str, column: str, *, file: Path, row: int) -> object:
    if column in _BOOLEAN:
        if value not in ("TRUE", "FALSE"):
            raise ConfigError(f"row {row}: {column}={value!r} is not TRUE/FALSE", file=file, key=column)
        return value == "TRUE"
    if column in _MONEY:
        try:
            return float(value)
        except ValueError:
            raise ConfigError(
                f"row {row}: {column}={value!r} is not a number", file=file, key=column
            ) from None
    return value


def load_catalogue(path: Path | str) -> pd.DataFrame:
    """The catalogue indexed by ``product_id``, one ``catalogue_<attribute>`` column per attribute.

    Raises ``ConfigError`` for a missing column, a duplicate id or a malformed value.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the product catalogue: {exc}", file=path) from None
    reader = csv.DictReader(text.splitlines())
    missing = {"ID", *ATTRIBUTES.values()} - set(reader.fieldnames or ())
    if missing:
        raise ConfigError(f"catalogue lacks columns {sorted(missing)}", file=path)
    rows: dict[str, dict[str, object]] = {}
    for number, raw in enumerate(reader, start=2):
        product_id = raw["ID"].strip()
        if not product_id or product_id in rows:
            raise ConfigError(f"row {number}: empty or duplicate ID {product_id!r}", file=path, key="ID")
        rows[product_id] = {
            catalogue_column(attr): _parse(raw[col].strip(), col, file=path, row=number)
            for attr, col in ATTRIBUTES.items()
        }
    if not rows:
        raise ConfigError("catalogue has no products", file=path)
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "product_id"
    return frame
