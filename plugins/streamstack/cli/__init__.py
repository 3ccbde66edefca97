"""The ``streamstack`` command line. Each area registers its commands from its own module."""

from __future__ import annotations

import logging
import sys

import click

from streamstack.cli.airflow import airflow
from streamstack.cli.contract import contract
from streamstack.cli.demo import demo
from streamstack.cli.engine import engine
from streamstack.cli.generator import generate, replay
from streamstack.cli.kstreams import kstreams
from streamstack.cli.live import live
from streamstack.cli.pinot import pinot, query
from streamstack.cli.quality import quality
from streamstack.cli.spark import spark
from streamstack.cli.stack import stack
from streamstack.cli.superset import superset
from streamstack.cli.topics import topics
from streamstack.errors import StreamstackError


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log what happens underneath.")
def cli(verbose: bool) -> None:
    """streamstack: Kafka, Spark, Pinot and data quality, orchestrated by Airflow."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s")
    # librdkafka logs every failed connection attempt at ERROR, dozens a second; the failure
    # itself surfaces as one exception, so its log is shown only with -v.
    logging.getLogger("streamstack.librdkafka").setLevel(logging.INFO if verbose else logging.CRITICAL)


cli.add_command(airflow)
cli.add_command(contract)
cli.add_command(demo)
cli.add_command(engine)
cli.add_command(generate)
cli.add_command(replay)
cli.add_command(kstreams)
cli.add_command(live)
cli.add_command(pinot)
cli.add_command(query)
cli.add_command(quality)
cli.add_command(spark)
cli.add_command(stack)
cli.add_command(superset)
cli.add_command(topics)


def main() -> None:
    """Entry point: errors of ours print as one clear message and exit 1, no traceback."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except StreamstackError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(1)
