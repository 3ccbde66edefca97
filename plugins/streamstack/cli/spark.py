"""``streamstack spark jars|run|start|stop|status``: the Spark jobs from the command line."""

from __future__ import annotations

import json
import os
import subprocess
from typing import TYPE_CHECKING

import click

from streamstack.settings import Settings

if TYPE_CHECKING:
    from streamstack.spark.control import JobHealth

JOB_NAMES = ("purchases_enrichment", "running_totals", "sales_windows")


def _jobs(names: tuple[str, ...]) -> list[str]:
    return list(names) or list(JOB_NAMES)


@click.group()
def spark() -> None:
    """Spark Structured Streaming jobs (jobs/spark): available-now runs and continuous mode."""


@spark.command()
def jars() -> None:
    """Resolve the Kafka connector jars (version-matched to pyspark) and print their paths."""
    from streamstack.spark.jars import connector_jars

    for jar in connector_jars(Settings.from_env()):
        click.echo(str(jar))


@spark.command()
@click.argument("jobs", nargs=-1, type=click.Choice(JOB_NAMES))
@click.option("--master", default="local[2]", show_default=True)
def run(jobs: tuple[str, ...], master: str) -> None:
    """Run JOBS (default all) available-now, one after the other: process what is there, then stop."""
    from streamstack.spark.control import SparkJobControl
    from streamstack.spark.jobs import jit_conf, submission
    from streamstack.spark.report import backlog, snapshot

    settings = Settings.from_env()
    control = SparkJobControl(settings)
    for job in _jobs(jobs):
        holder = control.holder(job)
        if holder is not None:
            raise click.ClickException(f"{job} is already running (pid {holder.pid}, {holder.mode}); stop it first")
        pending = backlog(control, job, snapshot(control, job))
        sub = submission(job, settings, trigger="available-now", conf=jit_conf(pending))
        click.echo(f"running {job} ({pending} input records to read) ...")
        control.claim(job)
        try:
            proc = subprocess.run(sub.command(master), env={**os.environ, **sub.env}, check=False)
        finally:
            control.release(job)
        if proc.returncode != 0:
            raise click.ClickException(f"{job} failed (exit {proc.returncode})")


@spark.command()
@click.argument("jobs", nargs=-1, type=click.Choice(JOB_NAMES))
@click.option("--interval", default="1 second", show_default=True, help="processing-time trigger")
def start(jobs: tuple[str, ...], interval: str) -> None:
    """Start JOBS (default all) long-running in the background; a running copy is kept, another
    run's available-now copy is waited for (never stopped)."""
    from streamstack.spark.control import SparkJobControl

    control = SparkJobControl(Settings.from_env())
    for job in _jobs(jobs):
        pid = control.start(job, interval=interval)
        click.echo(f"{job}: running (driver pid {pid}, log {control.log_file(job)})")


@spark.command()
@click.argument("jobs", nargs=-1, type=click.Choice(JOB_NAMES))
@click.option("--timeout", default=60.0, show_default=True, help="seconds to wait for a clean stop")
def stop(jobs: tuple[str, ...], timeout: float) -> None:
    """Stop JOBS (default all) between micro-batches; kill them after --timeout."""
    from streamstack.spark.control import SparkJobControl

    control = SparkJobControl(Settings.from_env())
    for job in _jobs(jobs):
        click.echo(f"{job}: {'stopped' if control.stop(job, timeout=timeout) else 'was not running'}")


@spark.command()
@click.argument("jobs", nargs=-1, type=click.Choice(JOB_NAMES))
@click.confirmation_option(prompt="Delete these jobs' checkpoints (they re-read their topics from the start)?")
def reset(jobs: tuple[str, ...]) -> None:
    """Delete the checkpoints of JOBS (default all), e.g. after the topics were recreated."""
    from streamstack.spark.control import SparkJobControl

    control = SparkJobControl(Settings.from_env())
    for job in _jobs(jobs):
        click.echo(f"{job}: {'checkpoint deleted' if control.reset(job) else 'had no checkpoint'}")


def status_line(r: JobHealth) -> str:
    """One job's status line."""
    if r.running:
        state = f"running pid {r.pid} ({r.mode})"
    elif r.state == "running":
        # The progress file still says running but nothing holds the lock: the job died.
        state = "not running (crashed: stopped without a clean shutdown)"
    else:
        state = f"not running ({r.state or 'never run'})"
    return (
        f"{r.job:<22} {state:<38} batch={r.committed_batch} lag={r.total_lag} "
        f"rate={r.processed_rows_per_second} rows/s last={r.last_progress_at}"
    )


@spark.command()
@click.argument("jobs", nargs=-1, type=click.Choice(JOB_NAMES))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(jobs: tuple[str, ...], as_json: bool) -> None:
    """Health of JOBS: running, last progress, committed batch, lag behind the purchases topic."""
    from streamstack.spark.control import SparkJobControl

    reports = SparkJobControl(Settings.from_env()).health_all(_jobs(jobs))
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in reports], indent=2))
        return
    for r in reports:
        click.echo(status_line(r))
        if r.error:
            click.echo(f"  error: {r.error.splitlines()[0]}")
