"""The contract's sliding windows: where a line falls, and the section's own checks."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from support.contracts import edited_contract

from streamstack import contract as rules
from streamstack.errors import ConfigError


def test_each_line_is_in_size_over_slide_windows_that_contain_it() -> None:
    contract = rules.load_contract()
    size, slide, lateness = rules.window_spec(contract)
    assert (size, slide, lateness) == (600_000, 300_000, 600_000)
    at = 1_767_261_723_456  # 2026-01-01 10:02:03.456
    starts = rules.window_starts(at, contract)
    assert starts == [at - at % slide - slide, at - at % slide]
    assert all(start <= at < start + size for start in starts)
    assert rules.window_starts(at - at % slide, contract)[-1] == at - at % slide  # a start is in its window


def test_another_size_gives_that_many_windows() -> None:
    contract = copy.deepcopy(rules.load_contract())
    contract["windows"].update(size_minutes=15)
    at = 1_767_261_723_456
    starts = rules.window_starts(at, contract)
    assert len(starts) == 3 and all(start <= at < start + 900_000 for start in starts)


@pytest.mark.parametrize(("change", "key"), [
    (lambda d: d.pop("windows"), "windows"),
    (lambda d: d["windows"].pop("allowed_lateness_minutes"), "windows"),
    (lambda d: d["windows"].update(size_minutes=7), "windows.size_minutes"),
    (lambda d: d["windows"].update(slide_minutes=0), "windows.slide_minutes"),
    (lambda d: d["windows"].update(allowed_lateness_minutes="10 minutes"), "windows.allowed_lateness_minutes"),
    (lambda d: d["windows"].update(late_code="too_late"), "windows.late_code"),
])
def test_a_wrong_windows_section_names_the_key_and_the_file(tmp_path: Path, change: Any, key: str) -> None:
    path = edited_contract(tmp_path, change)
    with pytest.raises(ConfigError) as error:
        rules.load_contract(path)
    assert str(path) in str(error.value) and key in str(error.value)


def test_a_line_is_late_when_far_behind_the_newest_line_before_it_on_its_partition() -> None:
    """Per partition: the order the partitions are read in cannot change what is late."""
    contract = rules.load_contract()
    lines = [
        (0, 0, "2026-01-01 12:00:00.000000"),
        (0, 1, "2026-01-01 11:50:00.000000"),  # exactly the lateness behind: on time
        (0, 2, "2026-01-01 11:49:59.999999"),  # just beyond it: late
        (1, 0, "2026-01-01 09:00:00.000000"),  # hours behind partition 0, first on its own: on time
        (1, 1, "2026-01-01 12:30:00.000000"),
        (1, 2, "2026-01-01 12:25:00.000000"),
        (0, 3, "2026-01-01 08:00:00.000000"),  # late
    ]
    assert rules.late_for_windows(lines, contract) == {(0, 2), (0, 3)}
    interleaved = [lines[3], lines[4], lines[0], lines[5], lines[1], lines[2], lines[6]]
    assert rules.late_for_windows(interleaved, contract) == {(0, 2), (0, 3)}
