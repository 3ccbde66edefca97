"""``streamstack demo``: the whole pipeline through a running Airflow, the way a user would.

Starts the embedded stack (Kafka, Pinot, Airflow), triggers the ``streaming_platform`` DAG
through Airflow's REST API (the API the UI uses), follows it task by task, and ends with a
summary read from the run's XCom. On failure it prints which task failed and its log tail.
The stack stays up so the Airflow UI can be explored; ``streamstack stack down`` stops it.
"""

from __future__ import annotations

import os
import time
from typing import Any

import click

from streamstack.settings import Settings

DAG_ID = "streaming_platform"
STATE_STYLE = {"success": "green", "failed": "red", "upstream_failed": "red", "running": "yellow"}


def _show_tasks(states: list, seen: dict[str, str | None]) -> None:
    for ti in states:
        if seen.get(ti.task_id) != ti.state and ti.state not in (None, "scheduled", "queued"):
            click.secho(f"    {time.strftime('%H:%M:%S')}  {ti.task_id:<24} {ti.state}", fg=STATE_STYLE.get(ti.state))
        seen[ti.task_id] = ti.state


def _print_summary(summary: dict[str, Any], settings: Settings, password_file: str, run_id: str) -> None:
    gen = summary["generated"]
    topics = summary["topics"]
    click.secho("\n==> Summary", bold=True)
    click.echo(
        f"    generated   {gen.get('transactions')} transactions, {gen.get('purchases')} purchase lines "
        f"({gen.get('mode')} mode, seed {gen.get('seed')}, {gen.get('events_per_second', 0):,.0f} events/s)"
    )
    if gen.get("simulated_days"):
        click.echo(
            f"    simulated   {gen['simulated_days']} days ({gen.get('profile')} profile) from "
            f"{gen.get('first_event_time')} to {gen.get('last_event_time')}: {gen.get('shop_events')} shop events, "
            f"{gen.get('stockouts')} stockouts, {gen.get('lost_sales')} lost sales, {gen.get('price_changes')} "
            f"price/COGS changes; anomalies: {', '.join(gen.get('anomalies') or []) or 'none'}"
        )
        click.echo("    see them: streamstack query sales-by-hour | daily-gross-profit | discounts | shortages"
                   " | shop-events")
    for name, count in topics.items():
        click.echo(f"    {name:<28} {count:>8} records on the topic (all runs so far)")
    for table, state in summary["pinot"].items():
        fresh = state.get("freshness_s")
        click.echo(
            f"    pinot {table:<22} {state.get('rows'):>8} rows"
            + (f", newest event {fresh:.1f}s old" if isinstance(fresh, int | float) else "")
        )
    click.secho("\n    Top products (Pinot, purchasesEnriched)", bold=True)
    click.echo(f"    {'product':<8} {'name':<28} {'category':<24} {'drinks':>7} {'sales':>10}")
    for row in summary["top_products"]:
        pid, name, category, qty, sales = (list(row) + [None] * 5)[:5]
        click.echo(f"    {pid!s:<8} {name!s:<28} {category!s:<24} {int(qty or 0):>7} {float(sales or 0):>10.2f}")
    quality = summary["quality"]
    colour = {"passed": "green", "failed": "red"}.get(quality.get("status"), "yellow")
    click.secho(
        f"\n    quality gate: {str(quality.get('status')).upper()} on {quality.get('rows_checked')} rows"
        + (f"; failed: {', '.join(quality['failed'])}" if quality.get("failed") else ""),
        fg=colour,
    )
    from streamstack.quality.docs_page import data_docs_url

    click.echo(f"    Data Docs: {settings.airflow_url}{data_docs_url(DAG_ID, run_id, 'quality_gate')}")
    click.secho(f"\n    Airflow UI: {settings.airflow_url}  (user admin, password in {password_file})", bold=True)
    click.echo("    Stop everything with `make down`.")


@click.command()
@click.option("--transactions", default=500, show_default=True, help="Sales transactions to generate.")
@click.option(
    "--mode",
    type=click.Choice(["load", "realistic"]),
    default=None,
    help="realistic: the shop's pauses between sales (divided by --speed); load: as fast as possible. "
         "[default: realistic, or load with --days]",
)
@click.option("--speed", default=100.0, show_default=True, help="Speed-up of realistic mode's pauses.")
@click.option("--days", type=click.IntRange(min=1, max=366),
              help="Simulate this many days of the shop (e.g. 7: a week of opening hours, hourly rhythm, a "
                   "promotion, a storm, an outage, stockouts and price changes; config/generator.yaml `shop`) "
                   "instead of --transactions.")
@click.option("--start-date", help="First simulated day, YYYY-MM-DD (default: shop.start_date).")
@click.option("--profile", help="Volume profile of the simulated days (default: shop.profile).")
@click.option("--timeout", default=1200, show_default=True, help="Seconds to wait for the pipeline.")
@click.option("--live/--no-live", default=True, show_default=True,
              help="End live: the jobs continuous, sales flowing, a supervisor watching, until `make down`.")
def demo(transactions: int, mode: str | None, speed: float, days: int | None, start_date: str | None,
         profile: str | None, timeout: int, live: bool) -> None:
    """Start the local stack, run the whole pipeline through Airflow, then keep it running live."""
    mode = mode or ("load" if days else "realistic")
    from streamstack.airflow_client import AirflowClient
    from streamstack.errors import StreamstackError
    from streamstack.stack import Stack

    settings = Settings.from_env()
    stack = Stack(settings)
    click.secho("==> Starting the embedded stack (Kafka, Pinot, Superset, Airflow, Flink, JupyterLab)", bold=True)
    started = time.monotonic()
    stack.up(lambda line: click.echo(f"    {line}"))
    click.echo(f"    ({time.monotonic() - started:.0f}s)")

    airflow = stack.get("airflow")
    client = AirflowClient(settings.airflow_url, "admin", airflow.password())  # type: ignore[attr-defined]
    click.secho(f"\n==> Waiting for Airflow to parse {DAG_ID}", bold=True)
    client.wait_for_dag(DAG_ID)
    errors = client.import_errors()
    if errors:
        raise StreamstackError(
            "DAG import errors:\n" + "\n".join(f"{e['filename']}: {e['stack_trace'][-800:]}" for e in errors)
        )
    client.set_paused(DAG_ID, False)
    conf: dict[str, Any] = {"transactions": transactions, "mode": mode, "seed": None, "speed": speed,
                            "engine": os.environ.get("STREAMSTACK_ENGINE") or None}  # make demo ENGINE=flink
    if days:
        conf.update(days=days, start_date=start_date, profile=profile)
    run_id = client.trigger(DAG_ID, conf)
    click.secho(f"\n==> Running {DAG_ID} ({run_id})", bold=True)
    seen: dict[str, str | None] = {}
    run = client.wait_for_run(DAG_ID, run_id, timeout=timeout, on_change=lambda s: _show_tasks(s, seen))
    if run["state"] != "success":
        click.secho(client.failure_report(DAG_ID, run_id), fg="red", err=True)
        raise StreamstackError(f"{DAG_ID} run {run_id} ended {run['state']}; Airflow UI: {settings.airflow_url}")
    summary = client.xcom(DAG_ID, run_id, "summary")
    _print_summary(summary, settings, str(airflow.password_file), run_id)  # type: ignore[attr-defined]
    _print_dashboards(client.xcom(DAG_ID, run_id, "publish_dashboards"), stack)
    if live:
        _go_live(settings, conf["engine"] or "")


def _go_live(settings: Settings, engine_name: str) -> None:
    """The batch is done: keep the platform running as a stream (``streamstack live start``)."""
    from streamstack.cli.live import LIVE_DAGS, start_live

    click.secho("\n==> Going live", bold=True)
    name = start_live(settings, engine_name, echo=lambda line: click.echo(f"    {line.removeprefix('==> ')}"))
    click.secho(f"\n    LIVE on {name}: {', '.join(LIVE_DAGS)} run in Airflow; sales keep flowing, the dashboards "
                "refresh, until `make down` (or `streamstack live stop`).", bold=True)
    click.echo("    Each stage: `streamstack live status`.")


def _print_dashboards(report: dict[str, Any] | None, stack: Any) -> None:
    """The Superset dashboards the run published (task ``publish_dashboards``)."""
    superset = stack.get("superset")
    click.secho("\n    Superset dashboards", bold=True)
    for board in (report or {}).get("dashboards", {}).values():
        click.echo(f"    {board['title']:<28} {board['url']}")
    click.echo(f"    (user admin, password in {superset.password_file})")
    jupyter = stack.get("jupyter")
    click.secho("\n    Notebooks (JupyterLab: the live stream, the Spark batch analytics)", bold=True)
    click.echo(f"    {jupyter.endpoints()['ui']}  (token in {jupyter.endpoints()['token file']})")
