"""``streamstack kstreams build|start|status|stop|reset|run|totals``: the Kafka Streams apps."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from streamstack.settings import Settings

if TYPE_CHECKING:
    from streamstack.kstreams.control import KStreamsControl

APP_NAMES = ("running_totals", "purchases_enrichment")


def _apps(names: tuple[str, ...]) -> list[str]:
    return list(names) or list(APP_NAMES)


def _control() -> KStreamsControl:
    """Imported lazily: keeps `streamstack --help` fast."""
    from streamstack.kstreams.control import KStreamsControl

    return KStreamsControl(Settings.from_env())


@click.group()
def kstreams() -> None:
    """Kafka Streams apps (jobs/kstreams): running totals and enrichment, exactly once."""


@kstreams.command()
@click.option("--force", is_flag=True, help="Rebuild even if this source tree was built.")
def build(force: bool) -> None:
    """Build the apps with Maven into the state dir (skipped when the sources are unchanged)."""
    from streamstack.kstreams.build import build as do_build

    done = do_build(Settings.from_env(), force=force)
    click.echo(f"built {done.jar}")


@kstreams.command()
@click.argument("apps", nargs=-1, type=click.Choice(APP_NAMES))
@click.option("--threads", default=1, show_default=True, help="stream threads per app")
def start(apps: tuple[str, ...], threads: int) -> None:
    """Start APPS (default all) long-running in the background, replacing running copies."""
    control = _control()
    for app in _apps(apps):
        report = control.start(app, threads=threads)
        click.echo(f"{app}: {report.state} (pid {report.pid}, http://127.0.0.1:{report.port}, "
                   f"log {control.log_file(app)})")


@kstreams.command()
@click.argument("apps", nargs=-1, type=click.Choice(APP_NAMES))
@click.option("--timeout", default=90.0, show_default=True, help="seconds to wait for a clean close")
def stop(apps: tuple[str, ...], timeout: float) -> None:
    """Stop APPS (default all) cleanly: close with LEAVE_GROUP, state flushed."""
    control = _control()
    for app in _apps(apps):
        click.echo(f"{app}: {'stopped' if control.stop(app, timeout=timeout) else 'was not running'}")


@kstreams.command()
@click.argument("apps", nargs=-1, type=click.Choice(APP_NAMES))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(apps: tuple[str, ...], as_json: bool) -> None:
    """State of APPS from their endpoints (RUNNING, REBALANCING, ERROR) and lag behind the input."""
    reports = _control().health_all(_apps(apps))
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in reports], indent=2))
        return
    for r in reports:
        where = f"pid {r.pid}, http://127.0.0.1:{r.port}" if r.running else "not running"
        click.echo(f"{r.app:<22} {r.state or '-':<12} {where:<40} lag={r.total_lag}")
        if r.error:
            click.echo(f"  {r.error}")


@kstreams.command()
@click.argument("apps", nargs=-1, type=click.Choice(APP_NAMES))
def reset(apps: tuple[str, ...]) -> None:
    """Reset stopped APPS: delete committed offsets, internal topics and local state (reprocess all)."""
    control = _control()
    for app in _apps(apps):
        r = control.reset(app)
        click.echo(f"{app}: group {r.application_id} {'deleted' if r.group_deleted else 'absent'}; "
                   f"internal topics deleted: {', '.join(r.topics_deleted) or 'none'}; "
                   f"local state {'removed' if r.state_removed else 'absent'}")


@kstreams.command()
@click.argument("apps", nargs=-1, type=click.Choice(APP_NAMES))
@click.option("--timeout", default=600.0, show_default=True)
def run(apps: tuple[str, ...], timeout: float) -> None:
    """Run APPS bounded: process the input up to its current end, then stop."""
    control = _control()
    for app in _apps(apps):
        seconds = control.run_bounded(app, timeout=timeout)
        click.echo(f"{app}: caught up in {seconds:.1f}s")


@kstreams.command()
@click.argument("product_id", required=False)
def totals(product_id: str | None) -> None:
    """Print the running totals (or one product's) from the running_totals app's state store."""
    body = _control().totals(product_id)
    if body is None:
        raise click.ClickException(f"no running total for product_id {product_id!r}")
    click.echo(json.dumps(body, indent=2))
