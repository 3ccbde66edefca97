"""Superset benchmark: time for the Smoothie Cafe Daily Sales dashboard to render every chart.

Runs against the stack's Kafka, Pinot and Superset (`streamstack stack up`) and Debian's headless
Chromium (selenium + chromium-driver): loads ``--rows`` enriched purchases (default 1,000,000)
into one bench copy of purchasesEnriched and ``--ref-rows`` (default 10,000) into another, each on
a topic of its own, published straight to the topic (no Spark: the rows are what the enrichment
writes) and dropped at the end. The dashboards are imported pointed at each copy (salted: the real
ones are not touched; Superset's data cache is off, so every load queries Pinot). Then ``--rounds``
rounds of ``--repeat`` loads, alternating the two dashboards load by load (same browser, JS bundles
warm), each load a fresh page until all 8 charts have rendered (big numbers, table, ECharts
canvases; any chart error fails the run), timed by the page's own clock from navigation start
to the moment a watcher in the page saw every chart rendered (not the harness's polling). Per
round: p50/p95 of each; reported: the best round's (by p95) and the spread over rounds, and the
big/reference ratio of p50. The bench's Superset copies and Pinot tables are deleted at the end.
``python bench/superset.py --rows 1000000 --ref-rows 10000 --rounds 3 --repeat 10``
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))  # the tests' support package (headless browser)

from pinot import bench_table, pct, record  # noqa: E402
from support.superset_browser import login, open_dashboard, rendered_seconds, start_browser  # noqa: E402

from streamstack.clients import admin_client, producer  # noqa: E402
from streamstack.pinot import local_client  # noqa: E402
from streamstack.pinot.endpoints import PinotEndpoints, pinot_credentials  # noqa: E402
from streamstack.pinot.ingestion import wait_caught_up  # noqa: E402
from streamstack.settings import Settings  # noqa: E402
from streamstack.superset.bundle import QUERY_TIMEOUT_S, build_bundle, load_definition, pinot_uri  # noqa: E402
from streamstack.superset.client import SupersetClient  # noqa: E402
from streamstack.superset.endpoints import ADMIN_USER, SupersetEndpoints  # noqa: E402
from streamstack.superset.publish import definition_file, publish  # noqa: E402

HOUR = "CAST(DATE_TRUNC('hour', CAST(transaction_time AS TIMESTAMP)) AS TIMESTAMP)"
MINUTE = "CAST(DATE_TRUNC('minute', CAST(transaction_time AS TIMESTAMP)) AS TIMESTAMP)"
REFERENCE = [
    "SELECT DISTINCTCOUNT(transaction_id) FROM {t}",
    "SELECT SUM(purchase_quantity) FROM {t}",
    "SELECT SUM(total_purchase) FROM {t}",
    "SELECT SUM(purchase_quantity * (product_price - product_cogs)) FROM {t}",
    f"SELECT {HOUR}, product_category, SUM(total_purchase) FROM {{t}} GROUP BY {HOUR}, product_category LIMIT 10000",
    "SELECT product_category, SUM(purchase_quantity) FROM {t} GROUP BY product_category LIMIT 100",
    f"SELECT {MINUTE}, SUM(total_purchase) FROM {{t}} GROUP BY {MINUTE} LIMIT 10000",
    "SELECT CASE WHEN contains_fruit = true THEN 'Fruit-based' ELSE 'Non-fruit-based' END, SUM(purchase_quantity) "
    "FROM {t} GROUP BY CASE WHEN contains_fruit = true THEN 'Fruit-based' ELSE 'Non-fruit-based' END LIMIT 10",
]


def load(pinot, admin, settings: Settings, suffix: str, rows: int, partitions: int) -> tuple[str, str, int, float]:
    """A bench purchasesEnriched copy with ``rows`` rows: (topic, table, rows in Pinot, seconds)."""
    topic, name, spec = bench_table(pinot, admin, settings, "purchasesEnriched", suffix, partitions)
    t0 = time.monotonic()
    p = producer({**settings.kafka_client_config(), "linger.ms": 20, "batch.size": 1_000_000})
    rnd = random.Random(5)
    for i in range(rows):
        tx = f"b{i}"
        while True:
            try:
                p.produce(topic, key=tx, value=json.dumps(record(i, tx, rnd)))
                break
            except BufferError:
                p.poll(0.5)
        if i % 10_000 == 0:
            p.poll(0)
    assert p.flush(300) == 0
    state = wait_caught_up(pinot, spec, settings.kafka_client_config(), timeout=1800)
    return topic, name, state.rows, time.monotonic() - t0


def stats(values: list[float]) -> dict[str, float]:
    return {"p50": round(pct(values, 50), 2), "p95": round(pct(values, 95), 2), "best": round(min(values), 2),
            "stdev": round(statistics.pstdev(values), 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--ref-rows", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=10, help="loads of each dashboard per round")
    ap.add_argument("--partitions", type=int, default=3)
    ap.add_argument("--pinot-timeout", type=float, default=QUERY_TIMEOUT_S,
                    help="seconds pinotdb and the broker give a query (default: the product's)")
    args = ap.parse_args()

    settings = Settings.from_env()
    pinot = local_client(settings)
    admin = admin_client(settings.kafka_client_config())
    e = PinotEndpoints.from_env(settings)
    s = SupersetEndpoints.from_env(settings)
    superset = SupersetClient(s.url, ADMIN_USER, s.password())
    made: list[tuple[str, str]] = []
    imported = []
    driver = None
    try:
        boards = {}
        for label, rows in (("big", args.rows), ("ref", args.ref_rows)):
            suffix = uuid.uuid4().hex[:6]
            topic, name, loaded, seconds = load(pinot, admin, settings, suffix, rows, args.partitions)
            made.append((topic, name))
            print(f"{label}: loaded {loaded:,} rows into {name} in {seconds:.0f}s", flush=True)
            definition = load_definition(definition_file(settings))
            uri = pinot_uri(f"{e.host}:{e.broker_port}", f"{e.host}:{e.controller_port}", args.pinot_timeout,
                            auth=pinot_credentials(settings))
            # Every dataset gets a table name of its own: Superset's SQLite metadata keeps a unique
            # index on tables.table_name alone, so a salted copy on the same name fails to import.
            bundle = build_bundle(definition,
                                  schemas_dir=settings.config_dir / "pinot" / "schemas", database_uri=uri,
                                  tables={**{k: f"{k}_bench_{suffix}" for k in definition["datasets"]}, "purchasesEnriched": name},
                                  salt=f"bench{suffix}", title_suffix=f" [bench {label}]")  # fmt: skip
            imported.append(bundle)
            daily = publish(superset, bundle).dashboards["daily_sales"]
            boards[label] = (daily, loaded)
        driver = start_browser()
        login(driver, s.url, ADMIN_USER, s.password())
        for daily, _ in boards.values():
            open_dashboard(driver, daily["url"], daily["charts"])  # warm-up: JS bundles cached
        rounds: list[dict[str, list[float]]] = []
        for _ in range(args.rounds):
            times: dict[str, list[float]] = {label: [] for label in boards}
            walls: dict[str, list[float]] = {label: [] for label in boards}
            for _ in range(args.repeat):
                for label, (daily, _) in boards.items():
                    start = time.monotonic()
                    open_dashboard(driver, daily["url"], daily["charts"])
                    walls[label].append(time.monotonic() - start)
                    times[label].append(rendered_seconds(driver))
            rounds.append(times)
            print(json.dumps({**{k: stats(v) for k, v in times.items()},
                              "harness_wall_p50": {k: round(pct(v, 50), 2) for k, v in walls.items()}}), flush=True)  # fmt: skip
        best = {label: min((stats(r[label]) for r in rounds), key=lambda x: x["p95"]) for label in boards}
        spread = {label: {"p50": [min(stats(r[label])["p50"] for r in rounds), max(stats(r[label])["p50"] for r in rounds)],
                          "p95": [min(stats(r[label])["p95"] for r in rounds), max(stats(r[label])["p95"] for r in rounds)]}
                  for label in boards}  # fmt: skip
        print(json.dumps({"rows": {k: v[1] for k, v in boards.items()}, "rounds": args.rounds,
                          "repeat": args.repeat, "best_round": best, "spread_over_rounds": spread,
                          "ratio_p50_big_over_ref": round(best["big"]["p50"] / best["ref"]["p50"], 2)},
                         indent=1), flush=True)  # fmt: skip
        print(json.dumps({"reference_sql_s": reference_sql(pinot, made[0][1], args.pinot_timeout)}))
    finally:
        if driver is not None:
            driver.quit()
        for bundle in imported:  # else they stay on the user's Superset, pointing at dropped tables
            superset.delete_bundle(bundle)
        for topic, name in made:
            pinot.drop_table(name)
            admin.delete_topics([topic])


def reference_sql(pinot, name: str, timeout: float = 0) -> dict[str, float]:
    """The 8 charts' aggregations sent straight to the broker on the big table (what Pinot alone takes)."""
    prefix = f"SET timeoutMs = {int(timeout * 1000)}; " if timeout else ""
    runs = []
    for _ in range(5):
        start = time.monotonic()
        for sql in REFERENCE:
            pinot.query_table(prefix + sql.format(t=name))
        runs.append(time.monotonic() - start)
    return {"p50": round(pct(runs, 50), 3), "best": round(min(runs), 3)}


if __name__ == "__main__":
    main()
