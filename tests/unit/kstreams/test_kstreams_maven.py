"""The Kafka Streams apps' own tests (JUnit 5, TopologyTestDriver), run by Maven Surefire.

The Java validator is checked against the Python reference: this test writes payloads with the
answers of ``streamstack.contract.check_purchase`` (and product records with those of
``check_product``) and ``ContractTest`` asserts the same reason, derived identity and fields for each,
and the same bounded dead-letter payload (``dead_letter_payload``). Needs Java 17 and Maven (``make
install`` provides them); ~25 s warm, most of it Maven.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from streamstack.contract import (
    check_product,
    check_purchase,
    dead_letter_payload,
    load_contract,
    write_contract,
)
from streamstack.kstreams.build import maven_test
from streamstack.settings import Settings

pytestmark = pytest.mark.slow

VALID: dict[str, Any] = {
    "transaction_time": "2026-01-01 10:00:00.123456",
    "transaction_id": "1234",
    "line_number": 1,
    "product_id": "CS01",
    "price": 5.99,
    "quantity": 2,
    "is_member": True,
    "member_discount": 0.1,
    "add_supplements": True,
    "supplement_price": 1.99,
    "total_purchase": 14.36,
}


def _with(**changes: Any) -> dict[str, Any]:
    record = copy.deepcopy(VALID)
    for key, value in changes.items():
        if value is _DROP:
            record.pop(key)
        else:
            record[key] = value
    return record


_DROP = object()


def _sized(record: dict[str, Any], pad: str, size: int) -> bytes:
    """``record`` as JSON of exactly ``size`` bytes, a string field ``pad`` filling it up."""
    base = len(json.dumps({**record, pad: ""}).encode())
    payload = json.dumps({**record, pad: "x" * (size - base)}).encode()
    assert len(payload) == size
    return payload


def _limits(contract: dict[str, Any]) -> tuple[int, int]:
    return int(contract["records"]["max_bytes"]), int(contract["dead_letters"]["payload_max_chars"])


def cases(contract: dict[str, Any]) -> list[tuple[str, bytes | None, int | None, int | None]]:
    """(name, payload, partition, offset): every reason code and the edges of each check."""
    out: list[tuple[str, bytes | None, int | None, int | None]] = []
    max_bytes, max_chars = _limits(contract)

    def add(name: str, record: Any, partition: int | None = 0, offset: int | None = 5) -> None:
        payload = record if isinstance(record, bytes) or record is None else json.dumps(record).encode()
        out.append((name, payload, partition, offset))

    add("valid", VALID)
    add("valid_no_member", _with(is_member=False, member_discount=0.0, total_purchase=15.96))
    add("total_within_tolerance", _with(total_purchase=14.37))
    add("total_off", _with(total_purchase=14.40))
    for raw in (b"{not json", b"[]", b"null", b"123", b'"text"', b"", b"\xff\xfe{", b'{"a": 1} x', None):
        add(f"not_json_{raw!r}", raw)
    for field in VALID:
        add(f"missing_{field}", _with(**{field: _DROP}) if field not in ("transaction_id", "line_number")
            else _with(**{field: _DROP}), None, None)
        add(f"null_{field}", _with(**{field: None}), None, None)
    mistyped = {
        "transaction_time": ["2026-01-01T10:00:00.123456", "2026-02-30 10:00:00.000000", "2026-01-01 10:00:00.12345",
                             "2026-01-01 10:00:00.1234567", "2026-01-01 24:00:00.000000", 20260101],
        "transaction_id": [1234, "12a4", "", " 12"],
        "line_number": [1.0, "1", True, 2**31, -(2**31) - 1],
        "product_id": [1],
        "price": ["5.99", True],
        "quantity": [2.0, "2", False],
        "is_member": [1, "true"],
        "member_discount": ["0.1"],
        "add_supplements": [0],
        "supplement_price": [None],
        "total_purchase": ["14.36"],
    }
    for field, values in mistyped.items():
        for i, value in enumerate(values):
            add(f"mistyped_{field}_{i}", _with(**{field: value}))
    add("nan_price", b'{"transaction_time": "2026-01-01 10:00:00.123456", "transaction_id": "1", "line_number": 1, '
        b'"product_id": "CS01", "price": NaN, "quantity": 2, "is_member": true, "member_discount": 0.1, '
        b'"add_supplements": true, "supplement_price": 1.99, "total_purchase": 14.36}')
    add("line_number_zero", _with(line_number=0))
    add("line_number_negative", _with(line_number=-3))
    add("quantity_zero", _with(quantity=0))
    add("quantity_above", _with(quantity=4, total_purchase=28.73))
    add("price_zero", _with(price=0, total_purchase=3.58))
    add("price_negative", _with(price=-1.5, total_purchase=0.44))
    add("discount_member_wrong", _with(member_discount=0.2))
    add("discount_nonmember_wrong", _with(is_member=False))
    add("supplement_wrong", _with(supplement_price=2.5))
    add("supplement_without_flag", _with(add_supplements=False))
    add("unknown_product", _with(product_id="XX99"))
    add("unknown_product_quote", _with(product_id="it's"))
    add("big_price", _with(price=1e20, total_purchase=1.8e20))
    add("small_price", _with(price=1e-7, total_purchase=3.58))
    add("duplicate_key", b'{"quantity": 9, ' + json.dumps(VALID).encode()[1:])
    legacy = _with(transaction_id=_DROP, line_number=_DROP)
    add("legacy_full", legacy, 2, 41)
    add("legacy_no_line", _with(line_number=_DROP), 1, 7)
    add("legacy_no_id", _with(transaction_id=_DROP), 1, 7)
    add("legacy_no_coordinates", legacy, None, None)
    add("legacy_partition_too_big", legacy, 16, 1)
    add("legacy_offset_too_big", legacy, 0, 134217728)
    add("legacy_offset_edge", legacy, 15, 134217726)
    add("legacy_bad_time", _with(transaction_id=_DROP, transaction_time="yesterday"), 0, 1)
    add("legacy_pre_epoch", _with(transaction_id=_DROP, transaction_time="1969-12-31 23:59:59.500000"), 0, 1)
    # Sizes: checked on the bytes before anything is parsed; the dead letter's payload bounded.
    add("too_large_quotes", b'"' * 600_000)
    add("too_large_valid_shape", _sized(VALID, "coupon", max_bytes + 1))
    add("too_large_binary", b"\xff" * (max_bytes + 1))
    add("valid_at_max_bytes", _sized(VALID, "coupon", max_bytes))
    add("not_json_binary_long", b"\x80" * (max_chars * 2))
    add("not_json_at_max_chars", b"n" * max_chars)
    add("not_json_over_max_chars", b"n" * (max_chars + 1))
    add("not_json_multibyte_cut", ("\u00e9" * (max_chars + 5)).encode())
    # Code points, not UTF-16 units: the cut falls between two surrogate pairs, never inside one.
    add("mistyped_astral_cut", json.dumps(_with(quantity="2", note="\U0001F600" * (max_chars + 5)),
                                          ensure_ascii=False).encode())
    add("not_json_astral_odd_cut", ("a" + "\U0001F600" * max_chars).encode())
    return out


PRODUCT: dict[str, Any] = {
    "event_time": "2026-01-01 10:00:00.000000", "product_id": "CS01", "category": "Classic Smoothies",
    "item": "Sunny Day", "size": "24 oz.", "cogs": 1.5, "price": 5.99, "inventory_level": 50,
    "contains_fruit": True, "contains_veggies": False, "contains_nuts": False, "contains_caffeine": False,
    "propensity_to_buy": 3,
}


def product_cases(contract: dict[str, Any]) -> list[tuple[str, str | None, bytes | None]]:
    """(name, key, value) of product records: valid, and every product reason code with its edges."""
    def rec(**changes: Any) -> bytes:
        record = {**PRODUCT, **changes}
        return json.dumps({k: v for k, v in record.items() if v is not _DROP}).encode()

    max_bytes, _ = _limits(contract)
    out = [("product_valid", "CS01", rec()), ("product_int_price", "CS01", rec(price=6)),
           ("product_too_large", "CS01", _sized(PRODUCT, "item", max_bytes + 1)),
           ("product_too_large_quotes", "CS01", b'"' * 600_000),
           ("product_at_max_bytes", "CS01", _sized(PRODUCT, "item", max_bytes))]
    for raw in (b"{not json", b"[]", b"null", b'"CS01"', b"", b"\xff{", None):
        out.append((f"product_not_json_{raw!r}", "CS01", raw))
    for field in PRODUCT:
        out.append((f"product_missing_{field}", "CS01", rec(**{field: _DROP})))
        out.append((f"product_null_{field}", "CS01", rec(**{field: None})))
    mistyped = {"event_time": ["yesterday", "2026-01-01 10:00:00.00000", "2026-02-30 10:00:00.000000", 1],
                "product_id": [1], "item": [42, True], "cogs": ["1.5", False], "price": ["5.99"],
                "inventory_level": [2.5, "50", 2**31], "contains_fruit": [1, "true"], "propensity_to_buy": [10**12]}
    for field, values in mistyped.items():
        for i, value in enumerate(values):
            out.append((f"product_mistyped_{field}_{i}", "CS01", rec(**{field: value})))
    out.append(("product_key_other", "CS02", rec()))
    out.append(("product_key_null", None, rec()))
    out.append(("product_key_null_and_mistyped", None, rec(price="5.99")))
    return out


def vectors(contract: dict[str, Any]) -> list[dict[str, Any]]:
    result = []
    for name, payload, partition, offset in cases(contract):
        record, reason, derived = check_purchase(payload, contract, partition, offset)
        identity = None
        if record is not None:
            identity = {f: record.get(f) for f in ("transaction_id", "line_number")}
        result.append({
            "name": name,
            "payload_b64": None if payload is None else base64.b64encode(payload).decode(),
            "partition": partition,
            "offset": offset,
            "reason": reason,
            "derived": derived,
            "identity": identity,
            "dead_letter": dead_letter_payload(payload, contract),
        })
    for name, key, payload in product_cases(contract):
        _, reason = check_product(payload, contract, key)
        result.append({
            "name": name, "kind": "product", "key": key,
            "payload_b64": None if payload is None else base64.b64encode(payload).decode(),
            "partition": 0, "offset": 0, "reason": reason, "derived": False, "identity": None,
            "dead_letter": dead_letter_payload(payload, contract),
        })
    return result


def test_the_cases_cover_every_reason_code() -> None:
    contract = load_contract()
    codes = {v["reason"].split(":")[0] for v in vectors(contract) if v["reason"]}
    assert codes == set(contract["reasons"]) - {contract["enrichment"]["missing_version_code"],
                                                contract["windows"]["late_code"]}


def test_surefire_topology_and_contract_tests_pass(tmp_path: Path) -> None:
    contract = load_contract()
    contract_file = write_contract(tmp_path / "contract.json", contract)
    vectors_file = tmp_path / "vectors.json"
    vectors_file.write_text(json.dumps(vectors(contract)))
    output = maven_test(Settings.from_env(), contract_file, vectors_file)
    summary = re.findall(r"Tests run: (\d+), Failures: (\d+), Errors: (\d+), Skipped: (\d+)\s*$", output, re.M)
    assert summary, output[-3000:]
    run, failures, errors, skipped = map(int, summary[-1])
    print(f"Surefire: Tests run: {run}, Failures: {failures}, Errors: {errors}, Skipped: {skipped}")
    assert run >= 8 and failures == errors == skipped == 0
