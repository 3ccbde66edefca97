"""``streamstack generate`` and ``streamstack replay``: the sales generator from the shell.

Progress goes to stderr, the summary to stdout (``--json`` for scripts). Kafka credentials
for SASL_SSL come from the environment (``STREAMSTACK_KAFKA_SASL_PASSWORD``), never from a
command-line argument that would land in the shell history and the process list.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from streamstack.settings import Settings

PASSWORD_ENV = "STREAMSTACK_KAFKA_SASL_PASSWORD"


def _connection_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--bootstrap-servers", envvar="STREAMSTACK_BOOTSTRAP_SERVERS",
                     help="Kafka brokers (default: the local stack)."),
        click.option("--security-protocol", type=click.Choice(["PLAINTEXT", "SASL_SSL"]), default=None,
                     envvar="STREAMSTACK_KAFKA_SECURITY_PROTOCOL",
                     help=f"PLAINTEXT (default) or SASL_SSL (SCRAM-SHA-512, the password read from ${PASSWORD_ENV}); "
                          "with neither this nor --bootstrap-servers, the local stack's own settings "
                          "(SASL_SSL in its secured profile, STREAMSTACK_AUTH=on)."),
        click.option("--sasl-username", envvar="STREAMSTACK_KAFKA_SASL_USERNAME", help="SCRAM user name."),
        click.option("--ssl-ca-location", envvar="STREAMSTACK_KAFKA_SSL_CA_LOCATION",
                     help="CA certificate file for SASL_SSL (default: the system's)."),
        click.option("--config", "config_file", type=click.Path(dir_okay=False, exists=True),
                     help="Generator settings (default config/generator.yaml)."),
        click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _kafka_sink(options: dict[str, Any], producer_settings: dict[str, Any]) -> Any:
    from streamstack.generator.kafka import KafkaSink, check_connection, connection_config
    from streamstack.topics import load_topics

    settings = Settings.from_env()
    if not options["bootstrap_servers"] and not options["security_protocol"]:
        return KafkaSink(check_connection(settings.kafka_client_config()), load_topics(settings.topics_file),
                         producer_settings)
    connection = connection_config(
        options["bootstrap_servers"] or settings.bootstrap_servers,
        security_protocol=options["security_protocol"] or "PLAINTEXT",
        username=options["sasl_username"],
        password=os.environ.get(PASSWORD_ENV),
        ca_location=options["ssl_ca_location"],
    )
    return KafkaSink(connection, load_topics(settings.topics_file), producer_settings)


def _known_versions(sink: Any) -> dict[str, str]:
    """The earliest valid version of each product on the sink's products topic (read to its end)."""
    from streamstack.contract import load_contract
    from streamstack.generator.replay import earliest_versions
    from streamstack.topics.offsets import read_to_end

    records = read_to_end(sink.connection, sink.topics["products"], raw=True)
    return earliest_versions([(r["key"], r["value"]) for r in records], load_contract())


def _progress() -> Any:
    """A rich progress bar on stderr (stdout stays clean for the summary)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True), transient=False,
    )


def _print_summary(title: str, summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(title)
    width = max(len(k) for k in summary)
    for key, value in summary.items():
        click.echo(f"  {key:<{width}}  {value}")


class _PositiveFinite(click.FloatRange):
    """A float > 0 that is a number: FloatRange lets nan through (every comparison with it is False)."""

    name = "positive number"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


POSITIVE_FINITE = _PositiveFinite(min=0, min_open=True)


@click.command()
@click.option("-n", "--transactions", type=click.IntRange(min=0),
              help="Stop after N transactions (default: number_of_sales unless --duration is given).")
@click.option("--duration", type=POSITIVE_FINITE, help="Stop after this many seconds.")
@click.option("--mode", type=click.Choice(["realistic", "load"]), default="realistic", show_default=True,
              help="realistic: 2-5 s between transactions (divided by --speed); load: as fast as possible.")
@click.option("--seed", type=int, help="Same seed, same sales (a random seed is printed otherwise).")
@click.option("--speed", type=POSITIVE_FINITE, default=1.0, show_default=True,
              help="Speed factor of the realistic mode's pauses.")
@click.option("--start-time", type=click.DateTime(["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]),
              help="Event times start here (UTC) and advance by the drawn pauses: reproducible times.")
@click.option("--days", type=click.IntRange(min=1, max=366),
              help="Simulate this many days of the shop (opening hours, profile, anomalies, supply, price "
                   "changes: the `shop` settings); event times follow the simulated clock.")
@click.option("--start-date", type=click.DateTime(["%Y-%m-%d"]),
              help="First simulated day, 00:00 UTC (default: shop.start_date). Needs --days.")
@click.option("--profile", help="Volume profile of a simulated run (default: shop.profile). Needs --days.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write JSON lines here instead of Kafka (other event types go to sibling files).")
@_connection_options
def generate(
    transactions: int | None, duration: float | None, mode: str, seed: int | None, speed: float,
    start_time: datetime | None, days: int | None, start_date: datetime | None, profile: str | None,
    output: Path | None, config_file: str | None, as_json: bool, **connection: Any,
) -> None:
    """Generate smoothie sales: the catalogue, then purchases and restocks, to Kafka or a file.

    With --days, a simulated shop: in load mode a week takes seconds; in realistic mode the
    simulated time between events is divided by --speed (3600 = an hour a second).
    """
    from streamstack.generator import (
        build_model,
        build_simulation,
        load_catalogue,
        load_config,
        run_generator,
    )
    from streamstack.generator.sinks import FileSink

    if days is None and (start_date or profile):
        raise click.UsageError("--start-date and --profile need --days")
    if days is not None and start_time is not None:
        raise click.UsageError("--start-time is for unsimulated runs; a simulated run uses --start-date")
    config = load_config(config_file)
    model = build_model(config, load_catalogue(config.catalogue_file), seed, start_time)
    simulation = (build_simulation(model, days, start_date.date() if start_date else None, profile)
                  if days is not None else None)
    sink = FileSink(output) if output else _kafka_sink(connection, config.producer)
    total = transactions if transactions is not None else (None if duration or days else config.number_of_sales)
    with _progress() as bar:
        task = bar.add_task(f"{mode} → {sink.destination}", total=total)
        summary = run_generator(model, sink, mode=mode, transactions=transactions, duration=duration, speed=speed,
                                progress=lambda done: bar.update(task, completed=done), simulation=simulation)
    result = summary.to_dict()
    if output:
        result["files"] = {kind: str(path) for kind, path in sink.files.items()}
    _print_summary("generated", result, as_json)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--restamp", is_flag=True, help="Stamp each transaction with the time it is published.")
@click.option("--dead-letter", is_flag=True,
              help="Send bad records to the dead-letter topic (with the reason) instead of failing.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the completed records as JSON lines here instead of Kafka.")
@_connection_options
def replay(file: Path, restamp: bool, dead_letter: bool, output: Path | None, config_file: str | None,
           as_json: bool, **connection: Any) -> None:
    """Publish a recorded purchases file (JSON array or JSON lines) to demo.purchases."""
    from streamstack.generator import load_catalogue, load_config
    from streamstack.generator.replay import replay as run_replay
    from streamstack.generator.sinks import FileSink

    config = load_config(config_file)
    catalogue = load_catalogue(config.catalogue_file).products
    known = {p.product_id for p in catalogue}
    sink = FileSink(output) if output else _kafka_sink(connection, config.producer)
    versions = {} if output else _known_versions(sink)
    with _progress() as bar:
        task = bar.add_task(f"{file.name} → {sink.destination}", total=None)
        summary = run_replay(file, sink, restamp=restamp, send_dead_letters=dead_letter, known_products=known,
                             progress=lambda done, total: bar.update(task, completed=done, total=total),
                             catalogue=catalogue, known_versions=versions)
    _print_summary("replayed", summary.to_dict(), as_json)


