"""The product checks of the event contract: the reference validator and the section's own checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.contracts import edited_contract

from streamstack import contract as rules
from streamstack.errors import ConfigError

VALID: dict[str, Any] = {
    "event_time": "2026-01-01 10:00:00.000000", "product_id": "CS01", "category": "Classic Smoothies",
    "item": "Sunny Day", "size": "24 oz.", "cogs": 1.5, "price": 5, "inventory_level": 50,
    "contains_fruit": True, "contains_veggies": False, "contains_nuts": False, "contains_caffeine": False,
    "propensity_to_buy": 3,
}


@pytest.fixture(scope="module")
def contract() -> dict[str, Any]:
    return rules.load_contract()


def _check(contract: dict[str, Any], payload: Any, key: Any = "CS01") -> str | None:
    text = payload if payload is None or isinstance(payload, bytes) else json.dumps(payload).encode()
    return rules.check_product(text, contract, key)[1]


def _with(**changes: Any) -> dict[str, Any]:
    record = {**VALID, **changes}
    return {k: v for k, v in record.items() if v is not ...}


def test_a_valid_version_passes_with_text_or_bytes_key(contract: dict[str, Any]) -> None:
    assert _check(contract, VALID) is None
    assert _check(contract, VALID, b"CS01") is None
    record, reason = rules.check_product(json.dumps(VALID), contract, "CS01")
    assert reason is None and record == VALID


@pytest.mark.parametrize(("payload", "key", "reason"), [
    (b"not json", "CS01", "product_not_json: payload is not a JSON object"),
    (None, "CS01", "product_not_json: payload is not a JSON object"),  # a tombstone is not a version
    (b'["CS01"]', "CS01", "product_not_json: payload is not a JSON object"),
    (b"\xff{", "CS01", "product_not_json: payload is not a JSON object"),
    (_with(event_time=...), "CS01", "product_missing_field: event_time"),
    (_with(product_id=...), "CS01", "product_missing_field: product_id"),
    (_with(price=None), "CS01", "product_missing_field: price"),
    # missing before mistyped, whatever the field order
    (_with(event_time="yesterday", propensity_to_buy=...), "CS01", "product_missing_field: propensity_to_buy"),
    (_with(event_time="yesterday"), "CS01", "product_mistyped_field: event_time is not a timestamp"),
    (_with(event_time="2026-01-01 10:00:00.00000"), "CS01", "product_mistyped_field: event_time is not a timestamp"),
    (_with(price="5.99"), "CS01", "product_mistyped_field: price is not a double"),
    (_with(item=42), "CS01", "product_mistyped_field: item is not a string"),
    (_with(inventory_level=2.5), "CS01", "product_mistyped_field: inventory_level is not a int"),
    (_with(propensity_to_buy=10**12), "CS01", "product_mistyped_field: propensity_to_buy is not a int"),
    (_with(contains_nuts="no"), "CS01", "product_mistyped_field: contains_nuts is not a boolean"),
    (_with(product_id=7), "CS01", "product_mistyped_field: product_id is not a string"),
    (VALID, "CS02", "product_key_mismatch: product_id is not the record key"),
    (VALID, None, "product_key_mismatch: product_id is not the record key"),
])
def test_each_bad_record_gets_the_first_failing_checks_code(
    contract: dict[str, Any], payload: Any, key: Any, reason: str
) -> None:
    assert _check(contract, payload, key) == reason


def test_product_codes_are_declared_reasons_and_in_the_resolved_document(contract: dict[str, Any]) -> None:
    codes = rules.product_codes(contract)
    assert list(codes) == list(rules.PRODUCT_CHECKS)
    assert set(codes.values()) <= set(contract["reasons"])
    assert contract["products"]["dead_letters"] == "purchases_invalid"
    # Every product field is required: the schema says so, no list of its own.
    assert all(not f["nullable"] for f in contract["schemas"]["products"])


@pytest.mark.parametrize(("change", "key"), [
    (lambda d: d.pop("products"), "products"),
    (lambda d: d["products"]["codes"].pop("key_mismatch"), "products.codes"),
    (lambda d: d["products"]["codes"].update(not_json="undeclared_code"), "products.codes.not_json"),
    (lambda d: d["products"].update(key_field="sku"), "products.key_field"),
    (lambda d: d["products"].update(dead_letters="products"), "products.dead_letters"),
    (lambda d: d["products"].update(schema="purchases"), "products.schema"),
    (lambda d: d["products"].update(checks=[]), "products"),
])
def test_a_wrong_products_section_names_the_key_and_the_file(tmp_path: Path, change: Any, key: str) -> None:
    path = edited_contract(tmp_path, change)
    with pytest.raises(ConfigError) as error:
        rules.load_contract(path)
    assert str(path) in str(error.value) and key in str(error.value)
