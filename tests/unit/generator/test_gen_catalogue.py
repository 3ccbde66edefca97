"""The catalogue: PRODUCT.md section 1 facts, the nearest-propensity pick, strict validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamstack.errors import ConfigError
from streamstack.events import PRODUCT, field_names
from streamstack.generator import Catalogue, load_catalogue

CATEGORIES = {  # prefix: (category, count, cogs, price, inventory)
    "CS": ("Classic Smoothies", 11, 1.50, 4.99, 75),
    "SF": ("Superfoods Smoothies", 7, 2.10, 5.99, 50),
    "SC": ("Supercharged Smoothies", 5, 2.70, 5.99, 35),
    "IS": ("Indulgent Smoothies", 4, 2.20, 5.49, 60),
}


def test_catalogue_matches_the_product_spec(catalogue: Catalogue) -> None:
    assert len(catalogue) == 27
    for prefix, (category, count, cogs, price, inventory) in CATEGORIES.items():
        rows = [p for p in catalogue.products if p.product_id.startswith(prefix)]
        assert [p.product_id for p in rows] == [f"{prefix}{i:02d}" for i in range(1, count + 1)]
        assert {(p.category, p.cogs, p.price, p.inventory) for p in rows} == {(category, cogs, price, inventory)}
    propensities = [p.propensity_to_buy for p in catalogue.products]
    assert propensities[0] == 3 and propensities[-1] == 200 and propensities == sorted(propensities)
    names = {p.item for p in catalogue.products}
    assert "Rockin’ Raspberry" in names and "Peaches ‘n Silk" in names  # curly quotes kept


def test_product_event_has_the_schema_order(catalogue: Catalogue) -> None:
    event = catalogue.products[3].event("2024-01-01 00:00:00.000000", 12)
    assert list(event) == field_names(PRODUCT)
    assert event["inventory_level"] == 12 and event["propensity_to_buy"] == 18


@pytest.mark.parametrize(
    ("draw", "expected"),
    [(3, "CS01"), (4, "CS01"), (5, "CS02"), (80, "CS11"), (83, "SF01"), (81, "SF01"), (200, "IS04"), (199, "IS04")],
)
def test_nearest_propensity_ties_go_to_the_lower(catalogue: Catalogue, draw: int, expected: str) -> None:
    # 80 is 2 from CS11 (78) and 2 from SF01 (82); 83 is 1 from SF01 (82) and SF02 (84).
    assert catalogue.products[catalogue.nearest(draw)].product_id == expected


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "products.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _csv(catalogue: Catalogue) -> list[str]:
    return catalogue.file.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize(
    ("row", "key", "reason"),
    [
        ("CS01,Classic Smoothies,X,24 oz.,1.50,4.99,75,YES,FALSE,FALSE,FALSE,3,1,3,3", "row 2.ContainsFruit", "TRUE or FALSE"),
        ("CS01,Classic Smoothies,X,24 oz.,abc,4.99,75,TRUE,FALSE,FALSE,FALSE,3,1,3,3", "row 2.COGS", "not a number"),
        ("CS01,Classic Smoothies,X,24 oz.,1.50,4.99,,TRUE,FALSE,FALSE,FALSE,3,1,3,3", "row 2.Inventory", "empty"),
        ("CS01,Classic Smoothies,X,24 oz.,1.50,4.99,75,TRUE,FALSE,FALSE,FALSE,3,1,3,500", "row 3._RangeWeight", "ascend"),
    ],
)
def test_bad_rows_name_file_row_and_column(tmp_path: Path, catalogue: Catalogue, row: str, key: str,
                                           reason: str) -> None:
    lines = _csv(catalogue)
    path = _write(tmp_path, "\n".join([lines[0], row, *lines[2:]]))
    with pytest.raises(ConfigError) as err:
        load_catalogue(path)
    assert err.value.key == key and err.value.file == str(path) and reason in str(err.value)


def test_bad_header_and_duplicates(tmp_path: Path, catalogue: Catalogue) -> None:
    lines = _csv(catalogue)
    with pytest.raises(ConfigError, match="header"):
        load_catalogue(_write(tmp_path, "\n".join([lines[0].replace("COGS", "Cost"), *lines[1:]])))
    with pytest.raises(ConfigError, match="duplicate product id CS01"):
        load_catalogue(_write(tmp_path, "\n".join([lines[0], lines[1], lines[1][:-1] + "4"])))
