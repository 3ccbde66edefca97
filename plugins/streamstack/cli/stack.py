"""``streamstack stack up|down|status|logs|reset``: the embedded local services."""

from __future__ import annotations

import click

from streamstack.stack import Stack


@click.group()
def stack() -> None:
    """Run the real services locally (no Docker): Kafka broker, and more as they are added."""


@stack.command()
@click.argument("services", nargs=-1)
def up(services: tuple[str, ...]) -> None:
    """Start the services (all by default) and wait until each answers."""
    Stack(names=list(services) or None).up(click.echo)


@stack.command()
@click.argument("services", nargs=-1)
def down(services: tuple[str, ...]) -> None:
    """Stop what `up` started."""
    Stack(names=list(services) or None).down(click.echo)


@stack.command()
@click.argument("services", nargs=-1)
def status(services: tuple[str, ...]) -> None:
    """Show what runs, on which address, and where its log is.

    Exit 3 only when a service runs but does not answer (unhealthy); a stopped service is a
    state, not an error.
    """
    healthy = True
    for st in Stack(names=list(services) or None).status():
        state = "ready" if st.ready else ("starting/unhealthy" if st.running else "stopped")
        healthy &= st.ready or not st.running
        where = ", ".join(f"{k}={v}" for k, v in st.endpoints.items())
        pid = f"pid {st.pid}" if st.pid else "-"
        click.echo(f"{st.name:<10} {state:<20} {pid:<12} {where}  log: {st.log_file}")
        for note in st.notes:
            click.echo(f"           note: {note}")
    if not healthy:
        raise SystemExit(3)


@stack.command()
@click.argument("service")
@click.option("-n", "--lines", default=40, show_default=True)
def logs(service: str, lines: int) -> None:
    """Print the last lines of a service's log."""
    click.echo(Stack().get(service).process.log_tail(lines), nl=False)


@stack.command()
@click.argument("services", nargs=-1)
@click.confirmation_option(
    prompt="Delete the state (data, logs) of these services and of what depends on them "
    "(kafka: also Pinot and the Spark checkpoints; pinot and pinot-zk go together; "
    "flink-jobmanager: also the Flink jobs' savepoints and checkpoints)?"
)
def reset(services: tuple[str, ...]) -> None:
    """Stop and delete the services' state, e.g. after a corrupt state directory.

    What holds offsets or metadata of a reset service is reset with it: kafka also resets
    pinot-zk, pinot and the Spark checkpoints; pinot and pinot-zk are reset together.
    flink-jobmanager holds the cluster's conf, savepoints and checkpoints; flink-taskmanager
    only its own logs, so resetting it leaves the JobManager and its jobs alone.
    """
    Stack(names=list(services) or None).reset(click.echo)
