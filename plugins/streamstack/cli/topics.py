"""``streamstack topics apply|list|tail``: reconcile the broker with config/topics.yaml, read a topic."""

from __future__ import annotations

import click

from streamstack.settings import Settings


@click.group()
def topics() -> None:
    """Kafka topics as code (config/topics.yaml)."""


@topics.command()
@click.option(
    "--file", "path", type=click.Path(dir_okay=False), help="Topics file (default config/topics.yaml)."
)
@click.option("--dry-run", is_flag=True, help="Validate with the broker and show what would change; change nothing.")
@click.option(
    "--remove-undeclared", is_flag=True, help="Also delete config overrides the topics file does not declare."
)
def apply(path: str | None, dry_run: bool, remove_undeclared: bool) -> None:
    """Create missing topics, repair drifted configs, grow partitions; refuse unsafe changes."""
    from streamstack.topics import TopicAdmin, load_topics

    settings = Settings.from_env()
    specs = load_topics(path or settings.topics_file)
    result = TopicAdmin(settings.kafka_client_config()).apply(
        specs, dry_run=dry_run, remove_undeclared=remove_undeclared
    )
    for line in result.lines():
        click.echo(line)


@topics.command(name="list")
@click.option(
    "--file", "path", type=click.Path(dir_okay=False), help="Topics file (default config/topics.yaml)."
)
def list_(path: str | None) -> None:
    """List the declared topics as they are on the broker, with partitions and configs."""
    from streamstack.topics import TopicAdmin, load_topics

    settings = Settings.from_env()
    specs = load_topics(path or settings.topics_file)
    admin = TopicAdmin(settings.kafka_client_config())
    states = admin.describe([s.name for s in specs.topics])
    for spec, state in zip(specs.topics, states, strict=True):
        if state is None:
            click.echo(f"{spec.name:<28} MISSING (run `streamstack topics apply`)")
            continue
        configs = ", ".join(f"{k}={v}" for k, v in sorted(state.overrides.items()))
        key = f"key={spec.key_label}" if spec.key else "keyless"
        click.echo(
            f"{state.name:<28} partitions={state.partitions} rf={state.replication_factor} {key:<20} {configs}"
        )
    if any(state is None for state in states):
        raise SystemExit(3)


@topics.command()
@click.argument("topic")
@click.option("-n", "--lines", "n", default=10, show_default=True, help="How many of the newest records.")
@click.option("--follow", "-f", is_flag=True, help="Then print new records as they are committed, until Ctrl-C.")
def tail(topic: str, n: int, follow: bool) -> None:
    """Print the newest records of TOPIC (a logical name such as purchases_enriched, or a Kafka
    topic name): partition@offset, time, key and value, committed records only."""
    from streamstack.topics import load_topics
    from streamstack.topics.tail import tail as read_tail

    settings = Settings.from_env()
    declared = load_topics(settings.topics_file).names()
    name = declared.get(topic, topic)
    try:
        for record in read_tail(settings.kafka_client_config(), name, n, follow=follow):
            click.echo(record.line())
    except KeyboardInterrupt:
        pass
