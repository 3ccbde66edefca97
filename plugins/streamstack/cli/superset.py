"""``streamstack superset``: publish the dashboards as code, or write the bundle to look at."""

from __future__ import annotations

from pathlib import Path

import click

from streamstack.settings import Settings


def _bundle(settings: Settings):  # type: ignore[no-untyped-def]
    from streamstack.pinot.endpoints import PinotEndpoints, pinot_credentials
    from streamstack.superset.publish import make_bundle

    pinot = PinotEndpoints.from_env(settings)
    return make_bundle(settings, f"{pinot.host}:{pinot.broker_port}", f"{pinot.host}:{pinot.controller_port}",
                       auth=pinot_credentials(settings))


@click.group()
def superset() -> None:
    """Superset dashboards of config/superset (import into the local stack's Superset)."""


@superset.command(name="import")
@click.option("--url", default=None, help="Superset URL (default: the local stack's).")
@click.option("--user", default="admin", show_default=True, help="Superset user.")
def import_(url: str | None, user: str) -> None:
    """Create or update the Pinot connection and import every dashboard (idempotent).

    The password is read from STREAMSTACK_SUPERSET_PASSWORD or the stack's 0600 file, never
    from the command line.
    """
    from streamstack.superset.client import SupersetClient
    from streamstack.superset.endpoints import SupersetEndpoints
    from streamstack.superset.publish import publish

    settings = Settings.from_env()
    endpoints = SupersetEndpoints.from_env(settings)
    report = publish(SupersetClient(url or endpoints.url, user, endpoints.password()), _bundle(settings))
    click.echo(f"database: {report.database}")
    for board in report.dashboards.values():
        click.echo(f"{board['title']:<28} {board['charts']:>2} charts  {board['url']}")
    click.echo("objects: " + ", ".join(f"{n} {kind}" for kind, n in report.counts.items()))


@superset.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
def bundle(out_dir: Path) -> None:
    """Write the v1 import bundle's YAML files to OUT_DIR (to read or diff; nothing is imported)."""
    for path in _bundle(Settings.from_env()).write(out_dir):
        click.echo(str(path))
