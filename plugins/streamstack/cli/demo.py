"""``streamstack demo``: the main job on the embedded stack, step by step, loud on failure."""

from __future__ import annotations

import time
from collections.abc import Callable

import click

from streamstack.settings import Settings


def _step(title: str, action: Callable[[], None]) -> None:
    click.secho(f"\n==> {title}", bold=True)
    started = time.monotonic()
    action()
    click.echo(f"    ({time.monotonic() - started:.1f}s)")


@click.command()
def demo() -> None:
    """Start the local stack and run the pipeline on it."""
    from streamstack.stack import Stack
    from streamstack.topics import TopicAdmin, load_topics

    settings = Settings.from_env()

    def stack_up() -> None:
        Stack(settings).up(lambda line: click.echo(f"    {line}"))

    def apply_topics() -> None:
        result = TopicAdmin(settings.kafka_client_config()).apply(load_topics(settings.topics_file))
        for line in result.lines():
            click.echo(f"    {line}")

    _step("Starting the embedded stack", stack_up)
    _step("Applying config/topics.yaml", apply_topics)
    _step("Topics on the broker", lambda: click.get_current_context().invoke(_list_topics))
    click.secho(
        "\nDone. Stop the stack with `make down` (or `.venv/bin/streamstack stack down`).", fg="green"
    )


def _list_topics() -> None:
    from streamstack.cli.topics import list_

    click.get_current_context().invoke(list_, path=None)
