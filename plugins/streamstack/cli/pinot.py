"""``streamstack pinot apply`` and ``streamstack query``: Pinot tables as code and the demo's queries."""

from __future__ import annotations

import json

import click

from streamstack.settings import Settings


@click.group()
def pinot() -> None:
    """Pinot schemas and tables of config/pinot."""


@pinot.command()
@click.option("--table", "tables", multiple=True, help="Only these tables (default: all).")
@click.option("--dry-run", is_flag=True, help="Show what would change, change nothing.")
@click.option(
    "--recreate",
    multiple=True,
    help="Drop this table and schema and create them anew (incompatible schema change): only what "
    "the topic still retains is read back. Says what would be lost and asks first.",
)
@click.option("--yes", is_flag=True, help="Do not ask before a --recreate.")
def apply(tables: tuple[str, ...], dry_run: bool, recreate: tuple[str, ...], yes: bool) -> None:
    """Create or update each schema and table; a second run changes nothing."""
    from streamstack.pinot import local_client
    from streamstack.pinot.tables import TABLES, apply_specs, existing_topics, local_specs, recreate_loss

    settings = Settings.from_env()
    # The stack's own Kafka settings: in the secured profile they become the SASL stream configs.
    specs = local_specs(settings, tables or TABLES, kafka_config=settings.kafka_client_config(),
                        kafka_source="the local stack")
    client = local_client(settings)
    unknown = sorted(set(recreate) - {s.name for s in specs})
    if unknown:
        raise click.UsageError(f"--recreate {', '.join(unknown)}: no such table (known: {', '.join(s.name for s in specs)})")
    if recreate and not dry_run:
        for spec in (s for s in specs if s.name in recreate):
            click.echo(recreate_loss(client, spec, settings.kafka_client_config()).line())
        if not yes:
            click.confirm(f"Drop and re-create {', '.join(recreate)}?", abort=True)
    changes = apply_specs(
        client,
        specs,
        existing_topics=existing_topics(settings.kafka_client_config()),
        dry_run=dry_run,
        recreate=recreate,
    )
    for change in changes:
        click.echo(change.line())


def _fmt(value: object) -> str:
    return f"{value:,.2f}" if isinstance(value, float) else str(value)


@click.command()
@click.argument("name", required=False)
@click.option("--sql", help="Run this SQL instead of a named query.")
@click.option("--limit", default=100, show_default=True, help="Rows of the per-product queries.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON rows instead of a table.")
def query(name: str | None, sql: str | None, limit: int, as_json: bool) -> None:
    """Run a named query of the demo (product-summary, top-products, top-products-enriched) or --sql."""
    from rich.console import Console
    from rich.table import Table

    from streamstack.pinot import QUERIES, local_client, named_sql

    if bool(name) == bool(sql):
        raise click.UsageError(f"give a query name ({', '.join(QUERIES)}) or --sql, not both")
    text = sql or named_sql(str(name), limit)
    columns, rows = local_client().query_table(text)
    if as_json:
        click.echo(json.dumps([dict(zip(columns, r, strict=True)) for r in rows], indent=2))
        return
    table = Table(title=QUERIES[name].title if name else None)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(_fmt(v) for v in row))
    Console().print(table)
