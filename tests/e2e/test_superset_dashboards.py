"""After the pipeline (test_platform): the dashboards `make demo` leaves, in a real browser, match Pinot.

The `streaming_platform` run published them (task `publish_dashboards`); here Chromium opens each
of the three, waits for every chart, fails on any chart error, and compares the daily dashboard's
KPI tiles with Pinot's SQL on the real purchasesEnriched table. Runs after test_platform (file
order), when the scheduled chain has finished writing.
"""

from __future__ import annotations

from support.superset_browser import login, open_dashboard, screenshot, start_browser

from streamstack.airflow_client import AirflowClient
from streamstack.pinot import local_client
from streamstack.stack import Stack
from streamstack.superset.client import SupersetClient
from streamstack.superset.endpoints import ADMIN_USER, SupersetEndpoints


def test_demo_dashboards_render_and_match_pinot(platform: Stack, airflow: AirflowClient) -> None:
    runs = airflow.request("GET", "/dags/streaming_platform/dagRuns", params={"order_by": "-start_date", "limit": 1})
    run_id = runs["dag_runs"][0]["dag_run_id"]
    report = airflow.xcom("streaming_platform", run_id, "publish_dashboards")
    assert set(report["dashboards"]) == {"drink_purchases", "daily_sales", "pipeline_health"}, report
    endpoints = SupersetEndpoints.from_env(platform.settings)
    client = SupersetClient(endpoints.url, ADMIN_USER, endpoints.password())
    ids = {d["id"] for d in client.dashboards()}
    assert {b["id"] for b in report["dashboards"].values()} <= ids

    (kpi,) = local_client(platform.settings).query(
        "SELECT DISTINCTCOUNT(transaction_id) AS tx, SUM(purchase_quantity) AS drinks, SUM(total_purchase) AS sales, "
        "SUM(purchase_quantity * (product_price - product_cogs)) AS gp FROM purchasesEnriched"
    )
    assert kpi["tx"] > 0
    driver = start_browser()
    try:
        login(driver, client.url, ADMIN_USER, endpoints.password())
        for key, board in report["dashboards"].items():
            charts = open_dashboard(driver, board["url"], expected_charts=board["charts"])
            screenshot(driver, platform.settings.state_dir / "screenshots" / f"demo-{key}.png")
            if key == "daily_sales":
                tiles = {c.title: c.text.splitlines()[1] for c in charts if c.title in
                         ("Sales Transactions", "Drinks Sold", "Sales", "Gross Profit")}  # fmt: skip
                assert tiles == {
                    "Sales Transactions": f"{kpi['tx']:,d}",
                    "Drinks Sold": f"{int(kpi['drinks']):,d}",
                    "Sales": f"${kpi['sales']:,.2f}",
                    "Gross Profit": f"${kpi['gp']:,.2f}",
                }, tiles
    finally:
        driver.quit()
