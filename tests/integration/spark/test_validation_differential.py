"""Spark's validation gives exactly the reference validator's reasons, record by record.

The shared vectors (``tests/support/vectors.py``: the kit's records, JSON and number edge
cases, byte cases) go through ``jobs/spark/validation.validate_purchases`` in one local Spark
session (no broker: a DataFrame shaped like the Kafka source's rows), and every row is compared
with ``streamstack.contract.check_purchase``: the reason code and field, the derived identity and
the typed fields of valid records, and the five payload fields of its dead letter with
``streamstack.contract.dead_letter_payload``. Flink has the same test on the same vectors.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from support.spark_testkit import shared_session
from support.vectors import purchase_cases

from streamstack import contract as rules
from streamstack.settings import Settings

pytestmark = pytest.mark.integration
FIELD_CODES = {"missing_field", "mistyped_field"}


def _code_and_field(reason: str | None) -> tuple[str, str | None] | None:
    """The contract's part of a reason: the code, and the field for field-level codes (detail text is free)."""
    if reason is None:
        return None
    code, _, detail = reason.partition(": ")
    return code, (detail.split()[0] if code in FIELD_CODES and detail else None)


@pytest.fixture(scope="module")
def compared(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[tuple[dict, tuple]]]:
    from pyspark.sql import functions as F

    spark = shared_session(settings)  # also puts jobs/spark on sys.path
    from validation import Contract, payload_columns, validate_purchases

    contract = rules.load_contract()
    path = tmp_path_factory.mktemp("spark-validation") / "contract.json"
    rules.write_contract(path, contract)
    cases = purchase_cases(contract)
    rows = [(None if value is None else bytearray(value), partition, offset, "purchases")
            for offset, (partition, value) in enumerate(cases)]
    frame = spark.createDataFrame(rows, "value binary, partition int, offset long, topic string")
    spark_contract = Contract.read(str(path))
    checked = validate_purchases(frame, spark_contract)
    payload = payload_columns(F.col("value"), spark_contract)
    # transaction_ts dropped: a year-0 timestamp (a case the contract refuses) cannot become a Python datetime.
    out = (checked.select("*", *[column.alias(f"dl_{name}") for name, column in payload.items()])
           .drop("value", "transaction_ts"))
    got = {r["source_offset"]: r.asDict() for r in out.collect()}
    assert len(got) == len(cases)
    yield [(got[offset], (partition, value, rules.check_purchase(value, contract, partition, offset),
                          rules.dead_letter_payload(value, contract)))
           for offset, (partition, value) in enumerate(cases)]


def test_every_reason_is_the_reference_validators(compared: list) -> None:
    wrong = [(value, row["reason"], ref[1]) for row, (_p, value, ref, _dl) in compared
             if _code_and_field(row["reason"]) != _code_and_field(ref[1])]
    assert not wrong, "\n".join(f"{str(v)[:200]}\n   spark: {g!r}\n   ref:   {e!r}" for v, g, e in wrong[:15])
    assert sum(1 for row, _ in compared if row["reason"]) >= 60


def test_valid_records_carry_the_typed_fields_and_derived_identity(compared: list) -> None:
    valid = 0
    for row, (_p, value, (record, reason, derived), _dl) in compared:
        if reason is not None:
            continue
        valid += 1
        assert row["identity_derived"] is derived, value
        for name in ("transaction_time", "transaction_id", "line_number", "product_id", "quantity", "is_member",
                     "add_supplements"):
            assert row[name] == record[name] and type(row[name]) is type(record[name]), (name, value)
        for name in ("price", "member_discount", "supplement_price", "total_purchase"):
            assert row[name] == pytest.approx(float(record[name]), abs=1e-12), (name, value)
    assert valid > 300


def test_dead_letter_payloads_are_the_references(compared: list) -> None:
    wrong = [(value, name, row[f"dl_{name}"], want) for row, (_p, value, _ref, letter) in compared
             for name, want in letter.items()
             if row[f"dl_{name}"] != want or type(row[f"dl_{name}"]) is not type(want)]
    assert not wrong, "\n".join(f"{str(v)[:120]}: {n} {str(g)[:80]!r} != {str(w)[:80]!r}" for v, n, g, w in wrong[:15])


def test_the_vectors_are_the_kits_and_more() -> None:
    cases = purchase_cases(rules.load_contract())
    assert len(cases) > 480 and any(value is None for _, value in cases)
    assert any(value and len(value) > rules.load_contract()["records"]["max_bytes"] for _, value in cases)
    assert json.loads(next(v for _, v in cases if v)) is not None
