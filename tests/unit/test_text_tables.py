"""Query results in task logs: an aligned table with rounded numbers."""

from __future__ import annotations

from streamstack.tables import format_table, tidy


def test_floats_are_rounded_and_numbers_right_aligned() -> None:
    rows = [
        {"product_id": "SF07", "product_name": "Mango Tango", "quantity": 41, "sales": 361.92999999999995},
        {"product_id": "CS02", "product_name": "Kiwi", "quantity": 7, "sales": 1234.5},
    ]
    lines = format_table(rows)
    assert lines[0].split() == ["product_id", "product_name", "quantity", "sales"]
    assert "361.93" in lines[2] and "361.929" not in lines[2]
    assert lines[3].endswith("1,234.50")
    assert lines[2].index("41") + 2 == lines[3].index("7") + 1  # right-aligned under "quantity"
    assert tidy(361.92999999999995) == 361.93 and tidy("x") == "x" and tidy(3) == 3


def test_no_rows_says_so() -> None:
    assert format_table([]) == ["(no rows)"]
