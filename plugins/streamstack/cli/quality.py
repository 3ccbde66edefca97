"""``streamstack quality check``: validate enriched purchases from a file, Kafka or Pinot.

Exit codes: 0 passed (warnings are printed), 1 a critical expectation failed, 3 nothing to
check (empty window: neither a pass nor a failure), 2 usage errors (click).
"""

from __future__ import annotations

import json
from datetime import datetime

import click

from streamstack.settings import Settings

EXIT_CRITICAL = 1
EXIT_EMPTY = 3


@click.group()
def quality() -> None:
    """Data quality of enriched purchases (Great Expectations)."""


def _offsets(text: str) -> list:
    from streamstack.quality import OffsetRange

    ranges = []
    for part in text.split(","):
        try:
            partition, span = part.split(":")
            start, end = span.split("-")
            ranges.append(OffsetRange(int(partition), int(start), int(end)))
        except ValueError:
            raise click.BadParameter(f"{part!r} is not PARTITION:START-END", param_hint="--offsets") from None
    return ranges


@quality.command()
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False),
    help="JSON-lines file of enriched purchases.",
)
@click.option(
    "--source", type=click.Choice(["kafka", "pinot"]), help="Read a window from the enriched topic or Pinot."
)
@click.option(
    "--last", default="1h", show_default=True, help="Window length ending at --end (e.g. 30m, 1h, 2d)."
)
@click.option("--start", type=click.DateTime(), help="Window start, UTC (overrides --last).")
@click.option("--end", type=click.DateTime(), help="Window end, UTC (default: now).")
@click.option("--offsets", help="Kafka only: exact ranges 'PARTITION:START-END,...' (end exclusive).")
@click.option("--topic", help="Kafka topic (default: purchases_enriched of config/topics.yaml).")
@click.option("--max-age-hours", type=float, help="Oldest acceptable transaction_time before the window end.")
@click.option("--max-future-minutes", type=float, help="Clock skew allowed past the window end.")
@click.option(
    "--results-dir", type=click.Path(file_okay=False), help="Results root (default <state_dir>/quality)."
)
@click.option("--run-id", help="Name of this run's results folder (default: timestamp + source).")
@click.option("--no-docs", is_flag=True, help="Skip the Data Docs HTML.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def check(
    path: str | None,
    source: str | None,
    last: str,
    start: datetime | None,
    end: datetime | None,
    offsets: str | None,
    topic: str | None,
    max_age_hours: float | None,
    max_future_minutes: float | None,
    results_dir: str | None,
    run_id: str | None,
    no_docs: bool,
    as_json: bool,
) -> None:
    """Validate enriched purchases; exit 1 on a critical failure, 3 on an empty window."""
    from streamstack import quality as q
    from streamstack.quality.window import as_utc

    if bool(path) == bool(source):
        raise click.UsageError("give exactly one of --file F or --source kafka|pinot")
    if offsets and source != "kafka":
        raise click.UsageError("--offsets needs --source kafka")
    settings = Settings.from_env()
    volume = None  # judged for Pinot windows only (by event time; see quality/volume.py)
    if path:
        batch = q.read_jsonl(path)
        label = "file"
    else:
        window_start, window_end = q.window_ending(end, q.parse_duration(last))
        if start is not None:
            window_start = as_utc(start)
        if window_start >= window_end:
            raise click.UsageError("the window start must be before its end")
        label = source or "source"
        if source == "kafka":
            from streamstack.topics import topic_name

            name = topic or topic_name("purchases_enriched")
            config = settings.kafka_client_config()
            if offsets:
                batch = q.read_kafka_range(config, name, _offsets(offsets))
            else:
                batch = q.read_kafka_window(config, name, window_start, window_end)
        else:
            from streamstack.pinot.client import PinotClient
            from streamstack.pinot.endpoints import PinotEndpoints, pinot_credentials

            endpoints = PinotEndpoints.from_env(settings)
            client = PinotClient(endpoints.controller_url, endpoints.broker_url, auth=pinot_credentials(settings))
            batch = q.read_pinot_window(client, window_start, window_end)
            # By event time, so the shop's profile applies (a Kafka window is by publishing time).
            from streamstack.quality.volume import pinot_volume_expectation

            volume = pinot_volume_expectation(client, window_start, window_end)
    runner = q.QualityRunner(settings, results_root=results_dir)
    options = q.CheckOptions(
        reference_time=as_utc(end) if end else None,
        max_age_hours=max_age_hours,
        max_future_minutes=max_future_minutes,
        data_docs=not no_docs,
        volume=volume,
    )
    summary = runner.check(batch, run_id=run_id or q.new_run_id(label), options=options)
    if as_json:
        click.echo(json.dumps(summary.to_dict(), indent=1, default=str))
    else:
        colour = {"passed": "green", "passed_with_warnings": "yellow", "empty": "yellow"}.get(
            summary.status, "red"
        )
        lines = summary.lines()
        click.secho(lines[0], fg=colour, bold=True)
        for line in lines[1:]:
            click.echo(line)
    if summary.status == "failed":
        raise SystemExit(EXIT_CRITICAL)
    if summary.status == "empty":
        raise SystemExit(EXIT_EMPTY)
