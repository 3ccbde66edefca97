"""Readers keep rows as the source holds them and never drop a record silently."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from streamstack.errors import ConfigError
from streamstack.events import PURCHASE_ENRICHED, field_names
from streamstack.quality import SourceError, read_jsonl, read_pinot_window
from streamstack.quality.window import parse_duration, window_ending


def test_jsonl_rows_locations_and_rejects(tmp_path: Path, clean: pd.DataFrame, write_jsonl) -> None:
    path = write_jsonl(clean.head(3), tmp_path / "batch.jsonl", ["", "not json", "[1, 2]"])
    batch = read_jsonl(path)
    assert len(batch.frame) == 3
    assert list(batch.frame.columns) == field_names(PURCHASE_ENRICHED)
    assert batch.locations == ["line 1", "line 2", "line 3"]
    assert [(r.location, r.reason.split(":")[0]) for r in batch.rejected] == [
        ("line 5", "not JSON"),
        ("line 6", "not a JSON object but list"),
    ]
    assert batch.frame["purchase_quantity"].dtype == "int64"
    assert batch.frame["contains_fruit"].dtype == "bool"
    assert not batch.is_empty


def test_jsonl_missing_key_stays_missing(tmp_path: Path) -> None:
    path = tmp_path / "b.jsonl"
    path.write_text('{"transaction_id": "1", "line_number": 1}\n{"transaction_id": "2"}\n', encoding="utf-8")
    frame = read_jsonl(path).frame
    assert frame["line_number"].isna().tolist() == [False, True]


def test_empty_file_is_an_empty_batch(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n", encoding="utf-8")
    assert read_jsonl(path).is_empty


def test_unreadable_file_raises(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot read"):
        read_jsonl(tmp_path / "nope.jsonl")


class FakePinot:
    """Stands in for ``PinotClient``: records the SQL, answers with fixed rows."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.sql: list[str] = []

    def query(self, sql: str) -> list[dict[str, Any]]:
        self.sql.append(sql)
        return [dict(r) for r in self.rows]


def test_pinot_window_query_and_time_normalisation(clean: pd.DataFrame) -> None:
    rows = clean.head(3).to_dict(orient="records")
    rows[0]["transaction_time"] = 1767268800123  # epoch millis
    rows[1]["transaction_time"] = "2026-01-01 11:59:59.5"  # Pinot's Timestamp rendering
    client = FakePinot(rows)
    start, end = datetime(2026, 1, 1, 11, tzinfo=UTC), datetime(2026, 1, 1, 12, tzinfo=UTC)
    batch = read_pinot_window(client, start, end, max_rows=10)
    (sql,) = client.sql
    assert "FROM purchasesEnriched" in sql
    assert f"transaction_timestamp >= {int(start.timestamp() * 1000)}" in sql
    assert f"transaction_timestamp < {int(end.timestamp() * 1000)}" in sql
    assert "LIMIT 11" in sql
    assert batch.frame["transaction_time"].tolist()[:2] == [
        "2026-01-01 12:00:00.123000",
        "2026-01-01 11:59:59.500000",
    ]
    assert batch.window == (start, end)


def test_pinot_window_refuses_to_truncate(clean: pd.DataFrame) -> None:
    client = FakePinot(clean.head(5).to_dict(orient="records"))
    with pytest.raises(SourceError, match="more than 4 rows"):
        read_pinot_window(
            client, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC), max_rows=4
        )


def test_pinot_empty_window() -> None:
    batch = read_pinot_window(
        FakePinot([]), datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    )
    assert batch.is_empty


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("1h", timedelta(hours=1)),
        ("2d", timedelta(days=2)),
        ("1.5h", timedelta(minutes=90)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "1", "0h", "-1h", "1w", "h"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_duration(text)


def test_window_ending_takes_naive_as_utc() -> None:
    start, end = window_ending(datetime(2026, 1, 1, 12), timedelta(hours=1))
    assert end == datetime(2026, 1, 1, 12, tzinfo=UTC) and start == datetime(2026, 1, 1, 11, tzinfo=UTC)
