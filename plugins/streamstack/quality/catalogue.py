"""The product catalogue (``config/products.csv``) as the quality suite needs it.

The suite checks enriched purchases against the catalogue the generator publishes, so it reads
the same file instead of repeating 27 products in the expectations: one source, no drift.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from streamstack.generator.catalogue import load_catalogue as read_products

#: Enriched-purchase column -> attribute of ``streamstack.generator.catalogue.Product``.
ATTRIBUTES: dict[str, str] = {
    "product_category": "category",
    "product_name": "item",
    "product_size": "size",
    "product_cogs": "cogs",
    "product_price": "price",
    "contains_fruit": "contains_fruit",
    "contains_veggies": "contains_veggies",
    "contains_nuts": "contains_nuts",
    "contains_caffeine": "contains_caffeine",
}


def catalogue_column(attribute: str) -> str:
    """Name of the derived column holding the catalogue's value of ``attribute``."""
    return f"catalogue_{attribute}"


def load_catalogue(path: Path | str) -> pd.DataFrame:
    """The catalogue indexed by ``product_id``, one ``catalogue_<attribute>`` column per attribute.

    Read by the generator's parser (the one reader of ``products.csv``), which raises
    ``ConfigError`` naming the file, row and column of a malformed value.
    """
    catalogue = read_products(path)
    frame = _frame(catalogue)
    # Price and COGS change over time (generator.yaml shop.price_changes publish new versions):
    # the derived columns accept any value a version of the product can carry.
    from streamstack.generator.config import load_config
    from streamstack.generator.shop import publishable_values

    frame.attrs["versions"] = publishable_values(load_config().shop, catalogue.products)
    return frame


def _frame(catalogue: object) -> pd.DataFrame:
    rows = {
        p.product_id: {catalogue_column(attr): getattr(p, name) for attr, name in ATTRIBUTES.items()}
        for p in catalogue.products  # type: ignore[attr-defined]
    }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "product_id"
    return frame
