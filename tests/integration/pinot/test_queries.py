"""The named queries, the runningTotals upsert and `streamstack query`, against the real Pinot and Kafka.

Each test gets its own suffixed tables (``pinot_tables``); the named queries are pointed at them
by renaming the table after FROM in their SQL, nothing else of the SQL changes. Expected values are
computed in plain Python over the records produced.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from statistics import fmean
from typing import Any

import pytest
from click.testing import CliRunner
from support.pinot import TablesOnDemand
from support.pinot_records import catalogue, enriched, produce, product_record

from streamstack import events
from streamstack.cli import cli
from streamstack.pinot import QUERIES, PinotClient, run_named
from streamstack.pinot.ingestion import wait_caught_up
from streamstack.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def named_on_test_tables(monkeypatch: pytest.MonkeyPatch, pinot_tables: TablesOnDemand) -> None:
    """Point every named query at this test's suffixed tables (only the table name changes)."""
    renamed = pinot_tables.names()
    for query in list(QUERIES.values()):
        sql = re.sub(r"\bFROM (\w+)", lambda m: f"FROM {renamed[m.group(1)]}", query.sql)
        assert sql != query.sql
        monkeypatch.setitem(QUERIES, query.name, replace(query, sql=sql))


def products_of(kafka: Settings) -> list[dict[str, str]]:
    """Nine products of the catalogue across the four categories (prices 4.99 to 5.99)."""
    return catalogue(kafka)[::3]



def per_product(records: list[dict[str, Any]], quantity: str) -> dict[str, tuple[int, float, int]]:
    """product_id -> (quantity, sales rounded to cents, lines), best sales first."""
    totals: dict[str, list[Any]] = defaultdict(lambda: [0, 0.0, 0])
    for r in records:
        t = totals[r["product_id"]]
        t[0] += r[quantity]
        t[1] += r["total_purchase"]
        t[2] += 1
    result = {pid: (q, round(s, 2), n) for pid, (q, s, n) in totals.items()}
    sales = [s for _, s, _ in result.values()]
    assert len(set(sales)) == len(sales), "test data must not tie on sales (the order would be open)"
    return dict(sorted(result.items(), key=lambda item: -item[1][1]))


def test_named_queries_match_python_aggregates(
    kafka: Settings,
    pinot: PinotClient,
    pinot_tables: TablesOnDemand,
    named_on_test_tables: None,
) -> None:
    products = products_of(kafka)
    now = datetime.now(UTC)
    # Every product once, then three re-published (one cheaper): only the latest version counts.
    latest = {p["ID"]: (float(p["Price"]), float(p["COGS"])) for p in products}
    versions = [product_record(p, now - timedelta(seconds=60), *latest[p["ID"]]) for p in products]
    for p, delta in zip(products[:3], (1.00, -0.50, 0.25), strict=True):
        price, cogs = round(float(p["Price"]) + delta, 2), round(float(p["COGS"]) + 0.10, 2)
        latest[p["ID"]] = (price, cogs)
        versions.append(product_record(p, now - timedelta(seconds=30), price, cogs))
    # The raw purchases table reads the validated (enriched) topic too, so one set of lines
    # feeds both tables; both deduplicate on (transaction_id, line_number): every 7th line twice.
    enriched_lines = enriched(40, products, seed=11)
    lines = [events.purchase_from_enriched(r) for r in enriched_lines]

    specs = {name: pinot_tables[name] for name in ("products", "purchases", "purchasesEnriched")}
    assert specs["purchases"].topic == specs["purchasesEnriched"].topic
    produce(kafka, specs["products"].topic, "product_id", versions)
    produce(kafka, specs["purchasesEnriched"].topic, "transaction_id", enriched_lines + enriched_lines[::7])
    rows_expected = {
        "products": len(products),
        "purchases": len(lines),
        "purchasesEnriched": len(enriched_lines),
    }
    for name, spec in specs.items():
        state = wait_caught_up(pinot, spec, kafka.kafka_client_config(), timeout=120)
        assert state.rows == rows_expected[name], name

    [summary] = run_named(pinot, "product-summary")
    prices, cogs = [price for price, _ in latest.values()], [c for _, c in latest.values()]
    assert summary["products"] == len(products)
    assert summary["avg_price"] == pytest.approx(fmean(prices), abs=1e-9)
    assert summary["avg_cogs"] == pytest.approx(fmean(cogs), abs=1e-9)
    assert summary["avg_gross_profit"] == pytest.approx(fmean(prices) - fmean(cogs), abs=1e-9)

    expected = per_product(lines, "quantity")
    top = run_named(pinot, "top-products")
    assert [r["product_id"] for r in top] == list(expected)
    assert {r["product_id"]: (r["quantity"], round(r["sales"], 2)) for r in top} == {
        pid: (q, s) for pid, (q, s, _) in expected.items()
    }
    assert {r["product_id"]: r["avg_sale"] for r in top} == pytest.approx(
        {pid: s / n for pid, (_, s, n) in expected.items()}, abs=1e-6
    )
    best = run_named(pinot, "top-products", limit=3)
    assert [(r["product_id"], r["quantity"], round(r["sales"], 2)) for r in best] == [
        (pid, q, s) for pid, (q, s, _) in list(expected.items())[:3]
    ]

    expected_enriched = per_product(enriched_lines, "purchase_quantity")
    names = {p["ID"]: (p["Item"], p["Category"]) for p in products}
    top_enriched = run_named(pinot, "top-products-enriched")
    assert [
        (r["product_id"], r["product_name"], r["product_category"], r["quantity"], round(r["sales"], 2))
        for r in top_enriched
    ] == [(pid, *names[pid], q, s) for pid, (q, s, _) in expected_enriched.items()]


def test_running_totals_keep_one_row_per_product_with_the_latest_values(
    kafka: Settings, pinot: PinotClient, pinot_tables: TablesOnDemand
) -> None:
    spec = pinot_tables["runningTotals"]
    start = datetime.now(UTC) - timedelta(minutes=2)
    first = {"CS01": (3, 7, 34.93), "SF02": (1, 2, 11.98), "SC01": (5, 9, 53.91), "IS02": (2, 2, 10.98)}
    # Different values for every product, one lower than before: the latest wins, not the largest.
    second = {"CS01": (4, 9, 44.91), "SF02": (6, 11, 65.89), "SC01": (5, 10, 59.90), "IS02": (1, 1, 5.49)}

    def batch(values: dict[str, tuple[int, int, float]], moment: datetime) -> list[dict[str, Any]]:
        return [
            {
                "event_time": events.format_timestamp(moment),
                "product_id": pid,
                "transactions": transactions,
                "quantities": quantities,
                "sales": sales,
            }
            for pid, (transactions, quantities, sales) in values.items()
        ]

    sql = f"SELECT product_id, transactions, quantities, sales FROM {spec.name} LIMIT 100"

    def table() -> dict[str, tuple[int, int, float]]:
        rows = pinot.query(sql)
        assert len(rows) == len({r["product_id"] for r in rows}), f"duplicate product rows: {rows}"
        return {r["product_id"]: (r["transactions"], r["quantities"], r["sales"]) for r in rows}

    produce(kafka, spec.topic, "product_id", batch(first, start))
    assert wait_caught_up(pinot, spec, kafka.kafka_client_config(), timeout=120).rows == len(first)
    assert table() == first

    produce(kafka, spec.topic, "product_id", batch(second, start + timedelta(minutes=1)))
    assert wait_caught_up(pinot, spec, kafka.kafka_client_config(), timeout=120).rows == len(second)
    assert table() == second
    # Both versions are stored; the upsert only hides the older one.
    assert pinot.query_table(f"SELECT COUNT(*) FROM {spec.name} OPTION(skipUpsert=true)")[1] == [
        [len(first) + len(second)]
    ]


def test_query_command_prints_named_and_sql_results(
    kafka: Settings,
    pinot: PinotClient,
    pinot_tables: TablesOnDemand,
    named_on_test_tables: None,
) -> None:
    spec = pinot_tables["purchases"]
    products = products_of(kafka)
    validated = enriched(30, products, seed=5)
    lines = [events.purchase_from_enriched(r) for r in validated]
    produce(kafka, spec.topic, "transaction_id", validated)
    assert wait_caught_up(pinot, spec, kafka.kafka_client_config(), timeout=120).rows == len(lines)
    expected = per_product(lines, "quantity")
    runner = CliRunner()

    named = runner.invoke(cli, ["query", "top-products", "--limit", "3"])
    assert named.exit_code == 0, named.output
    printed = {
        pid: [line for line in named.stdout.splitlines() if pid in line]
        for pid in (p["ID"] for p in products)
    }
    best = list(expected)[:3]
    for pid in best:
        quantity, sales, _ = expected[pid]
        [line] = printed[pid]
        cells = map(re.escape, (pid, f"{quantity:,.2f}", f"{sales:,.2f}"))
        assert re.search(r"\W+".join(cells) + r"\W", line), line
    assert all(not found for pid, found in printed.items() if pid not in best), named.stdout

    free = runner.invoke(
        cli,
        ["query", "--json", "--sql", f"SELECT COUNT(*) AS lines, SUM(quantity) AS units FROM {spec.name}"],
    )
    assert free.exit_code == 0, free.output
    assert json.loads(free.stdout) == [{"lines": len(lines), "units": sum(r["quantity"] for r in lines)}]
