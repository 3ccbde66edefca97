"""``streamstack kstreams build|totals``: what only Kafka Streams has (its apps run through ``streamstack engine``)."""

from __future__ import annotations

import json

import click

from streamstack.settings import Settings


@click.group()
def kstreams() -> None:
    """Kafka Streams apps (jobs/kstreams); start, stop and inspect them with `streamstack engine`."""


@kstreams.command()
@click.option("--force", is_flag=True, help="Rebuild even if this source tree was built.")
def build(force: bool) -> None:
    """Build the apps with Maven into the state dir (skipped when the sources are unchanged)."""
    from streamstack.kstreams.build import build as do_build

    done = do_build(Settings.from_env(), force=force)
    click.echo(f"built {done.jar}")


@kstreams.command()
@click.argument("product_id", required=False)
def totals(product_id: str | None) -> None:
    """Print the running totals (or one product's) from the running_totals app's state store."""
    from streamstack.kstreams.control import KStreamsControl

    body = KStreamsControl(Settings.from_env()).totals(product_id)
    if body is None:
        raise click.ClickException(f"no running total for product_id {product_id!r}")
    click.echo(json.dumps(body, indent=2))
