"""``streamstack engine``: which engine writes which output topic (``streamstack.engines``)."""

from __future__ import annotations

import json
import time

import click

from streamstack import engines
from streamstack.errors import StreamstackError
from streamstack.settings import Settings


@click.group()
def engine() -> None:
    """The stream engines: submit, status, stop and reset the jobs on any engine; the claims on the output topics."""


def _liveness(claim: engines.Claim) -> str:
    try:
        return "running" if claim.alive() else "ended"
    except (StreamstackError, OSError) as exc:
        return f"unknown ({exc})"


@engine.command()
def claims() -> None:
    """List the claims: topic, engine, job, since when, and whether the job still runs."""
    found = engines.claims(engines.StateStore.default(Settings.from_env().state_dir))
    if not found:
        click.echo("no claims: every output topic is free")
    for c in found:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(c.at))
        click.echo(f"{c.topic}: {c.engine} job {c.job} since {since}, {_liveness(c)}")


@engine.command()
@click.argument("topics", nargs=-1, required=True)
@click.option("--force", is_flag=True, help="Release claims of jobs that still run (or cannot be asked).")
def release(topics: tuple[str, ...], force: bool) -> None:
    """Release the claims on TOPICS whose jobs no longer run (a job on an unreachable cluster, a
    lost worker); a running job's claim is kept unless --force: stop the job instead."""
    store = engines.StateStore.default(Settings.from_env().state_dir)
    kept = [c for c in engines.claims(store, list(topics)) if not force and _liveness(c) != "ended"]
    for c in kept:
        click.echo(f"kept {c.topic}: {c.engine} job {c.job} is {_liveness(c)}; stop it with `{c.stop_command()}` "
                   "(or release with --force)")
    for c in engines.claims(store, list(topics)):
        if c not in kept:
            engines.release(store, [c.topic], c.engine, c.job)
            click.echo(f"released {c.topic} ({c.engine} job {c.job})")
    if kept:
        raise click.ClickException(f"{len(kept)} claim(s) kept: their jobs still run or cannot be asked")


_ENGINE = click.option("--engine", "engine_name", type=click.Choice(["", *engines.ENGINES]), default="",
                       help="spark, flink or kstreams (default: STREAMSTACK_ENGINE, else spark).")
_ALLOW_SHRINK = click.option(
    "--allow-shrink", is_flag=True,
    help="Rebuild the all-time running totals even from a purchases topic retention has trimmed (smaller totals).")
_JOBS = click.argument("jobs", nargs=-1, type=click.Choice(engines.JOBS))


def _report(statuses: dict[str, engines.JobStatus]) -> None:
    for status in statuses.values():
        click.echo(status.line())


@engine.command()
@_ENGINE
@_JOBS
@click.option("--mode", type=click.Choice([m.value for m in engines.Mode]), default="bounded", show_default=True)
@click.option("--fresh", is_flag=True, help="Start from the inputs' beginning (reset first), not from where the jobs stopped.")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Wait until bounded runs finished / continuous jobs run with a commit.")
@click.option("--timeout", default=1800.0, show_default=True, help="Seconds to wait.")
@_ALLOW_SHRINK
def submit(engine_name: str, jobs: tuple[str, ...], mode: str, fresh: bool, wait: bool, timeout: float,
           allow_shrink: bool) -> None:
    """Start JOBS (default all) on the engine: bounded (what the inputs hold now) or continuous."""
    chosen, names = engines.get(engine_name or None), list(jobs or engines.JOBS)
    _report(chosen.submit(names, engines.Mode(mode), resume=not fresh, allow_shrink=allow_shrink))
    if wait:
        _report(engines.wait(chosen, names, engines.Mode(mode), timeout=timeout))


@engine.command()
@_ENGINE
@_JOBS
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output: one JSON object per job.")
def status(engine_name: str, jobs: tuple[str, ...], as_json: bool) -> None:
    """State, lag per input partition and last commit of JOBS (default all)."""
    chosen = engines.get(engine_name or None)
    statuses = {job: chosen.status(job) for job in jobs or engines.JOBS}
    if as_json:
        click.echo(json.dumps([s.as_dict() for s in statuses.values()], indent=2))
    else:
        _report(statuses)


@engine.command()
@_ENGINE
@_JOBS
def stop(engine_name: str, jobs: tuple[str, ...]) -> None:
    """Stop JOBS (default all) so that they resume where they stopped (Flink: with a savepoint)."""
    chosen = engines.get(engine_name or None)
    _report({job: chosen.stop(job) for job in jobs or engines.JOBS})


@engine.command()
@_ENGINE
@_JOBS
@_ALLOW_SHRINK
@click.confirmation_option(prompt="Forget where these jobs stopped (checkpoints, savepoints, offsets)? "
                                  "They re-read their inputs from the start.")
def reset(engine_name: str, jobs: tuple[str, ...], allow_shrink: bool) -> None:
    """Forget where JOBS (default all) stopped: the next run starts from the inputs' beginning."""
    deleted = engines.reset_jobs(engines.get(engine_name or None), jobs or engines.JOBS, allow_shrink=allow_shrink)
    for job, what in deleted.items():
        click.echo(f"{job}: deleted {', '.join(what) or 'nothing (no state)'}")
