"""A clean batch passes; each kind of corruption fails with that expectation named."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from streamstack.events import format_timestamp
from streamstack.quality import Batch, CheckOptions, QualityRunner, Rejected
from streamstack.quality.runner import REJECTED_NAME

#: The synthetic batches end here (see conftest); the time-bound corruptions are relative to it.
END = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _check(runner: QualityRunner, frame: pd.DataFrame, options: CheckOptions, **batch_kwargs):
    return runner.check(Batch(frame, "test", **batch_kwargs), options=options)


def test_clean_batch_passes(
    runner: QualityRunner, clean: pd.DataFrame, options: CheckOptions, end: datetime
) -> None:
    assert end == END
    summary = _check(runner, clean, replace(options, data_docs=True))
    assert summary.status == "passed", summary.lines()
    assert summary.failed == []
    assert summary.rows_checked == len(clean)
    assert summary.expectations_evaluated == len(runner.suite.expectations)
    saved = json.loads((runner.results_root / summary.run_id / "summary.json").read_text())
    assert saved["status"] == "passed"
    result = json.loads(Path(summary.result_json).read_text())
    assert result["success"] is True
    assert summary.data_docs and summary.data_docs.endswith(".html")
    assert "purchases_enriched" in Path(summary.data_docs).read_text(encoding="utf-8")


def _set(column: str, value: object, row: int = 5) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def corrupt(frame: pd.DataFrame) -> pd.DataFrame:
        if value is None or (isinstance(value, str) and frame[column].dtype != "str"):
            frame[column] = frame[column].astype(object)  # as a JSON decoder would leave it
        frame.loc[row, column] = value
        return frame

    return corrupt


def _wrong_total(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[5, "total_purchase"] = round(frame.loc[5, "total_purchase"] + 0.05, 2)
    return frame


def _duplicate_line(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[5] = frame.loc[4]
    return frame


def _member_without_discount(frame: pd.DataFrame) -> pd.DataFrame:
    row = frame.index[~frame["is_member"]][0]
    frame.loc[row, "is_member"] = True  # discount 0.0 stays, so the total is still right
    return frame


def _drop(column: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda frame: frame.drop(columns=[column])


CRITICAL = [
    ("wrong_total", _wrong_total, "total_mismatch(total_purchase)"),
    ("unknown_product", _set("product_id", "ZZ99"), "unknown_product(product_id)"),
    (
        "null_transaction_id",
        _set("transaction_id", None),
        "expect_column_values_to_not_be_null(transaction_id)",
    ),
    ("null_product_id", _set("product_id", None), "expect_column_values_to_not_be_null(product_id)"),
    ("quantity_zero", _set("purchase_quantity", 0), "quantity_out_of_range(purchase_quantity)"),
    ("duplicate_line", _duplicate_line, "expect_compound_columns_to_be_unique(transaction_id, line_number)"),
    ("bad_timestamp_format", _set("transaction_time", "2025-12-31T11:00:00Z"), "transaction_time_parseable"),
    (
        "five_fraction_digits",
        _set("transaction_time", "2025-12-31 11:00:00.12345"),
        "transaction_time_parseable",
    ),
    ("impossible_date", _set("transaction_time", "2025-13-31 11:00:00.000000"), "transaction_time_parseable"),
    (
        "future_timestamp",
        _set("transaction_time", format_timestamp(END + timedelta(hours=1))),
        "transaction_time_in_bounds",
    ),
    (
        "too_old_timestamp",
        _set("transaction_time", format_timestamp(END - timedelta(days=30))),
        "transaction_time_in_bounds",
    ),
    (
        "discount_outside_set",
        _set("member_discount", 0.37),  # no member or promotion discount (0.2 is a promotion's)
        "discount_not_allowed(member_discount)",
    ),
    (
        "supplement_outside_set",
        _set("supplement_price", 2.49),
        "supplement_not_allowed(supplement_price)",
    ),
    ("member_without_discount", _member_without_discount, "discount_not_allowed(member_discount)"),
    ("negative_price", _set("purchase_price", -4.99), "price_out_of_range(purchase_price)"),
    ("missing_column", _drop("product_size"), "expect_column_to_exist(product_size)"),
    ("wrong_dtype", _set("line_number", "1"), "expect_column_type_to_be(line_number)"),
    (
        "name_not_in_catalogue",
        _set("product_name", "Mystery Mix"),
        "expect_column_pair_values_to_be_equal(product_name, catalogue_product_name)",
    ),
    (
        "wrong_cogs",
        _set("product_cogs", 9.99),
        "expect_column_pair_values_to_be_equal(product_cogs, catalogue_product_cogs)",
    ),
]


@pytest.mark.parametrize(("case", "corrupt", "expected"), CRITICAL, ids=[c[0] for c in CRITICAL])
def test_corruption_fails_naming_its_expectation(
    runner: QualityRunner,
    clean: pd.DataFrame,
    options: CheckOptions,
    case: str,
    corrupt: Callable,
    expected: str,
) -> None:
    summary = _check(runner, corrupt(clean), options)
    assert summary.status == "failed", summary.lines()
    assert expected in [f.name for f in summary.critical_failures], summary.failed_names
    failed = next(f for f in summary.failed if f.name == expected)
    assert failed.severity == "critical"
    if failed.unexpected_count is not None:  # map expectations: the bad row is among the samples
        assert failed.unexpected_count >= 1
        assert any(expected in row["failed"] for row in summary.sample_bad_rows)


def test_unknown_product_is_reported_once_not_as_nine_attribute_mismatches(
    runner: QualityRunner, clean: pd.DataFrame, options: CheckOptions
) -> None:
    summary = _check(runner, _set("product_id", "ZZ99")(clean), options)
    assert summary.failed_names == ["unknown_product(product_id)"]
    (row,) = summary.sample_bad_rows
    assert row["at"] == "row 5" and row["row"]["product_id"] == "ZZ99"


def test_a_cent_of_rounding_difference_is_tolerated(
    runner: QualityRunner, clean: pd.DataFrame, options: CheckOptions
) -> None:
    clean.loc[5, "total_purchase"] = round(clean.loc[5, "total_purchase"] + 0.01, 2)
    assert _check(runner, clean, options).status == "passed"


def test_warnings_are_reported_but_do_not_fail(
    runner: QualityRunner, clean: pd.DataFrame, options: CheckOptions
) -> None:
    clean.loc[7, "transaction_timestamp"] += 5000
    summary = _check(runner, clean, options)
    assert summary.status == "passed_with_warnings", summary.lines()
    assert summary.critical_failures == []
    assert set(summary.failed_names) == {
        "expect_column_pair_values_to_be_equal(transaction_timestamp, transaction_time_millis)",
    }


def test_what_every_engine_dead_letters_fails_the_gate(
    runner: QualityRunner, clean: pd.DataFrame, options: CheckOptions
) -> None:
    """The contract rejects a transaction_id that is not digits (mistyped_field): so does the gate,
    critically, under the contract's code (it used to be a hand-written warning)."""
    clean.loc[3, "transaction_id"] = "tx-3"
    summary = _check(runner, clean, options)
    assert summary.status == "failed", summary.lines()
    assert [f.name for f in summary.critical_failures] == ["mistyped_field(transaction_id)"]


def test_empty_window_is_reported_as_empty(runner: QualityRunner, options: CheckOptions) -> None:
    empty = pd.DataFrame(columns=["transaction_id"])
    summary = _check(runner, empty, options, window=(END - timedelta(hours=1), END))
    assert summary.status == "empty"
    assert summary.rows_checked == 0 and summary.failed == [] and summary.result_json is None
    assert any("nothing to check" in line for line in summary.lines())
    assert (
        json.loads((runner.results_root / summary.run_id / "summary.json").read_text())["status"] == "empty"
    )


def test_records_that_are_not_json_fail_the_batch(
    runner: QualityRunner, clean: pd.DataFrame, options: CheckOptions
) -> None:
    rejected = [Rejected("p0@17", "not JSON: Expecting value at char 0", "garbage")]
    summary = _check(runner, clean, options, rejected=rejected)
    assert summary.status == "failed"
    assert summary.failed_names == [REJECTED_NAME]
    assert summary.rejected_records == 1


def test_only_rejected_records_is_not_empty(runner: QualityRunner, options: CheckOptions) -> None:
    summary = _check(runner, pd.DataFrame(), options, rejected=[Rejected("line 1", "not JSON", "{")])
    assert summary.status == "failed" and summary.failed_names == [REJECTED_NAME]


def test_max_age_can_be_widened_per_run(
    runner: QualityRunner, clean: pd.DataFrame, options: CheckOptions
) -> None:
    old = _set("transaction_time", format_timestamp(END - timedelta(days=30)))(clean)
    assert _check(runner, old, replace(options, max_age_hours=24 * 40)).status in {
        "passed",
        "passed_with_warnings",
    }


def test_summary_is_json_safe(runner: QualityRunner, clean: pd.DataFrame, options: CheckOptions) -> None:
    summary = _check(runner, _set("purchase_quantity", 0)(clean), options)
    data = json.loads(json.dumps(summary.to_dict()))
    assert data["failed_by_severity"]["critical"] >= 1
    assert data["sample_bad_rows"][0]["row"]["purchase_quantity"] == 0


def _reprice(price: float | None, cogs: float | None = None) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Every Classic Smoothies row as a later product version (generator.yaml shop.price_changes)."""

    def change(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        rows = out["product_category"] == "Classic Smoothies"
        assert rows.any()
        if price is not None:
            out.loc[rows, "product_price"] = price
            out.loc[rows, "purchase_price"] = price
            out.loc[rows, "total_purchase"] = (
                out.loc[rows, "purchase_quantity"] * (price + out.loc[rows, "supplement_price"])
                * (1 - out.loc[rows, "member_discount"])).round(2)
        if cogs is not None:
            out.loc[rows, "product_cogs"] = cogs
        return out

    return change


def test_a_price_of_a_publishable_version_passes_any_other_fails(
    runner: QualityRunner, clean: pd.DataFrame, options: CheckOptions
) -> None:
    """The Classic price change (5.29) is a version in force after its date, not a mismatch."""
    summary = _check(runner, _reprice(5.29)(clean), options)
    assert summary.status == "passed", summary.lines()
    summary = _check(runner, _reprice(5.31)(clean), options)
    assert "expect_column_pair_values_to_be_equal(product_price, catalogue_product_price)" in [
        f.name for f in summary.critical_failures], summary.failed_names
    summary = _check(runner, _reprice(None, cogs=2.45)(clean), options)  # Indulgent's COGS, not Classic's
    assert "expect_column_pair_values_to_be_equal(product_cogs, catalogue_product_cogs)" in [
        f.name for f in summary.critical_failures], summary.failed_names


def test_records_written_before_identity_derived_existed_pass_as_not_derived(
    runner: QualityRunner, clean: pd.DataFrame, options: CheckOptions
) -> None:
    """A field added later must not make all earlier data invalid: absent takes its declared default."""
    from streamstack.quality.readers import frame_from_records

    records = json.loads(clean.drop(columns=["identity_derived"]).to_json(orient="records"))
    frame = frame_from_records(records)
    assert frame["identity_derived"].tolist() == [False] * len(records)
    summary = _check(runner, frame, options)
    assert summary.status == "passed", summary.lines()
    # An explicit null is no absence: it still fails.
    records[3]["identity_derived"] = None
    assert _check(runner, frame_from_records(records), options).status == "failed"
