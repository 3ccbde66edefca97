"""Runs: catalogue first, pacing per mode and speed, bounds by count and duration, the summary."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from streamstack.events import parse_timestamp
from streamstack.generator import Catalogue, GeneratorConfig, GeneratorError, build_model, run_generator
from streamstack.generator.sinks import FileSink


class FakeTime:
    """A monotonic clock that only moves when the run sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.pauses: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


def test_catalogue_is_published_first_then_sales(config: GeneratorConfig, catalogue: Catalogue, sink) -> None:
    summary = run_generator(build_model(config, catalogue, 1), sink, mode="load", transactions=300)
    kinds = [kind for kind, _, _ in sink.events]
    assert kinds[:27] == ["products"] * 27 and "products" not in kinds[27:]
    assert sink.closed
    assert summary.transactions == 300
    assert summary.purchases == len(sink.of("purchases")) and summary.inventories == len(sink.of("inventories"))
    assert summary.products == 27 and summary.bytes == sink.bytes_sent
    assert summary.events == 27 + summary.purchases + summary.inventories
    for kind, key, value in sink.events:
        if kind == "purchases":
            assert json.loads(value)["transaction_id"] == key


def test_load_mode_never_sleeps(config: GeneratorConfig, catalogue: Catalogue, sink) -> None:
    fake = FakeTime()
    run_generator(build_model(config, catalogue, 1), sink, mode="load", transactions=50, sleep=fake.sleep,
                  monotonic=fake.monotonic)
    assert fake.pauses == []


@pytest.mark.parametrize("speed", [1.0, 10.0])
def test_realistic_mode_pauses_2_to_5_seconds_divided_by_speed(config: GeneratorConfig, catalogue: Catalogue, sink,
                                                               speed: float) -> None:
    fake = FakeTime()
    run_generator(build_model(config, catalogue, 1), sink, mode="realistic", transactions=200, speed=speed,
                  sleep=fake.sleep, monotonic=fake.monotonic)
    assert len(fake.pauses) == 199  # between transactions, not before the first
    assert all(2.0 / speed <= p <= 5.0 / speed for p in fake.pauses)
    assert sum(fake.pauses) / len(fake.pauses) == pytest.approx(3.5 / speed, rel=0.1)


def test_duration_bounds_a_realistic_run(config: GeneratorConfig, catalogue: Catalogue, sink) -> None:
    fake = FakeTime()
    summary = run_generator(build_model(config, catalogue, 1), sink, mode="realistic", duration=60.0,
                            sleep=fake.sleep, monotonic=fake.monotonic)
    assert fake.now - 100.0 == pytest.approx(60.0)
    assert 60 / 5 <= summary.transactions <= 60 / 2 + 1
    assert summary.transactions == len({json.loads(v)["transaction_id"] for v in sink.of("purchases")})


def test_count_and_duration_whichever_first(config: GeneratorConfig, catalogue: Catalogue, sink) -> None:
    fake = FakeTime()
    summary = run_generator(build_model(config, catalogue, 1), sink, mode="realistic", transactions=3,
                            duration=3600.0, sleep=fake.sleep, monotonic=fake.monotonic)
    assert summary.transactions == 3


def test_default_bound_is_number_of_sales(config: GeneratorConfig, catalogue: Catalogue, sink) -> None:
    assert run_generator(build_model(config, catalogue, 1), sink, mode="load").transactions == 1000


def test_virtual_clock_spaces_transactions_like_the_shop(config: GeneratorConfig, catalogue: Catalogue, sink) -> None:
    start = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
    run_generator(build_model(config, catalogue, 3, start_time=start), sink, mode="load", transactions=100)
    times = sorted({parse_timestamp(json.loads(v)["transaction_time"]) for v in sink.of("purchases")})
    assert times[0] == start and len(times) == 100
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    assert all(2.0 <= gap <= 5.0 for gap in gaps)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"mode": "fast"}, "not one of"), ({"speed": 0}, "speed"), ({"transactions": -1}, "negative"),
     ({"duration": 0}, "duration")],
)
def test_bad_run_options(config: GeneratorConfig, catalogue: Catalogue, sink, kwargs: dict, message: str) -> None:
    with pytest.raises(GeneratorError, match=message):
        run_generator(build_model(config, catalogue, 1), sink, **kwargs)


def test_file_sink_writes_one_file_per_event_type(config: GeneratorConfig, catalogue: Catalogue, tmp_path) -> None:
    out = tmp_path / "sales.jsonl"
    summary = run_generator(build_model(config, catalogue, 8), FileSink(out), mode="load", transactions=2000)
    purchases = out.read_text().splitlines()
    products = (tmp_path / "sales.products.jsonl").read_text().splitlines()
    inventories = (tmp_path / "sales.inventories.jsonl").read_text().splitlines()
    assert (len(purchases), len(products), len(inventories)) == (summary.purchases, 27, summary.inventories)
    assert summary.inventories > 0
    assert all(json.loads(line)["new_level"] > config.min_inventory for line in inventories)


def test_unseeded_runs_report_their_seed(config: GeneratorConfig, catalogue: Catalogue, sink) -> None:
    a = run_generator(build_model(config, catalogue, None), sink, mode="load", transactions=1)
    b = run_generator(build_model(config, catalogue, None), sink, mode="load", transactions=1)
    assert a.seed != b.seed and a.to_dict()["seed"] == a.seed
