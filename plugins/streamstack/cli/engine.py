"""``streamstack engine``: which engine writes which output topic (``streamstack.engines``)."""

from __future__ import annotations

import time

import click

from streamstack import engines
from streamstack.errors import StreamstackError
from streamstack.settings import Settings


@click.group()
def engine() -> None:
    """The engines' claims on the output topics: two engines never write one topic at once."""


def _liveness(claim: engines.Claim) -> str:
    try:
        return "running" if claim.alive() else "ended"
    except (StreamstackError, OSError) as exc:
        return f"unknown ({exc})"


@engine.command()
def claims() -> None:
    """List the claims: topic, engine, job, since when, and whether the job still runs."""
    found = engines.claims(Settings.from_env().state_dir)
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
    state_dir = Settings.from_env().state_dir
    kept = [c for c in engines.claims(state_dir, list(topics)) if not force and _liveness(c) != "ended"]
    for c in kept:
        click.echo(f"kept {c.topic}: {c.engine} job {c.job} is {_liveness(c)}; stop it with `{c.stop_command()}` "
                   "(or release with --force)")
    for c in engines.claims(state_dir, list(topics)):
        if c not in kept:
            engines.release(state_dir, [c.topic], c.engine, c.job)
            click.echo(f"released {c.topic} ({c.engine} job {c.job})")
    if kept:
        raise click.ClickException(f"{len(kept)} claim(s) kept: their jobs still run or cannot be asked")
