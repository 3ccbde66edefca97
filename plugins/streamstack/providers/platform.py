"""The ``streaming_platform`` DAG's engine routing and the summary of one whole-pipeline run."""

from __future__ import annotations

from typing import Any

from streamstack.errors import ConfigError
from streamstack.providers.kafka.hooks import KafkaConfigHook

#: The tasks of ``streaming_platform`` that run each engine's three jobs (the branch follows one).
ENGINE_TASKS: dict[str, list[str]] = {
    "spark": ["purchases_enrichment", "running_totals", "sales_windows"],
    "flink": ["flink_jobs"],
    "kstreams": ["kstreams_jobs"],
}


def engine_tasks(value: str | None) -> list[str]:
    """The branch to follow for the engine ``value`` (the DAG param, else ``STREAMSTACK_ENGINE``).

    An engine the platform DAG has no tasks for fails the run with the reason; it never falls
    through to another engine (``kstreams`` used to run Flink without a word).
    """
    from streamstack.engines import engine

    chosen = engine(value)
    if chosen not in ENGINE_TASKS:
        raise ConfigError(f"engine {chosen!r} cannot run the streaming_platform DAG; "
                          f"choose one of {sorted(ENGINE_TASKS)} (DAG param 'engine' or STREAMSTACK_ENGINE)")
    return list(ENGINE_TASKS[chosen])


def platform_summary(
    *,
    generated: dict[str, Any],
    tables: dict[str, Any],
    top_products: list[list[Any]],
    quality: dict[str, Any],
    kafka_config_id: str = "kafka_default",
) -> dict[str, Any]:
    """Collect what the run did, plus the records now on each topic, into one JSON-safe dict.

    :param generated: the generator's run summary.
    :param tables: the Pinot ingestion sensor's per-table state (rows, lag, freshness).
    :param top_products: rows of the ``top-products-enriched`` query.
    :param quality: the quality gate's summary.
    """
    from streamstack.topics import load_topics
    from streamstack.topics.offsets import record_counts

    specs = load_topics()
    config = KafkaConfigHook(kafka_config_id=kafka_config_id).client_config()
    counts = record_counts(config, [specs[name].name for name in ("purchases", "purchases_enriched", "purchases_invalid")])
    return {
        "generated": generated,
        "topics": counts,
        "pinot": {name: {k: state.get(k) for k in ("rows", "lag", "freshness_s")} for name, state in tables.items()},
        "top_products": top_products,
        "quality": {
            **{k: quality.get(k) for k in ("status", "rows_checked", "failed_by_severity", "data_docs")},
            "failed": [f.get("name") for f in quality.get("failed", [])],
        },
    }
