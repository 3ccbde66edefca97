"""The suite file loads completely, and any entry GX would drop is refused with its location."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streamstack.contract import load_contract, product_ids, quantity_range
from streamstack.errors import ConfigError
from streamstack.events import ENRICHED_NAMES, PURCHASE_ENRICHED
from streamstack.quality.suite import PANDAS_TYPES, Suite, contract_parameters, default_suite_path, load_suite
from streamstack.settings import Settings

SUITE_PATH = default_suite_path(Settings.from_env().project_dir)


@pytest.fixture(scope="module")
def raw() -> dict:
    return json.loads(SUITE_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def suite() -> Suite:
    return load_suite(SUITE_PATH)


def _write(tmp_path: Path, raw: dict, expectations: list[dict]) -> Path:
    path = tmp_path / "suite.json"
    path.write_text(json.dumps({**raw, "expectations": expectations}), encoding="utf-8")
    return path


def test_every_expectation_is_kept_with_a_severity(suite: Suite, raw: dict) -> None:
    generated = 3 * len(PURCHASE_ENRICHED)  # exists, dtype, not null
    generated += len(load_contract()["purchase"]["checks"])  # one per check of the contract
    assert len(suite.expectations) == generated + len(raw["expectations"])
    assert len(suite.to_gx().expectations) == len(suite.expectations)
    assert {e["meta"]["severity"] for e in suite.expectations} == {"critical", "warning"}
    assert all(e["severity"] == e["meta"]["severity"] for e in suite.expectations)
    assert len(set(suite.names)) == len(suite.names)


def test_every_contract_check_is_a_critical_expectation_named_by_its_code(suite: Suite) -> None:
    contract = load_contract()
    by_name = {e["meta"]["name"]: e for e in suite.expectations}
    for check in contract["purchase"]["checks"]:
        column = ENRICHED_NAMES.get(check["field"], check["field"])
        expectation = by_name[f"{check['code']}({column})"]
        assert expectation["severity"] == "critical", expectation
    params = contract_parameters(contract)
    low, high = quantity_range(contract)
    assert (params["contract_quantity_out_of_range_min"], params["contract_quantity_out_of_range_max"]) == (low, high)
    assert params["contract_total_mismatch_tolerance_cents"] == 1.0
    assert params["contract_unknown_product_values"] == sorted(product_ids(contract))


def test_a_contract_check_the_gate_cannot_express_is_refused() -> None:
    contract = load_contract()
    contract["purchase"]["checks"].append({"kind": "checksum", "field": "transaction_id", "code": "mistyped_field"})
    index = len(contract["purchase"]["checks"]) - 1
    with pytest.raises(ConfigError, match=rf"key 'purchase.checks\[{index}\]': check kind 'checksum' has no quality"):
        load_suite(SUITE_PATH, contract)


def test_schema_expectations_follow_events_py(suite: Suite) -> None:
    for field in PURCHASE_ENRICHED:
        assert f"expect_column_to_exist({field.name})" in suite.names
        assert f"expect_column_values_to_not_be_null({field.name})" in suite.names
        (dtype,) = [
            e["kwargs"]["type_"]
            for e in suite.expectations
            if e["type"] == "expect_column_type_to_be" and e["kwargs"]["column"] == field.name
        ]
        assert dtype == PANDAS_TYPES[field.type]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {
                "type": "expect_column_values_to_be_betwen",
                "kwargs": {"column": "line_number"},
                "meta": {"severity": "critical"},
            },
            "GX rejects it",
        ),
        (
            {"type": "expect_column_values_to_be_between", "kwargs": {"column": "line_number"}, "meta": {}},
            "meta.severity",
        ),
        (
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "line_number"},
                "meta": {"severity": "fatal"},
            },
            "meta.severity",
        ),
        (
            {
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "purchase_quantiy"},
                "meta": {"severity": "critical"},
            },
            "unknown column 'purchase_quantiy'",
        ),
        (
            {
                "type": "expect_column_values_to_not_be_null",
                "kwarg": {"column": "line_number"},
                "meta": {"severity": "critical"},
            },
            "'kwargs'",
        ),
        (
            {
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "line_number"},
                "meta": {"severity": "critical"},
                "notez": "x",
            },
            "GX rejects it",
        ),
        (
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "product_id", "value_set": {"$PARAMETER": "ids"}},
                "meta": {"severity": "critical"},
            },
            "unknown $PARAMETER",
        ),
    ],
)
def test_a_bad_entry_is_refused_with_its_index(tmp_path: Path, raw: dict, entry: dict, message: str) -> None:
    path = _write(tmp_path, raw, [*raw["expectations"], entry])
    with pytest.raises(ConfigError) as info:
        load_suite(path)
    assert message in str(info.value)
    assert f"expectations[{len(raw['expectations'])}]" in str(info.value)


def test_duplicate_names_are_refused(tmp_path: Path, raw: dict) -> None:
    path = _write(tmp_path, raw, [*raw["expectations"], raw["expectations"][0]])
    with pytest.raises(ConfigError, match="share a name"):
        load_suite(path)


def test_the_count_guard_catches_what_gx_drops(suite: Suite) -> None:
    # Bypass the per-entry check to prove the last line of defence: GX logs and drops the typo.
    broken = Suite(
        name=suite.name,
        path=suite.path,
        expectations=(
            *suite.expectations,
            {"type": "expect_nothing_at_all", "kwargs": {}, "meta": {"severity": "critical", "name": "x"}},
        ),
        parameters=suite.parameters,
    )
    with pytest.raises(
        ConfigError, match=f"GX kept {len(suite.expectations)} of {len(suite.expectations) + 1}"
    ):
        broken.to_gx()
