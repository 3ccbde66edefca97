"""One lag computation for every engine: committed offsets against the topics' watermarks."""

from __future__ import annotations

import pytest

from streamstack.topics import offsets


@pytest.fixture(autouse=True)
def topics(monkeypatch: pytest.MonkeyPatch) -> None:
    marks = {"p": {0: (0, 10), 1: (5, 8), 2: (0, 0)}, "products": {0: (0, 3)}}
    monkeypatch.setattr(offsets, "watermarks", lambda config, topic: marks[topic])


def test_lag_per_partition_counts_from_the_committed_offset_or_the_start() -> None:
    lag = offsets.lag({}, ["p", "products"], {"p": {0: 4, 1: 8}})
    assert lag.behind == {"p": {0: 6, 1: 0, 2: 0}, "products": {0: 3}}
    assert lag.total == 9 and lag.beyond_end == {}
    assert lag.by_partition() == {"p/0": 6, "p/1": 0, "p/2": 0, "products/0": 3}


def test_a_commit_past_the_end_is_beyond_the_end_never_caught_up() -> None:
    lag = offsets.lag({}, ["p"], {"p": {0: 400}})
    assert lag.beyond_end == {"p": {0: (400, 10)}}
    assert "p: partition 0 at offset 400 > end 10" in lag.beyond_end_text()


def test_an_offset_below_the_retained_start_counts_from_the_start() -> None:
    assert offsets.lag({}, ["p"], {"p": {1: 2}}).behind["p"][1] == 3
