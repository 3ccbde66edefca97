"""``streamstack live start|stop|status``: the platform as a stream, orchestrated by Airflow.

``start`` makes sure the topics and Pinot tables exist, submits the engine's jobs continuous
(from where they stopped), records the pipeline as live, and unpauses the two DAGs that keep it
so: ``live_sales`` (the generator, in chunks on the ``@continuous`` schedule) and
``live_supervisor`` (a check a minute: restart, freshness, lag, dead letters). ``stop`` pauses
them, ends the running chunk, and stops the jobs so that they resume losslessly. ``status``
shows each stage.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import click

from streamstack.settings import Settings

LIVE_DAGS = ("live_sales", "live_supervisor")


def _airflow(settings: Settings) -> Any:
    """A client of the stack's Airflow; the pipeline is Airflow's to run, so it must be up."""
    from streamstack.airflow_client import AirflowClient
    from streamstack.errors import StreamstackError
    from streamstack.stack import Stack

    airflow = Stack(settings, ["airflow"]).get("airflow")
    if not airflow.is_running():
        raise StreamstackError("Airflow is not running: the live pipeline is Airflow's to run and supervise. "
                               "Start the stack first: `streamstack stack up` (or `make demo`).")
    return AirflowClient(settings.airflow_url, "admin", airflow.password())  # type: ignore[attr-defined]


@click.group()
def live() -> None:
    """The live pipeline: jobs running continuously, sales flowing, a supervisor watching."""


def start_live(settings: Settings, engine_name: str = "", timeout: float = 600.0,
               echo: Any = click.echo) -> str:
    """Topics and tables applied, the jobs continuous, the pipeline recorded live, its DAGs unpaused;
    returns the engine's name. ``streamstack live start`` and the end of ``streamstack demo``."""
    from streamstack import engines
    from streamstack import live as domain
    from streamstack.pinot import local_client
    from streamstack.pinot.tables import apply_specs, local_specs
    from streamstack.topics import TopicAdmin, load_topics

    client = _airflow(settings)
    config = domain.default_config()
    kafka = settings.kafka_client_config()
    TopicAdmin(kafka).apply(load_topics(settings.topics_file))
    engine = engines.get(engine_name or None)
    store = domain.default_store()
    current = domain.live_record(store)
    if current and current.get("engine") != engine.name:
        raise click.ClickException(f"the pipeline is live on {current['engine']}; `streamstack live stop` first")
    echo(f"==> {engine.name}: the jobs, continuous, from where they stopped")
    engine.submit(list(config.jobs), engines.Mode.CONTINUOUS, resume=True)
    for status in engines.wait(engine, list(config.jobs), engines.Mode.CONTINUOUS, timeout=timeout).values():
        echo(f"    {status.line()}")
    for change in apply_specs(local_client(settings), local_specs(settings, kafka_config=kafka,
                                                                      kafka_source="the local stack")):
        if change.action != "unchanged":
            echo(f"    pinot {change.line()}")
    store.put(domain.LIVE_KEY, {"live": True, "engine": engine.name, "since": datetime.now(UTC).isoformat()})
    for dag_id in LIVE_DAGS:
        client.wait_for_dag(dag_id)
        client.set_paused(dag_id, False)
    return engine.name


@live.command()
@click.option("--engine", "engine_name", type=click.Choice(["", "spark", "flink", "kstreams"]), default="",
              help="spark, flink or kstreams (default: STREAMSTACK_ENGINE, else spark).")
@click.option("--timeout", default=600.0, show_default=True, help="Seconds to wait for the jobs to run.")
def start(engine_name: str, timeout: float) -> None:
    """Run the pipeline live until `streamstack live stop` (or `make down`)."""
    settings = Settings.from_env()
    name = start_live(settings, engine_name, timeout, echo=lambda line: click.secho(line, bold=line.startswith("==>")))
    click.secho(f"==> Live on {name}: {', '.join(LIVE_DAGS)} unpaused in Airflow ({settings.airflow_url})", bold=True)
    click.echo("    Sales keep flowing until `streamstack live stop` or `make down`; "
               "`streamstack live status` shows each stage.")


def _end_running_chunk(client: Any) -> list[str]:
    """Mark a running ``live_sales`` run failed; return the runs ended. Without this the chunk
    sells on for up to its length after a stop.

    Its task instance is failed at once, but the task's process learns so only at its next
    heartbeat and is killed seconds later: the caller fences its producer (``fence``) so that
    nothing it sends meanwhile lands; its open sale is aborted, the committed ones stay.
    """
    ended = []
    for run in client.runs("live_sales"):
        if run["state"] in ("queued", "running"):
            client.request("PATCH", f"/dags/live_sales/dagRuns/{run['dag_run_id']}", json={"state": "failed"})
            ended.append(run["dag_run_id"])
    return ended


@live.command()
def stop() -> None:
    """Pause the live DAGs, end the running sales chunk and stop the jobs so that they resume
    where they stopped."""
    from streamstack import engines
    from streamstack import live as domain
    from streamstack.generator.live import fence

    settings = Settings.from_env()
    store = domain.default_store()
    record = domain.live_record(store)
    client = _airflow(settings)
    for dag_id in LIVE_DAGS:
        client.set_paused(dag_id, True)
    ended = _end_running_chunk(client)
    if ended:  # its task learns of the end only at its next heartbeat: fenced now, it cannot sell on meanwhile
        fence(settings.kafka_client_config())
    for run_id in ended:
        click.echo(f"live_sales {run_id}: ended (its open sale aborted, the committed ones kept)")
    store.put(domain.LIVE_KEY, {"live": False, "engine": (record or {}).get("engine"),
                                "stopped": datetime.now(UTC).isoformat()})
    if record is None:
        click.echo("the pipeline was not live; its DAGs are paused")
        return
    engine = engines.get(record["engine"])
    for job in domain.default_config().jobs:
        click.echo(engine.stop(job).line())


@live.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(as_json: bool) -> None:
    """Each stage of the live pipeline: the generator's rate, each job's state and lag, Pinot's freshness.

    Exit 3 when the pipeline is live but a stage is past its bound (config/live.yaml).
    """
    from streamstack import engines
    from streamstack import live as domain
    from streamstack.pinot import local_client

    store = domain.default_store()
    record = domain.live_record(store)
    if record is None:
        click.echo("the pipeline is not live (`streamstack live start`)")
        return
    engine = engines.get(record["engine"])
    result = domain.supervise(engine, local_client(), domain.table_specs(engine.kafka_config),
                              domain.default_config(), store, restart=False, remember=False,
                              live_since=domain.live_since(record))
    if as_json:
        click.echo(json.dumps({"engine": engine.name, "since": record.get("since"), "findings": [
            {"stage": f.stage, "ok": f.ok, "text": f.text} for f in result.findings]}, indent=2))
    else:
        click.echo(f"live on {engine.name} since {record.get('since')} ({time.strftime('%H:%M:%S')} now)")
        for line in result.lines():
            click.echo(f"  {line}")
    if result.failures:
        raise SystemExit(3)
