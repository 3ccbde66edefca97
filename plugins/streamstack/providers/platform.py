"""The summary of one ``streaming_platform`` run (what ``make demo`` prints)."""

from __future__ import annotations

from typing import Any

from streamstack.providers.kafka.hooks import KafkaConfigHook


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
