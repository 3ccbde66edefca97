"""Superset benchmark: time for the Smoothie Cafe Daily Sales dashboard to render every chart.

Runs against the stack's Kafka, Pinot and Superset (`streamstack stack up`) and Debian's headless
Chromium: loads ``--rows`` enriched purchases into a bench copy of purchasesEnriched (topic of its
own, dropped at the end), imports the dashboards pointed at it (salted: the real ones are not
touched), then alternates rounds of

- **dashboard**: open the dashboard in a fresh page load, until all 8 charts have rendered
  (the same wait as the browser tests: big numbers, table, ECharts canvases, no error);
- **reference**: the 8 charts' aggregations sent straight to the Pinot broker, one after another,

and reports p50/p95 of each and their ratio. ``python bench/superset.py --rows 1000000 --repeat 10``
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
sys.path.insert(0, str(HERE.parent / "tests" / "integration" / "superset"))
sys.path.insert(0, str(HERE.parent / "tests"))  # browser.py, which superset_browser builds on

from pinot import bench_table, pct, record  # noqa: E402
from superset_browser import login, open_dashboard, start_browser  # noqa: E402

from streamstack.clients import admin_client, producer  # noqa: E402
from streamstack.pinot import local_client  # noqa: E402
from streamstack.pinot.endpoints import PinotEndpoints  # noqa: E402
from streamstack.pinot.ingestion import wait_caught_up  # noqa: E402
from streamstack.settings import Settings  # noqa: E402
from streamstack.superset.client import SupersetClient  # noqa: E402
from streamstack.superset.endpoints import ADMIN_USER, SupersetEndpoints  # noqa: E402
from streamstack.superset.publish import make_bundle, publish  # noqa: E402

#: Every dataset of the bundle gets a name of its own: Superset's SQLite metadata keeps a unique
#: index on tables.table_name alone, so a salted copy on the same table name fails to import.
DATASETS = ("purchasesEnriched", "deadLetters", "salesWindows", "runningTotals")
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--partitions", type=int, default=3)
    args = ap.parse_args()

    settings = Settings.from_env()
    pinot = local_client(settings)
    suffix = uuid.uuid4().hex[:6]
    admin = admin_client(settings.kafka_client_config())
    topic, name, spec = bench_table(pinot, admin, settings, "purchasesEnriched", suffix, args.partitions)
    try:
        t0 = time.monotonic()
        p = producer({**settings.kafka_client_config(), "linger.ms": 20, "batch.size": 1_000_000})
        rnd = random.Random(5)
        for i in range(args.rows):
            tx = f"b{i}"
            p.produce(topic, key=tx, value=json.dumps(record(i, tx, rnd)))
            if i % 10_000 == 0:
                p.poll(0)
        assert p.flush(120) == 0
        state = wait_caught_up(pinot, spec, settings.kafka_client_config(), timeout=900)
        print(f"loaded {state.rows:,} rows in {time.monotonic() - t0:.0f}s")

        e = PinotEndpoints.from_env(settings)
        bundle = make_bundle(settings, f"{e.host}:{e.broker_port}", f"{e.host}:{e.controller_port}",
                             tables={**{k: f"{k}_bench_{suffix}" for k in DATASETS}, "purchasesEnriched": name}, salt=f"bench{suffix}", title_suffix=" [bench]")  # fmt: skip
        s = SupersetEndpoints.from_env(settings)
        report = publish(SupersetClient(s.url, ADMIN_USER, s.password()), bundle)
        daily = report.dashboards["daily_sales"]
        driver = start_browser()
        login(driver, s.url, ADMIN_USER, s.password())
        open_dashboard(driver, daily["url"], daily["charts"])  # warm-up: JS bundles cached
        dash, ref = [], []
        for _ in range(args.repeat):
            start = time.monotonic()
            open_dashboard(driver, daily["url"], daily["charts"])
            dash.append(time.monotonic() - start)
            start = time.monotonic()
            for sql in REFERENCE:
                pinot.query_table(sql.format(t=name))
            ref.append(time.monotonic() - start)
        driver.quit()
        d50, d95, r50, r95 = pct(dash, 50), pct(dash, 95), pct(ref, 50), pct(ref, 95)
        print(json.dumps({"rows": state.rows, "repeat": args.repeat, "dashboard_s": {"p50": round(d50, 2),
              "p95": round(d95, 2), "best": round(min(dash), 2), "stdev": round(statistics.pstdev(dash), 2)},
              "reference_s": {"p50": round(r50, 3), "p95": round(r95, 3), "best": round(min(ref), 3)},
              "ratio_p50": round(d50 / r50, 1)}, indent=1))  # fmt: skip
    finally:
        pinot.drop_table(name)
        admin.delete_topics([topic])


if __name__ == "__main__":
    main()
