"""Columns computed before validation, so every rule is a fast, vectorised GX expectation.

GX 1.x has no pandas expectation for "a = round(b * (c + d) * (1 - e), 2)" or "this row agrees
with a lookup table" (``UnexpectedRowsExpectation`` is SQL-only), and row-wise custom
expectations are slow at a million rows. So the runner adds a few columns with pandas and the
suite compares against them with stock expectations (pair equality, between, not-null); the
Data Docs then show each rule under a readable column name.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from streamstack.events import MEMBER_DISCOUNT, SUPPLEMENT_PRICE, TIMESTAMP_FORMAT
from streamstack.quality.catalogue import ATTRIBUTES, catalogue_column

#: ``|total_purchase - formula|`` in cents (PRODUCT.md section 2 formula, on the purchase price).
TOTAL_ERROR = "total_purchase_error_cents"
#: ``transaction_time`` parsed as UTC; NaT when it is not ``YYYY-MM-DD HH:MM:SS.ffffff``.
TIME_PARSED = "transaction_time_parsed"
#: ``transaction_time`` as epoch milliseconds (floored), to compare with ``transaction_timestamp``.
TIME_MILLIS = "transaction_time_millis"
#: 0.10 for members, 0.0 otherwise (null when ``is_member`` is not a boolean).
EXPECTED_DISCOUNT = "expected_member_discount"
#: 1.99 with supplements, 0.0 otherwise (null when ``add_supplements`` is not a boolean).
EXPECTED_SUPPLEMENT = "expected_supplement_price"

DERIVED_COLUMNS: frozenset[str] = frozenset(
    {
        TOTAL_ERROR,
        TIME_PARSED,
        TIME_MILLIS,
        EXPECTED_DISCOUNT,
        EXPECTED_SUPPLEMENT,
        *(catalogue_column(a) for a in ATTRIBUTES),
    }
)
_EPOCH = pd.Timestamp("1970-01-01", tz="UTC")


def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(float("nan"), index=frame.index)
    return pd.to_numeric(frame[column], errors="coerce")


def parse_event_times(values: pd.Series) -> pd.Series:
    """Parse event timestamps vectorised; anything but exactly 6 fraction digits becomes NaT."""
    text = values.astype("str")
    text = text.where(text.str.len() == 26)
    return pd.to_datetime(text, format=TIMESTAMP_FORMAT, errors="coerce", utc=True)


def add_derived_columns(frame: pd.DataFrame, catalogue: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with the derived columns; missing inputs give all-null columns."""
    out = frame.copy(deep=False)
    expected = (
        _numeric(frame, "purchase_quantity")
        * (_numeric(frame, "purchase_price") + _numeric(frame, "supplement_price"))
        * (1 - _numeric(frame, "member_discount"))
    ).round(2)
    out[TOTAL_ERROR] = ((_numeric(frame, "total_purchase") - expected).abs() * 100).round(6)

    if "transaction_time" in frame:
        parsed = parse_event_times(frame["transaction_time"])
    else:
        parsed = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us, UTC]")
    out[TIME_PARSED] = parsed
    out[TIME_MILLIS] = (parsed - _EPOCH) // pd.Timedelta(milliseconds=1)

    for target, flag, value in (
        (EXPECTED_DISCOUNT, "is_member", MEMBER_DISCOUNT),
        (EXPECTED_SUPPLEMENT, "add_supplements", SUPPLEMENT_PRICE),
    ):
        flags = frame[flag] if flag in frame else pd.Series(None, index=frame.index, dtype=object)
        # map() on the exact booleans: 1, "true" or None give null (the dtype check reports them).
        out[target] = flags.map({True: value, False: 0.0})

    _add_catalogue(out, frame, catalogue)
    return out


def _add_catalogue(out: pd.DataFrame, frame: pd.DataFrame, catalogue: pd.DataFrame) -> None:
    """``catalogue_<attribute>`` looked up by product_id, one hash lookup for all attributes.

    An unknown product_id gets the row's own values, so it is reported once (by the product_id
    expectation) rather than nine more times as attribute mismatches.
    """
    if "product_id" in frame:
        codes = catalogue.index.get_indexer(frame["product_id"])
    else:
        codes = np.full(len(frame), -1)
    known = codes >= 0
    safe = np.where(known, codes, 0)
    for attribute in ATTRIBUTES:
        column = catalogue_column(attribute)
        values = pd.Series(catalogue[column].to_numpy()[safe], index=frame.index)
        if not known.all():
            own = frame[attribute] if attribute in frame else pd.Series(None, index=frame.index, dtype=object)
            values = values.astype(object).where(known, own)
        out[column] = values
