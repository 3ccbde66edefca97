"""The product catalogue (``config/products.csv``): the 27 smoothies the shop sells.

Read once and validated row by row, because a typo in a price or a propensity silently skews
every generated sale; errors name the file, the row and the column.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamstack.errors import ConfigError
from streamstack.events import PRODUCT, field_names

HEADER = ["ID", "Category", "Item", "Size", "COGS", "Price", "Inventory", "ContainsFruit", "ContainsVeggies", "ContainsNuts", "ContainsCaffeine", "_CatWeight", "_ItemWeight", "_TotalWeight", "_RangeWeight"]
_BOOLEANS = {"TRUE": True, "FALSE": False}


@dataclass(frozen=True)
class Product:
    """One catalogue row; ``propensity_to_buy`` is the CSV's ``_RangeWeight``."""

    product_id: str
    category: str
    item: str
    size: str
    cogs: float
    price: float
    inventory: int
    contains_fruit: bool
    contains_veggies: bool
    contains_nuts: bool
    contains_caffeine: bool
    propensity_to_buy: int

    def event(self, event_time: str, inventory_level: int | None = None) -> dict[str, Any]:
        """The ``products`` event of this product, fields in ``events.PRODUCT`` order."""
        values = (
            event_time,
            self.product_id,
            self.category,
            self.item,
            self.size,
            self.cogs,
            self.price,
            self.inventory if inventory_level is None else inventory_level,
            self.contains_fruit,
            self.contains_veggies,
            self.contains_nuts,
            self.contains_caffeine,
            self.propensity_to_buy,
        )
        return dict(zip(field_names(PRODUCT), values, strict=True))


@dataclass(frozen=True)
class Catalogue:
    """The products, ordered by ascending propensity (the CSV's order)."""

    file: Path
    products: tuple[Product, ...]

    def __len__(self) -> int:
        return len(self.products)

    def nearest(self, draw: int) -> int:
        """Index of the product whose propensity is nearest to ``draw``; ties go to the lower propensity."""
        best, best_distance = 0, None
        for index, product in enumerate(self.products):
            distance = abs(product.propensity_to_buy - draw)
            # Strict '<' keeps the first (lower-propensity) product on a tie.
            if best_distance is None or distance < best_distance:
                best, best_distance = index, distance
        return best


def _cell(row: dict[str, str], column: str, file: Path, rownum: int) -> str:
    value = (row.get(column) or "").strip()
    if not value:
        raise ConfigError("is empty", file=file, key=f"row {rownum}.{column}")
    return value


def _number(row: dict[str, str], column: str, file: Path, rownum: int, kind: type) -> Any:
    text = _cell(row, column, file, rownum)
    try:
        value = kind(text)
    except ValueError:
        raise ConfigError(f"{text!r} is not a{'n integer' if kind is int else ' number'}", file=file,
                          key=f"row {rownum}.{column}") from None
    if value < 0:
        raise ConfigError(f"{text!r} is negative", file=file, key=f"row {rownum}.{column}")
    return value


def _boolean(row: dict[str, str], column: str, file: Path, rownum: int) -> bool:
    text = _cell(row, column, file, rownum)
    if text not in _BOOLEANS:
        raise ConfigError(f"{text!r} is not TRUE or FALSE", file=file, key=f"row {rownum}.{column}")
    return _BOOLEANS[text]


def load_catalogue(path: Path | str) -> Catalogue:
    """Read and validate the catalogue CSV (UTF-8, header as in PRODUCT.md section 1)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the product catalogue: {exc}", file=file) from exc
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames != HEADER:
        raise ConfigError(f"header must be {','.join(HEADER)}", file=file, key="header")
    products: list[Product] = []
    seen: set[str] = set()
    for rownum, row in enumerate(reader, start=2):
        product = Product(
            product_id=_cell(row, "ID", file, rownum),
            category=_cell(row, "Category", file, rownum),
            item=_cell(row, "Item", file, rownum),
            size=_cell(row, "Size", file, rownum),
            cogs=_number(row, "COGS", file, rownum, float),
            price=_number(row, "Price", file, rownum, float),
            inventory=_number(row, "Inventory", file, rownum, int),
            contains_fruit=_boolean(row, "ContainsFruit", file, rownum),
            contains_veggies=_boolean(row, "ContainsVeggies", file, rownum),
            contains_nuts=_boolean(row, "ContainsNuts", file, rownum),
            contains_caffeine=_boolean(row, "ContainsCaffeine", file, rownum),
            propensity_to_buy=_number(row, "_RangeWeight", file, rownum, int),
        )
        if product.product_id in seen:
            raise ConfigError(f"duplicate product id {product.product_id}", file=file, key=f"row {rownum}.ID")
        if products and product.propensity_to_buy <= products[-1].propensity_to_buy:
            raise ConfigError("_RangeWeight must ascend row by row", file=file, key=f"row {rownum}._RangeWeight")
        seen.add(product.product_id)
        products.append(product)
    if not products:
        raise ConfigError("the catalogue has no products", file=file)
    return Catalogue(file=file, products=tuple(products))
