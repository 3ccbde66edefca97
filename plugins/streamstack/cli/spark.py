"""``streamstack spark jars``: what only Spark has (its jobs run through ``streamstack engine``)."""

from __future__ import annotations

import click

from streamstack.settings import Settings


@click.group()
def spark() -> None:
    """Spark Structured Streaming (jobs/spark); start, stop and inspect its jobs with `streamstack engine`."""


@spark.command()
def jars() -> None:
    """Resolve the Kafka connector jars (version-matched to pyspark) and print their paths."""
    from streamstack.spark.jars import connector_jars

    for jar in connector_jars(Settings.from_env()):
        click.echo(str(jar))
