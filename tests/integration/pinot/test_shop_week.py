"""Simulated days through Spark into Pinot: the shop's shape, a promotion, a stockout and gross profit across a price change.

Two simulated days (Monday and Tuesday) of the ``cafe`` profile at load speed, with a promotion
(its discount), a supply hold on the Supercharged smoothies (their deliveries wait: stockouts),
a new price and COGS for the Classic smoothies at noon of day 1, and a storm at 09:00-12:00 on
each day — announced on day 0, unannounced on day 1 (its ``anomaly_*`` events are not published).
The Spark enrichment joins each purchase with the product version in force at its time; Pinot
ingests the enriched topic and the events topic. Then, on the real Pinot:

- the named queries (``streamstack query``) show the shape: sales only in opening hours and hours
  weighted as the profile says, the promotion's discount on its category only, the stockouts;
- gross profit per day (``daily-gross-profit``) equals the one computed here from the versions
  valid at each purchase's time, and differs from what joining the latest version would give;
- the quality gate on a Pinot window passes for the two days, and warns (volume far below the
  profile) for the unannounced storm only, not for the announced one.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from support.spark_testkit import run_job

from streamstack.generator import build_model, build_simulation, load_catalogue, load_config, run_generator
from streamstack.generator.kafka import KafkaSink
from streamstack.pinot import QUERIES, PinotClient
from streamstack.pinot.ingestion import wait_caught_up
from streamstack.pinot.tables import TableSpec
from streamstack.quality import CheckOptions, QualityRunner, read_pinot_window
from streamstack.quality.volume import VOLUME_NAME, pinot_volume_expectation
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs
from streamstack.topics.offsets import end_offsets

pytestmark = pytest.mark.integration
START = date(2026, 2, 2)  # a Monday
DAY0 = datetime(START.year, START.month, START.day, tzinfo=UTC)
HELD = "Supercharged Smoothies"
PROMOTED = "Superfoods Smoothies"


@pytest.fixture
def changing_shop(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = copy.deepcopy(yaml.safe_load((settings.config_dir / "generator.yaml").read_text()))
    data["catalogue_file"] = str(settings.config_dir / "products.csv")
    data["shop"]["anomalies"] = [
        {"kind": "supply", "day": 0, "start": "00:00", "hours": 48, "category": HELD},
        {"kind": "promotion", "day": 0, "start": "12:00", "hours": 4, "category": PROMOTED, "factor": 2.0,
         "discount": 0.2},
        {"kind": "storm", "day": 0, "start": "09:00", "hours": 3, "factor": 0.3},
        {"kind": "storm", "day": 1, "start": "09:00", "hours": 3, "factor": 0.3},
    ]
    data["shop"]["random_anomalies"] = {}
    data["shop"]["price_changes"] = [{"day": 1, "time": "12:00", "category": "Classic Smoothies",
                                      "price": 5.29, "cogs": 1.60}]
    file = tmp_path / "generator.yaml"
    file.write_text(yaml.safe_dump(data))
    monkeypatch.setenv("STREAMSTACK_GENERATOR_CONFIG", str(file))
    return file


class Memory:
    destination = "memory"

    def __init__(self) -> None:
        self.bytes_sent = 0
        self.purchases: list[dict] = []
        self.products: list[dict] = []
        self.events: list[dict] = []

    def send_purchase(self, transaction_id: str, value: bytes) -> None:
        self.purchases.append(json.loads(value))

    def send_record(self, kind: str, record: dict) -> None:
        if kind == "products":
            self.products.append(record)
        elif kind == "events":
            self.events.append(record)

    def close(self) -> None:
        pass


class Unannounced:
    """The Kafka sink, minus the anomaly events of one episode: a storm nobody announced."""

    def __init__(self, sink: KafkaSink, subject: str) -> None:
        self.sink, self.subject = sink, subject
        self.destination = sink.destination

    @property
    def bytes_sent(self) -> int:
        return self.sink.bytes_sent

    def send_purchase(self, transaction_id: str, value: bytes) -> None:
        self.sink.send_purchase(transaction_id, value)

    def send_record(self, kind: str, record: dict) -> None:
        if not (kind == "events" and record["subject"] == self.subject):
            self.sink.send_record(kind, record)

    def close(self) -> None:
        self.sink.close()


def _gross_profit_per_day(purchases: list[dict], versions: list[dict], *, in_force: bool) -> dict[str, float]:
    by_product = defaultdict(list)
    for v in sorted(versions, key=lambda v: v["event_time"]):
        by_product[v["product_id"]].append(v)
    out: dict[str, float] = defaultdict(float)
    for p in purchases:
        candidates = by_product[p["product_id"]]
        if in_force:
            version = [v for v in candidates if v["event_time"] <= p["transaction_time"]][-1]
        else:
            version = candidates[-1]
        out[p["transaction_time"][:10]] += p["quantity"] * (version["price"] - version["cogs"])
    return {day: round(value, 2) for day, value in out.items()}


def _named(pinot: PinotClient, tables: dict[str, TableSpec], name: str) -> list[dict]:
    """A named query of ``streamstack query`` on this test's tables (only the table name changes)."""
    sql = re.sub(r"\bFROM (\w+)", lambda m: f"FROM {tables[m.group(1)].name}", QUERIES[name].sql)
    return pinot.query(sql.format(limit=1000))


def _day(value: object) -> str:
    """DATETRUNC('DAY', ...) as Pinot returns it (epoch millis or a timestamp text) -> YYYY-MM-DD."""
    if isinstance(value, int | float) or str(value).isdigit():
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC).strftime("%Y-%m-%d")
    return str(value)[:10]


def test_a_simulated_shop_through_spark_into_pinot(
    kafka: Settings, kafka_config: dict, fresh_topics: TopicSpecs, pinot: PinotClient,
    pinot_tables: dict[str, TableSpec], changing_shop: Path, tmp_path: Path,
) -> None:
    config = load_config(changing_shop)
    catalogue = load_catalogue(config.catalogue_file)

    def run(sink):
        model = build_model(config, catalogue, 31)
        return run_generator(model, sink, mode="load", simulation=build_simulation(model, 2, START))

    summary = run(Unannounced(KafkaSink(kafka_config, fresh_topics, config.producer), "storm-2"))
    expected = Memory()
    run(expected)
    assert summary.price_changes == 22  # 11 Classic products, price and COGS
    assert {p["member_discount"] for p in expected.purchases} >= {0.0, 0.1, 0.2}
    published_events = [e for e in expected.events if e["subject"] != "storm-2"]

    run_job("purchases_enrichment", kafka, fresh_topics, tmp_path / "ck", timeout=600)
    assert sum(end_offsets(kafka_config, fresh_topics["purchases_invalid"].name).values()) == 0
    enriched = wait_caught_up(pinot, pinot_tables["purchasesEnriched"], kafka_config, timeout=300)
    assert enriched.rows == summary.purchases
    assert wait_caught_up(pinot, pinot_tables["events"], kafka_config, timeout=300).rows == len(published_events)

    # Gross profit per day, in Pinot, from the versions valid at each purchase's time.
    actual = {_day(r["day"]): round(r["gross_profit"], 2) for r in _named(pinot, pinot_tables, "daily-gross-profit")}
    right = _gross_profit_per_day(expected.purchases, expected.products, in_force=True)
    assert actual == pytest.approx(right, abs=0.05)
    wrong = _gross_profit_per_day(expected.purchases, expected.products, in_force=False)
    # Margin 3.49 before, 3.69 after: joining the latest version would overstate day 0 by ~0.20 a drink.
    assert abs(wrong["2026-02-02"] - right["2026-02-02"]) > 10  # the test can tell the versions apart
    cutoff = int((DAY0 + timedelta(days=1, hours=12)).timestamp()) * 1000
    prices = pinot.query(
        f"SELECT product_price, MIN(transaction_timestamp) AS first, MAX(transaction_timestamp) AS last "
        f"FROM {pinot_tables['purchasesEnriched'].name} WHERE product_category = 'Classic Smoothies' "
        f"GROUP BY product_price LIMIT 10")
    by_price = {r["product_price"]: (r["first"], r["last"]) for r in prices}
    assert set(by_price) == {4.99, 5.29} and by_price[4.99][1] < cutoff <= by_price[5.29][0], by_price

    # The day's shape: sales in opening hours only (07:00-19:00 Monday and Tuesday), as weighted.
    hours = {r["hour_of_day"]: r["lines"] for r in _named(pinot, pinot_tables, "sales-by-hour")}
    assert set(hours) == set(range(7, 19)), hours
    assert hours[8] > 1.4 * hours[7] and hours[12] > 1.4 * hours[15], hours  # weights 1.6 vs 0.8, 1.8 vs 0.9
    assert hours[10] < 0.6 * hours[13], hours  # both days' storms (x0.3) at 09:00-12:00; 1.0 vs 1.5

    # The promotion: its 20 % discount on its category's lines, and on no other category's non-members.
    discounted = {(r["product_category"]) for r in _named(pinot, pinot_tables, "discounts")
                  if r["member_discount"] == pytest.approx(0.2) and not r["is_member"]}
    assert discounted == {PROMOTED}

    # The stockouts and lost sales: the held category's, as many as the generator made.
    shortages = _named(pinot, pinot_tables, "shortages")
    stockouts = Counter(e["product_id"] for e in expected.events if e["event_type"] == "stockout")
    assert {r["product_id"]: r["stockouts"] for r in shortages if r["stockouts"]} == dict(stockouts)
    held = {p.product_id for p in catalogue.products if p.category == HELD}
    assert held & set(stockouts), "the supply hold must cause stockouts"
    events = {r["event_type"]: r["events"] for r in _named(pinot, pinot_tables, "shop-events")}
    assert events == dict(Counter(e["event_type"] for e in published_events))

    # The quality gate on Pinot windows: the two days pass; only the unannounced storm warns.
    runner = QualityRunner(kafka, results_root=tmp_path / "q")
    table, events_table = pinot_tables["purchasesEnriched"].name, pinot_tables["events"].name

    def gate(start: datetime, end: datetime):
        volume = pinot_volume_expectation(pinot, start, end, table=events_table)
        assert volume is not None and volume.profile == "cafe"
        batch = read_pinot_window(pinot, start, end, table=table)
        return volume, runner.check(batch, options=CheckOptions(data_docs=False, reference_time=end,
                                                                 max_age_hours=49, volume=volume))

    _, whole = gate(DAY0, DAY0 + timedelta(days=2))
    assert whole.status == "passed", (whole.failed_names, whole.lines())
    announced, calm = gate(DAY0 + timedelta(hours=9), DAY0 + timedelta(hours=12))
    assert announced.announced == ("storm-1",)
    assert calm.status == "passed", calm.lines()
    unannounced, quiet = gate(DAY0 + timedelta(days=1, hours=9), DAY0 + timedelta(days=1, hours=12))
    assert unannounced.announced == ()
    assert quiet.status == "passed_with_warnings" and quiet.failed_names == [VOLUME_NAME], quiet.lines()
