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

from streamstack import contract as rules
from streamstack.events import TIMESTAMP_FORMAT
from streamstack.quality.catalogue import ATTRIBUTES, catalogue_column

#: ``|total_purchase - formula|`` in cents (PRODUCT.md section 2 formula, on the purchase price).
TOTAL_ERROR = "total_purchase_error_cents"
#: ``transaction_time`` parsed as UTC; NaT when it is not ``YYYY-MM-DD HH:MM:SS.ffffff``.
TIME_PARSED = "transaction_time_parsed"
#: ``transaction_time`` as epoch milliseconds (floored), to compare with ``transaction_timestamp``.
TIME_MILLIS = "transaction_time_millis"
#: Whether member_discount is one the contract allows for the row's is_member (null when either is missing).
DISCOUNT_ALLOWED = "member_discount_allowed"
#: Whether supplement_price is the contract's for the row's add_supplements (null when either is missing).
SUPPLEMENT_ALLOWED = "supplement_price_allowed"

DERIVED_COLUMNS: frozenset[str] = frozenset(
    {
        TOTAL_ERROR,
        TIME_PARSED,
        TIME_MILLIS,
        DISCOUNT_ALLOWED,
        SUPPLEMENT_ALLOWED,
        *(catalogue_column(a) for a in ATTRIBUTES),
    }
)
_EPOCH = pd.Timestamp("1970-01-01", tz="UTC")
#: Attributes that change with product versions -> their key in the catalogue's ``attrs["versions"]``.
VERSIONED = {"product_price": "price", "product_cogs": "cogs"}


def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(float("nan"), index=frame.index)
    return pd.to_numeric(frame[column], errors="coerce")


def parse_event_times(values: pd.Series) -> pd.Series:
    """Parse event timestamps vectorised; anything but exactly 6 fraction digits becomes NaT."""
    text = values.astype("str")
    text = text.where(text.str.len() == 26)
    return pd.to_datetime(text, format=TIMESTAMP_FORMAT, errors="coerce", utc=True)


def _allowed(frame: pd.DataFrame, column: str, flag: str, allowed: dict[bool, list[float]], eps: float) -> pd.Series:
    """True/False per row: the value is in the contract's set for the row's flag; null if either is missing."""
    values = _numeric(frame, column)
    flags = frame[flag] if flag in frame else pd.Series(None, index=frame.index, dtype=object)
    out = pd.Series(None, index=frame.index, dtype=object)
    for state, options in allowed.items():
        # Exact booleans only: 1, "true" or None stay null (the dtype check reports them).
        rows = flags.map(lambda x, s=state: x is s) & values.notna()
        ok = np.zeros(len(frame), dtype=bool)
        for option in options:
            ok |= (values - option).abs().to_numpy() <= eps
        out[rows] = ok[rows.to_numpy()]
    return out


def add_derived_columns(frame: pd.DataFrame, catalogue: pd.DataFrame, contract: dict | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with the derived columns; missing inputs give all-null columns.

    The allowed discounts and supplement prices are the event contract's (``config/contract.yaml``
    resolved against the generator settings), the same sets every engine validates against.
    """
    contract = contract or rules.load_contract()
    eps = float(contract["epsilon"])
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

    out[DISCOUNT_ALLOWED] = _allowed(frame, "member_discount", "is_member",
                                     rules.allowed_values(contract, "member_discount"), eps)
    out[SUPPLEMENT_ALLOWED] = _allowed(frame, "supplement_price", "add_supplements",
                                       rules.allowed_values(contract, "supplement_price"), eps)

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
        versions = catalogue.attrs.get("versions")
        if versions and attribute in VERSIONED and attribute in frame and "product_id" in frame:
            # A price or COGS of another version of the product (a price change) is the version in
            # force, not a mismatch: the row's own value is then the expected one.
            own = _numeric(frame, attribute)
            allowed = pd.MultiIndex.from_tuples(
                [(pid, round(v, 6)) for pid, kinds in versions.items() for v in kinds[VERSIONED[attribute]]])
            ok = pd.MultiIndex.from_arrays([frame["product_id"], own.round(6)]).isin(allowed)
            if ok.any():
                values = values.astype(object).where(~ok, own)
        out[column] = values
