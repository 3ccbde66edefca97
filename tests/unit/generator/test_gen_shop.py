"""The shop's life over simulated weeks, by seed: hours, profile, anomalies, supply, prices, reproducibility.

Statistical checks use Poisson tolerances: a count with expectation E is accepted within
``4 * sqrt(E)`` (+1), i.e. a false failure about once in 15,000 checks, and the seeds are fixed,
so the tests are deterministic; they would fail for a rate off by the tolerance or more.
"""

from __future__ import annotations

import copy
import json
import math
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from streamstack import contract as rules
from streamstack.errors import ConfigError
from streamstack.events import EVENT, EVENT_TYPES, field_names, parse_timestamp
from streamstack.generator import build_model, build_simulation, load_catalogue, run_generator
from streamstack.generator.config import GeneratorConfig, parse_config
from streamstack.generator.shop import line_discount

CONFIG_FILE = Path(__file__).resolve().parents[3] / "config" / "generator.yaml"
BASE = yaml.safe_load(CONFIG_FILE.read_text())
START = date(2026, 1, 5)  # a Monday
ALWAYS_OPEN = {d: "00:00-24:00" for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                                           "sunday")}
PLENTY = {"reorder_point": 0, "order_quantity": 1, "lead_time_hours": 0}


class RecordingSink:
    """Keeps every event in order (a name of its own: conftest modules collide across test folders)."""

    destination = "memory"

    def __init__(self) -> None:
        self.events: list[tuple[str, bytes | dict]] = []
        self.bytes_sent = 0

    def send_purchase(self, transaction_id: str, value: bytes) -> None:
        self.events.append(("purchases", value))

    def send_record(self, kind: str, record: dict) -> None:
        self.events.append((kind, record))

    def close(self) -> None:
        pass

    def of(self, kind: str) -> list:
        return [value for k, value in self.events if k == kind]


def make_config(**shop: Any) -> GeneratorConfig:
    data = copy.deepcopy(BASE)
    data["shop"].update(shop)
    return parse_config(data, CONFIG_FILE, environ={})


def calm(**shop: Any) -> GeneratorConfig:
    """No anomalies, no price changes, and stock that never runs out (unless overridden)."""
    settings = {"anomalies": [], "price_changes": [], "supply": PLENTY, **shop}
    config = make_config(**settings)
    return config


def plenty_catalogue(config: GeneratorConfig):
    """The catalogue with stock no week can sell (so volume tests are not shaped by shortages)."""
    from dataclasses import replace

    catalogue = load_catalogue(config.catalogue_file)
    return replace(catalogue, products=tuple(replace(p, inventory=10**9) for p in catalogue.products))


def simulate(config: GeneratorConfig, seed: int = 7, days: int = 7, profile: str | None = None,
             catalogue=None) -> tuple[RecordingSink, Any]:
    catalogue = catalogue or load_catalogue(config.catalogue_file)
    model = build_model(config, catalogue, seed)
    sim = build_simulation(model, days, START, profile)
    sink = RecordingSink()
    summary = run_generator(model, sink, simulation=sim)
    return sink, summary


def purchases(sink: RecordingSink) -> list[dict]:
    return [json.loads(v) for v in sink.of("purchases")]


def shop_events(sink: RecordingSink, kind: str | None = None) -> list[dict]:
    return [e for e in sink.of("events") if kind is None or e["event_type"] == kind]


def transactions_by(records: list[dict], key) -> Counter:
    seen: dict[str, datetime] = {}
    for r in records:
        seen.setdefault(r["transaction_id"], parse_timestamp(r["transaction_time"]))
    return Counter(key(t) for t in seen.values())


def within(observed: float, expected: float) -> bool:
    return abs(observed - expected) <= 4 * math.sqrt(expected) + 1


# ------------------------------------------------------------------------------------ hours
def test_no_purchase_outside_opening_hours_and_store_events_bracket_each_day() -> None:
    config = make_config()
    sink, summary = simulate(config)
    cafe = config.shop.profiles["cafe"]
    rows = purchases(sink)
    assert len(rows) > 2000
    for r in rows:
        t = parse_timestamp(r["transaction_time"])
        opening = cafe.opening_hours[t.weekday()]
        minute = t.hour * 60 + t.minute
        assert opening is not None and opening[0] <= minute < opening[1], r["transaction_time"]
    opens, closes = shop_events(sink, "store_open"), shop_events(sink, "store_close")
    assert len(opens) == len(closes) == 7
    assert opens[0]["event_time"] == "2026-01-05 07:00:00.000000"
    assert all(e["subject"] == "store" for e in opens + closes)
    assert summary.simulated_days == 7 and summary.profile == "cafe"


def test_hourly_and_weekday_volume_follow_the_profile() -> None:
    # Ten times the cafe's volume: every open hour of the day expects thousands of transactions
    # over the week, so the tolerance (4 sigma) is 4-7 % of the profile's value.
    busy = copy.deepcopy(BASE["shop"]["profiles"]["cafe"])
    busy["transactions_per_hour"] *= 10
    config = calm(profiles={"cafe": busy})
    cafe = config.shop.profiles["cafe"]
    sink, _ = simulate(config, seed=11, days=7, catalogue=plenty_catalogue(config))
    rows = purchases(sink)
    by_hour = transactions_by(rows, lambda t: t.hour)
    by_weekday = transactions_by(rows, lambda t: t.weekday())
    for hour in range(24):
        expected = sum(cafe.hourly_rate(d, hour) * _open_fraction(cafe, d, hour) for d in range(7))
        assert within(by_hour.get(hour, 0), expected), (hour, by_hour.get(hour, 0), expected)
        if expected == 0:
            assert by_hour.get(hour, 0) == 0
    for day in range(7):
        expected = sum(cafe.hourly_rate(day, h) * _open_fraction(cafe, day, h) for h in range(24))
        assert within(by_weekday[day], expected), (day, by_weekday[day], expected)


def _open_fraction(profile, weekday: int, hour: int) -> float:
    opening = profile.opening_hours[weekday]
    if opening is None:
        return 0.0
    start, end = max(opening[0], hour * 60), min(opening[1], hour * 60 + 60)
    return max(0, end - start) / 60


def test_realistic_mode_sleeps_simulated_time_divided_by_speed() -> None:
    config = calm()
    model = build_model(config, load_catalogue(config.catalogue_file), 3)
    sim = build_simulation(model, 1, START)
    pauses: list[float] = []
    clock = [0.0]
    summary = run_generator(model, RecordingSink(), mode="realistic", speed=3600.0, simulation=sim,
                            sleep=lambda s: (pauses.append(s), clock.__setitem__(0, clock[0] + s)),
                            monotonic=lambda: clock[0])
    # Up to the last event (the store closing at 19:00 on a Monday): 19 simulated hours = 19 s.
    assert sum(pauses) == pytest.approx(19.0, rel=1e-6)
    assert summary.transactions > 100


# ---------------------------------------------------------------------------------- anomalies
FLAT = {"flat": {"transactions_per_hour": 400, "opening_hours": ALWAYS_OPEN, "hour_weights": [1] * 24}}


def _count_between(rows: list[dict], start: datetime, end: datetime) -> int:
    return sum(1 for t in {r["transaction_id"]: parse_timestamp(r["transaction_time"]) for r in rows}.values()
               if start <= t < end)


def test_storm_and_outage_change_volume_by_their_factors() -> None:
    config = calm(profiles=FLAT, profile="flat", anomalies=[
        {"kind": "storm", "day": 1, "start": "06:00", "hours": 6, "factor": 0.3},
        {"kind": "outage", "day": 2, "start": "10:00", "hours": 2, "recovery_hours": 3, "recovery_factor": 1.8},
    ])
    sink, summary = simulate(config, days=3, catalogue=plenty_catalogue(config))
    rows = purchases(sink)
    day = datetime(2026, 1, 5, tzinfo=UTC)
    storm = _count_between(rows, day + timedelta(days=1, hours=6), day + timedelta(days=1, hours=12))
    assert within(storm, 400 * 6 * 0.3), storm
    before = _count_between(rows, day + timedelta(days=1), day + timedelta(days=1, hours=6))
    assert within(before, 400 * 6), before
    outage = _count_between(rows, day + timedelta(days=2, hours=10), day + timedelta(days=2, hours=12))
    assert outage == 0
    bump = _count_between(rows, day + timedelta(days=2, hours=12), day + timedelta(days=2, hours=15))
    assert within(bump, 400 * 3 * 1.8), bump
    starts = shop_events(sink, "anomaly_start")
    assert [e["subject"] for e in starts] == ["storm-1", "outage-1"]
    assert json.loads(starts[1]["details"])["recovery_ends"] == "2026-01-07 15:00:00.000000"
    assert [e["event_time"] for e in shop_events(sink, "anomaly_end")] == [
        "2026-01-06 12:00:00.000000", "2026-01-07 15:00:00.000000"]
    assert summary.anomalies == ["storm-1 2026-01-06 06:00:00.000000", "outage-1 2026-01-07 10:00:00.000000"]


def test_promotion_raises_its_category_only_and_every_engine_accepts_its_discount(config_file: Path) -> None:
    category = "Superfoods Smoothies"
    config = calm(profiles=FLAT, profile="flat", anomalies=[
        {"kind": "promotion", "day": 1, "start": "00:00", "hours": 24, "category": category, "factor": 2.5,
         "discount": 0.25},
    ])
    sink, _ = simulate(config, days=2, catalogue=plenty_catalogue(config))
    rows = purchases(sink)
    categories = {p.product_id: p.category for p in load_catalogue(config.catalogue_file).products}
    per_day: dict[int, Counter] = defaultdict(Counter)
    for r in rows:
        day = parse_timestamp(r["transaction_time"]).day - 5
        per_day[day][categories[r["product_id"]] == category] += 1
    promoted, other = per_day[1][True], per_day[1][False]
    assert within(promoted, per_day[0][True] * 2.5), (promoted, per_day[0][True])
    assert abs(other - per_day[0][False]) <= 4 * math.sqrt(per_day[0][False] * 2), (other, per_day[0][False])
    day1 = [r for r in rows if r["transaction_time"].startswith("2026-01-06")]
    for r in day1:
        expected = (line_discount(config.member_discount, 0.25, r["is_member"]) if categories[r["product_id"]] == category
                    else (config.member_discount if r["is_member"] else 0.0))
        assert r["member_discount"] == expected
    assert {r["member_discount"] for r in day1 if not r["is_member"]} == {0.0, 0.25}
    # The contract resolved against these settings accepts every purchase, promotions included.
    data = yaml.safe_load((config_file.parent / "contract.yaml").read_text())
    contract = rules.resolve(data, config_file.parent / "contract.yaml", config, list(categories))
    assert 0.25 in rules.allowed_values(contract, "member_discount")[False]
    for value in sink.of("purchases"):
        assert rules.check_purchase(value, contract)[1] is None
    (start,) = shop_events(sink, "promotion_start")
    assert start["category"] == category and start["value"] == 0.25 and start["subject"] == "promotion-1"


def test_random_anomalies_are_drawn_by_the_seed() -> None:
    config = calm(random_anomalies={"storm": {"per_week": 3, "hours": [2, 4], "factor": [0.2, 0.5]},
                                    "promotion": {"per_week": 3, "factor": [1.5, 2], "discounts": [0.15]}})
    one, _ = simulate(config, seed=5, days=14)
    two, _ = simulate(config, seed=5, days=14)
    other, _ = simulate(config, seed=6, days=14)
    starts = [e for e in shop_events(one) if e["event_type"].endswith("_start")]
    assert starts == [e for e in shop_events(two) if e["event_type"].endswith("_start")]
    assert starts != [e for e in shop_events(other) if e["event_type"].endswith("_start")]
    assert {json.loads(e["details"])["kind"] for e in starts} == {"storm", "promotion"}
    assert all(e["value"] == 0.15 for e in starts if e["event_type"] == "promotion_start")


# ------------------------------------------------------------------------------------- supply
def test_stockouts_and_lost_sales_when_demand_outruns_restocks() -> None:
    config = calm(supply={"reorder_point": 5, "order_quantity": 20, "lead_time_hours": 36})
    sink, summary = simulate(config)
    lost, stockouts, restocks = (shop_events(sink, k) for k in ("lost_sale", "stockout", "restock"))
    assert lost and stockouts and restocks
    assert summary.lost_sales == len(lost) and summary.stockouts == len(stockouts)
    # Stock bookkeeping: replay the events and purchases; stock never goes negative, and a lost
    # sale only happens when the stock did not cover the line.
    catalogue = load_catalogue(config.catalogue_file)
    level = {p.product_id: p.inventory for p in catalogue.products}
    stream = sorted(
        [(r["transaction_time"], 1, "buy", r) for r in purchases(sink)]
        + [(e["event_time"], 0 if e["event_type"] == "restock" else 2, e["event_type"], e) for e in shop_events(sink)
           if e["event_type"] in ("restock", "lost_sale", "stockout")],
        key=lambda x: (x[0], x[1]),
    )
    for _, _, kind, item in stream:
        pid = item["product_id"]
        if kind == "buy":
            level[pid] -= item["quantity"]
            assert level[pid] >= 0
        elif kind == "restock":
            details = json.loads(item["details"])
            assert details["existing_level"] == level[pid]
            level[pid] += item["quantity"]
            ordered = parse_timestamp(details["ordered_at"])
            assert parse_timestamp(item["event_time"]) - ordered == timedelta(hours=36)
        elif kind == "lost_sale":
            details = json.loads(item["details"])
            assert details["available"] < details["requested"]
    assert len(sink.of("inventories")) == len(restocks)  # demo.inventories keeps getting every restock


def test_no_stockout_or_lost_sale_when_restocks_keep_up() -> None:
    config = calm(supply={"reorder_point": 20, "order_quantity": 1000, "lead_time_hours": 0})
    sink, summary = simulate(config)
    assert not shop_events(sink, "lost_sale") and not shop_events(sink, "stockout")
    assert summary.lost_sales == summary.stockouts == 0 and summary.restocks > 0


def test_a_supply_hold_delays_deliveries_of_its_category_until_it_ends() -> None:
    config = calm(supply={"reorder_point": 30, "order_quantity": 100, "lead_time_hours": 1},
                  anomalies=[{"kind": "supply", "day": 0, "start": "00:00", "hours": 72,
                              "category": "Supercharged Smoothies"}])
    sink, _ = simulate(config)
    sc = [e for e in shop_events(sink, "restock") if e["category"] == "Supercharged Smoothies"]
    assert sc and all(e["event_time"] >= "2026-01-08 00:00:00.000000" for e in sc)
    assert any(e["category"] == "Supercharged Smoothies" for e in shop_events(sink, "stockout"))


# ------------------------------------------------------------------------------ price changes
def test_price_and_cogs_changes_publish_versions_purchases_follow() -> None:
    config = calm(price_changes=[{"day": 2, "time": "12:00", "product_id": "CS01", "price": 5.49},
                                 {"day": 3, "time": "00:00", "category": "Indulgent Smoothies", "cogs": 2.5}])
    sink, summary = simulate(config, catalogue=None)
    products = sink.of("products")
    assert all(p["event_time"] == "2026-01-05 00:00:00.000000" for p in products[:27])
    first_purchase = min(r["transaction_time"] for r in purchases(sink))
    assert products[0]["event_time"] <= first_purchase  # every purchase has a version in force
    versions = products[27:]
    assert [(v["product_id"], v["price"], v["event_time"]) for v in versions[:1]] == [
        ("CS01", 5.49, "2026-01-07 12:00:00.000000")]
    assert {v["product_id"] for v in versions[1:]} == {"IS01", "IS02", "IS03", "IS04"}
    assert all(v["cogs"] == 2.5 for v in versions[1:])
    for r in purchases(sink):
        if r["product_id"] == "CS01":
            assert r["price"] == (5.49 if r["transaction_time"] >= "2026-01-07 12:00:00" else 4.99)
    changes = shop_events(sink, "price_change") + shop_events(sink, "cogs_change")
    assert len(changes) == 5 == summary.price_changes
    assert shop_events(sink, "price_change")[0]["previous_value"] == 4.99


# ------------------------------------------------------------------------------ reproducibility
def test_same_seed_same_events_and_the_schema_of_every_shop_event() -> None:
    config = make_config()
    one, _ = simulate(config, seed=99)
    two, _ = simulate(config, seed=99)
    assert one.events == two.events
    other, _ = simulate(config, seed=100)
    assert other.of("purchases") != one.of("purchases")
    for event in one.of("events"):
        assert list(event) == field_names(EVENT)
        assert event["event_type"] in EVENT_TYPES
        json.loads(event["details"])
    assert {e["event_type"] for e in one.of("events")} == set(EVENT_TYPES)  # the default week shows them all


def test_an_unsimulated_run_is_unchanged_by_the_shop_settings(config: GeneratorConfig) -> None:
    catalogue = load_catalogue(config.catalogue_file)
    plain = RecordingSink()
    run_generator(build_model(config, catalogue, 1, datetime(2026, 1, 1)), plain, transactions=300)
    without = parse_config({k: v for k, v in BASE.items() if k != "shop"}, CONFIG_FILE, environ={})
    other = RecordingSink()
    run_generator(build_model(without, catalogue, 1, datetime(2026, 1, 1)), other, transactions=300)
    assert plain.events == other.events and not plain.of("events")


# ---------------------------------------------------------------------------------- settings
@pytest.mark.parametrize(
    ("shop", "key"),
    [
        ({"colour": 1}, "shop.colour"),
        ({"profile": "nope"}, "shop.profile"),
        ({"profiles": {"x": {"transactions_per_hour": 1, "opening_hours": ALWAYS_OPEN, "hour_weights": [1] * 23}},
          "profile": "x"}, "shop.profiles.x.hour_weights"),
        ({"profiles": {"x": {"transactions_per_hour": 1, "opening_hours": {**ALWAYS_OPEN, "monday": "19:00-07:00"},
                             "hour_weights": [1] * 24}}, "profile": "x"}, "shop.profiles.x.opening_hours.monday"),
        ({"anomalies": [{"kind": "promotion", "day": 1, "start": "10:00", "hours": 2, "category": "X", "factor": 2}]},
         "shop.anomalies[0].discount"),
        ({"anomalies": [{"kind": "storm", "day": 1, "start": "25:00", "hours": 2}]}, "shop.anomalies[0].start"),
        ({"anomalies": [{"kind": "storm", "start": "10:00", "hours": 2}]}, "shop.anomalies[0]"),
        ({"anomalies": [{"kind": "storm", "day": 1, "start": "10:00", "hours": 2, "factor": 3}]},
         "shop.anomalies[0].factor"),
        ({"supply": {"lead_time_hours": -1}}, "shop.supply.lead_time_hours"),
        ({"price_changes": [{"day": 1, "time": "10:00", "product_id": "CS01"}]}, "shop.price_changes[0]"),
        ({"random_anomalies": {"promotion": {"per_week": 1}}}, "shop.random_anomalies.promotion.discounts"),
    ],
)
def test_wrong_shop_settings_name_the_file_and_key(shop: dict, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        make_config(**shop)
    assert err.value.key == key and err.value.file == str(CONFIG_FILE)


def test_references_to_the_catalogue_are_checked_when_a_run_starts() -> None:
    config = make_config(anomalies=[{"kind": "supply", "day": 0, "start": "00:00", "hours": 1, "category": "Tea"}])
    model = build_model(config, load_catalogue(config.catalogue_file), 1)
    with pytest.raises(ConfigError, match="Tea") as err:
        build_simulation(model, 7)
    assert err.value.key == "shop.anomalies[0].category"


def test_the_shop_cannot_be_set_from_the_environment() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(BASE, CONFIG_FILE, environ={"STREAMSTACK_GENERATOR_SHOP": "x"})
    assert err.value.key == "STREAMSTACK_GENERATOR_SHOP"
