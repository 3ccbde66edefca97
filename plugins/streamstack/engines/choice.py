"""Which stream engine feeds the enriched, totals and windows topics: one setting, one place.

``STREAMSTACK_ENGINE`` (default ``spark``; the DAG's ``engine`` param overrides it per run) picks
the engine. A comparison run (conformance kit, benchmark) gives each engine topics of its own
(:func:`comparison_topics`), so no topic is claimed twice.
"""

from __future__ import annotations

import os

from streamstack.errors import ConfigError

ENGINES = ("spark", "flink", "kstreams")
DEFAULT_ENGINE = "spark"
ENV = "STREAMSTACK_ENGINE"
#: Logical topics an engine writes (config/topics.yaml).
OUTPUT_TOPICS = ("purchases_enriched", "running_totals", "sales_windows", "purchases_invalid")
#: Flags of a job's command line that name topics it writes.
OUTPUT_FLAGS = ("output-topic", "invalid-topic")
#: The jobs every engine runs, by the same names.
JOBS = ("purchases_enrichment", "running_totals", "sales_windows")
#: Logical topics each job writes, whatever the engine (the dead letters: ``rejected_by`` tells whose).
JOB_OUTPUTS = {
    "purchases_enrichment": ("purchases_enriched", "purchases_invalid"),
    "running_totals": ("running_totals",),
    "sales_windows": ("sales_windows", "purchases_invalid"),
}


def engine(value: str | None = None) -> str:
    """The engine to use: ``value`` (a DAG param), else ``STREAMSTACK_ENGINE``, else spark."""
    chosen = (value or os.environ.get(ENV) or DEFAULT_ENGINE).strip().lower()
    if chosen not in ENGINES:
        raise ConfigError(f"engine {chosen!r} is not one of {list(ENGINES)} (setting {ENV} or the DAG param 'engine')")
    return chosen


def comparison_topics(names: dict[str, str], engine_name: str) -> dict[str, str]:
    """Topic names for one engine of a comparison run: inputs shared, outputs suffixed by engine."""
    return {k: (f"{v}.{engine_name}" if k in OUTPUT_TOPICS else v) for k, v in names.items()}


def output_topics(topic_args: dict[str, str]) -> list[str]:
    """The topics a job writes, from its ``--flag -> topic`` arguments."""
    return sorted({topic for flag, topic in topic_args.items() if flag in OUTPUT_FLAGS})


def command(verb: str, engine_name: str, job: str) -> str:
    """The CLI command doing ``verb`` (submit, status, stop, reset) to one job: one vocabulary
    for every engine, named by every message that tells the user what to run."""
    return f"streamstack engine {verb} --engine {engine_name} {job}"
