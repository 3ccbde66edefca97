"""``streamstack flink run|start|stop|resume|status``: the PyFlink jobs on the session cluster."""

from __future__ import annotations

import json

import click

from streamstack.flink.jobs import JOB_NAMES


def _jobs(names: tuple[str, ...]) -> list[str]:
    return list(names) or list(JOB_NAMES)


def _control():
    from streamstack.flink.control import FlinkJobControl

    return FlinkJobControl()


@click.group()
def flink() -> None:
    """Apache Flink jobs (jobs/flink) on the stack's session cluster (dashboard: STREAMSTACK_FLINK_PORT)."""


@flink.command()
@click.argument("jobs", nargs=-1, type=click.Choice(JOB_NAMES))
def run(jobs: tuple[str, ...]) -> None:
    """Run JOBS (default all) bounded: what is in Kafka now, then finish."""
    control = _control()
    for job in _jobs(jobs):
        current = control.running(job)
        if current is not None:
            raise click.ClickException(f"{job} is already running (Flink job {current['jid']}); stop it first")
    started = control.start_all(_jobs(jobs), mode="bounded", resume=False)  # side by side
    for job, s in started.items():
        click.echo(f"{job}: Flink job {s.jid} submitted, waiting for it to finish ...")
    for job, s in started.items():
        control.wait_finished(s.jid)
        click.echo(f"{job}: finished")


@flink.command()
@click.argument("jobs", nargs=-1, type=click.Choice(JOB_NAMES))
@click.option("--fresh", is_flag=True, help="ignore the latest savepoint (start from the earliest offsets)")
def start(jobs: tuple[str, ...], fresh: bool) -> None:
    """Start JOBS (default all) continuously; resumes from the latest savepoint; never a second copy."""
    for job, s in _control().start_all(_jobs(jobs), mode="continuous", resume=not fresh).items():
        what = "already running" if not s.submitted else f"submitted{' from ' + s.savepoint if s.savepoint else ''}"
        click.echo(f"{job}: Flink job {s.jid} {what}")


@flink.command()
@click.argument("jobs", nargs=-1, type=click.Choice(JOB_NAMES))
def stop(jobs: tuple[str, ...]) -> None:
    """Stop JOBS (default all) with a savepoint (resume continues from it)."""
    control = _control()
    for job in _jobs(jobs):
        location = control.stop(job)
        click.echo(f"{job}: " + (f"stopped, savepoint {location}" if location else "not running"))


@flink.command()
@click.argument("jobs", nargs=-1, type=click.Choice(JOB_NAMES))
def resume(jobs: tuple[str, ...]) -> None:
    """Start JOBS (default all) from their latest savepoint (fails when there is none)."""
    control = _control()
    for job in _jobs(jobs):
        if control.running(job) is None and control.latest_savepoint(job) is None:
            raise click.ClickException(f"{job}: no savepoint to resume from (stop it with `streamstack flink stop`)")
        s = control.start(job, mode="continuous", resume=True)
        click.echo(f"{job}: Flink job {s.jid} " + ("already running" if not s.submitted else f"resumed from {s.savepoint}"))


@flink.command()
@click.argument("jobs", nargs=-1, type=click.Choice(JOB_NAMES))
def status(jobs: tuple[str, ...]) -> None:
    """Health of JOBS (default all): state, restarts, last checkpoint, lag (JSON lines)."""
    control = _control()
    for job in _jobs(jobs):
        click.echo(json.dumps(control.status(job)))
