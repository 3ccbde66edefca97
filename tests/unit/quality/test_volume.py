"""The volume warning: far below the profile with nothing announced warns; an announced storm or outage does not.

The shop's events and purchases come from the real simulation (config/generator.yaml's ``cafe``
profile, fixed seed), so the expectation is checked against the volume the generator really makes.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml

from streamstack.events import parse_timestamp
from streamstack.generator import build_model, build_simulation, load_catalogue, run_generator
from streamstack.generator.config import parse_config
from streamstack.quality import CheckOptions, QualityRunner
from streamstack.quality.readers import Batch
from streamstack.quality.volume import (
    VOLUME_NAME,
    VolumeExpectation,
    announcements,
    expected_transactions,
    volume_expectation,
)

CONFIG_FILE = Path(__file__).resolve().parents[3] / "config" / "generator.yaml"
START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
STORM = (START + timedelta(hours=9), START + timedelta(hours=13))
OUTAGE = (START + timedelta(days=1, hours=12), START + timedelta(days=1, hours=14))
#: The suite's defaults (expectations/purchases_enriched.json): ratio, z, minimum expected.
FLOOR = (0.5, 3.0, 20.0)


class Sink:
    destination = "memory"
    bytes_sent = 0

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.times: dict[str, datetime] = {}

    def send_purchase(self, transaction_id: str, value: bytes) -> None:
        self.times.setdefault(transaction_id, parse_timestamp(json.loads(value)["transaction_time"]))

    def send_record(self, kind: str, record: dict) -> None:
        if kind == "events":
            self.events.append(record)

    def close(self) -> None:
        pass

    def count(self, start: datetime, end: datetime) -> int:
        return sum(1 for t in self.times.values() if start <= t < end)


@pytest.fixture(scope="module")
def week() -> tuple[Sink, dict]:
    data = copy.deepcopy(yaml.safe_load(CONFIG_FILE.read_text()))
    data["shop"].update(price_changes=[], supply={"reorder_point": 0, "order_quantity": 1, "lead_time_hours": 0},
                        anomalies=[{"kind": "storm", "day": 0, "start": "09:00", "hours": 4, "factor": 0.3},
                                   {"kind": "outage", "day": 1, "start": "12:00", "hours": 2,
                                    "recovery_hours": 1, "recovery_factor": 1.5}])
    config = parse_config(data, CONFIG_FILE, environ={})
    from dataclasses import replace

    catalogue = load_catalogue(config.catalogue_file)
    catalogue = replace(catalogue, products=tuple(replace(p, inventory=10**9) for p in catalogue.products))
    model = build_model(config, catalogue, 13)
    sink = Sink()
    run_generator(model, sink, simulation=build_simulation(model, 2, date(2026, 1, 5)))
    return sink, dict(config.shop.profiles)


def _unannounced(events: list[dict]) -> list[dict]:
    return [e for e in events if not e["event_type"].startswith("anomaly_")]


def _open_hours(profiles: dict) -> list[tuple[datetime, datetime]]:
    cafe = profiles["cafe"]
    out = []
    for day in range(2):
        begin, end = cafe.opening_hours[(START + timedelta(days=day)).weekday()]
        out += [(START + timedelta(days=day, minutes=m), START + timedelta(days=day, minutes=m + 60))
                for m in range(begin, end, 60)]
    return out


def test_the_profile_alone_gives_the_expected_volume(week: tuple[Sink, dict]) -> None:
    _, profiles = week
    # Monday 12:00-13:00: 40 an hour x weight 1.8 x Monday 0.9; 06:30-07:30 is half closed (0.8 at 07).
    plain, adjusted, seen = expected_transactions(profiles["cafe"], START + timedelta(hours=12),
                                                  START + timedelta(hours=13))
    assert (plain, adjusted, seen) == (pytest.approx(64.8), pytest.approx(64.8), ())
    half, _, _ = expected_transactions(profiles["cafe"], START + timedelta(hours=6, minutes=30),
                                       START + timedelta(hours=7, minutes=30))
    assert half == pytest.approx(40 * 0.8 * 0.9 / 2)
    night, _, _ = expected_transactions(profiles["cafe"], START + timedelta(hours=19), START + timedelta(hours=31))
    assert night == 0


def test_announced_storm_and_outage_lower_the_expectation(week: tuple[Sink, dict]) -> None:
    sink, profiles = week
    storm = volume_expectation(sink.events, *STORM, profiles)
    assert storm is not None and storm.profile == "cafe" and storm.announced == ("storm-1",)
    assert storm.expected == pytest.approx(0.3 * storm.profile_expected)
    outage = volume_expectation(sink.events, *OUTAGE, profiles)
    assert outage is not None and outage.expected == 0 and outage.announced == ("outage-1",)
    # The recovery bump after the outage (until its anomaly_end) is not a lowered expectation.
    after = volume_expectation(sink.events, OUTAGE[1], OUTAGE[1] + timedelta(hours=1), profiles)
    assert after is not None and after.expected == after.profile_expected > 0


def test_no_hour_of_the_simulated_days_warns_when_everything_is_announced(week: tuple[Sink, dict]) -> None:
    sink, profiles = week
    for start, end in _open_hours(profiles) + [STORM, OUTAGE]:
        expectation = volume_expectation(sink.events, start, end, profiles)
        assert expectation is not None
        assert sink.count(start, end) >= expectation.floor(*FLOOR), (start, expectation)


def test_the_same_dips_unannounced_are_far_below_the_profile(week: tuple[Sink, dict]) -> None:
    sink, profiles = week
    quiet = _unannounced(sink.events)
    for window in (STORM, OUTAGE):
        expectation = volume_expectation(quiet, *window, profiles)
        assert expectation is not None and expectation.announced == ()
        assert sink.count(*window) < expectation.floor(*FLOOR), (window, sink.count(*window), expectation)
    # A normal hour is never far below, announced or not.
    noon = (START + timedelta(days=1, hours=9), START + timedelta(days=1, hours=10))
    assert sink.count(*noon) >= volume_expectation(quiet, *noon, profiles).floor(*FLOOR)


def test_no_store_event_means_no_expectation(week: tuple[Sink, dict]) -> None:
    sink, profiles = week
    assert volume_expectation([], *STORM, profiles) is None
    only_anomalies = [e for e in sink.events if e["event_type"].startswith("anomaly_")]
    assert volume_expectation(only_anomalies, *STORM, profiles) is None
    renamed = [{**e, "details": e["details"].replace('"cafe"', '"bakery"')} for e in sink.events]
    assert volume_expectation(renamed, *STORM, profiles) is None  # a profile the config does not have


def test_an_early_store_close_explains_the_rest_of_the_day(week: tuple[Sink, dict]) -> None:
    sink, profiles = week
    close = {"event_time": "2026-01-06 15:00:00.000000", "event_type": "store_close", "subject": "store",
             "details": json.dumps({"profile": "cafe"})}
    _, announced = announcements([*sink.events, close], START + timedelta(days=2))
    closed = [a for a in announced if a.id == "closed" and a.start == START + timedelta(days=1, hours=15)]
    # Until the next store_open (beyond ``until`` here), whatever the scheduled close says.
    assert closed and closed[0].end == START + timedelta(days=2)
    late = volume_expectation([*sink.events, close], START + timedelta(days=1, hours=15),
                              START + timedelta(days=1, hours=19), profiles)
    assert late.expected == 0 and late.profile_expected > 100


def test_floor_needs_both_ratio_and_significance() -> None:
    assert VolumeExpectation("cafe", 64.8, 64.8).floor(*FLOOR) == 32  # 0.5 x 64.8 (64.8 - 3 sigma = 40.6)
    assert VolumeExpectation("cafe", 30, 30).floor(*FLOOR) == 13  # 30 - 3 x sqrt(30) = 13.6 < 15
    assert VolumeExpectation("cafe", 19.9, 19.9).floor(*FLOOR) == 0  # too few to judge
    assert VolumeExpectation("cafe", 100, 0).floor(*FLOOR) == 0  # an announced outage


def _batch(frame: pd.DataFrame, end: datetime) -> Batch:
    return Batch(frame, "test", [f"row {i}" for i in range(len(frame))], [], (end - timedelta(hours=1), end))


def test_the_gate_reports_a_warning_not_a_failure(runner: QualityRunner, clean: pd.DataFrame, end: datetime,
                                                 options: CheckOptions) -> None:
    transactions = clean["transaction_id"].nunique()
    busy = VolumeExpectation("cafe", 4.0 * transactions, 4.0 * transactions)
    summary = runner.check(_batch(clean, end), options=CheckOptions(
        reference_time=end, data_docs=False, volume=busy))
    assert summary.status == "passed_with_warnings", summary.lines()
    assert summary.failed_names == [VOLUME_NAME]
    warning = summary.warnings[0]
    assert warning.observed_value == transactions
    assert f"expects {4.0 * transactions:.1f} transactions" in warning.detail
    assert "far below" in warning.line()

    explained = VolumeExpectation("cafe", 4.0 * transactions, 1.0 * transactions, ("storm-1",))
    summary = runner.check(_batch(clean, end), options=CheckOptions(
        reference_time=end, data_docs=False, volume=explained))
    assert summary.status == "passed", summary.lines()
    assert runner.check(_batch(clean, end), options=options).status == "passed"  # no volume: not judged


def test_an_empty_window_the_profile_expected_sales_in_warns(runner: QualityRunner, clean: pd.DataFrame,
                                                            end: datetime) -> None:
    empty = _batch(clean.iloc[0:0], end)
    assert runner.check(empty, options=CheckOptions(reference_time=end, data_docs=False)).status == "empty"
    summary = runner.check(empty, options=CheckOptions(
        reference_time=end, data_docs=False, volume=VolumeExpectation("cafe", 64.8, 64.8)))
    assert summary.status == "passed_with_warnings" and summary.failed_names == [VOLUME_NAME]
    quiet = runner.check(empty, options=CheckOptions(
        reference_time=end, data_docs=False, volume=VolumeExpectation("cafe", 64.8, 0.0, ("outage-1",))))
    assert quiet.status == "empty"
