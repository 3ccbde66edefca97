"""The conformance kit on Kafka Streams: the three apps, bounded, exactly once, on the real broker."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import kit as ck

from streamstack.kstreams.control import KStreamsControl
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs

pytestmark = pytest.mark.integration
APPS = ("purchases_enrichment", "running_totals", "sales_windows")


@pytest.fixture(scope="module")
def outputs(kafka: Settings, kit: ck.Kit, kit_topics: TopicSpecs,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Publish the kit's input, run the apps until caught up, read every output topic."""
    config = kafka.kafka_client_config()
    ck.publish(kit, config, kit_topics)
    suffix = uuid.uuid4().hex[:8]
    control = KStreamsControl(
        kafka, topics=kit_topics, run_dir=Path(tmp_path_factory.mktemp("conformance-kstreams")),
        application_ids={app: f"conformance-{app.replace('_', '-')}-{suffix}" for app in APPS},
        ports=dict.fromkeys(APPS, 0),
    )
    try:
        control.run_bounded_all(list(APPS), timeout=300)  # side by side, each its own JVM
        yield {
            logical: ck.read_topic(config, kit_topics[logical].name)
            for logical in ("purchases_enriched", "purchases_invalid", "running_totals", "sales_windows")
        }
    finally:
        for app in APPS:
            control.stop(app)
            control.reset(app)


def test_enriched_rows_match_field_by_field(kit: ck.Kit, outputs: dict, kit_topics: TopicSpecs) -> None:
    ck.check_enriched(kit, outputs["purchases_enriched"], kit_topics["purchases_enriched"].partitions)


def test_dead_letters_carry_the_contracts_reason_codes(kit: ck.Kit, outputs: dict, kit_topics: TopicSpecs) -> None:
    ck.check_dead_letters(kit, outputs["purchases_invalid"], kit_topics["purchases"].name,
                          kit_topics["products"].name)


def test_running_totals_match(kit: ck.Kit, outputs: dict, kit_topics: TopicSpecs) -> None:
    ck.check_running_totals(kit, outputs["running_totals"], kit_topics["running_totals"])


def test_sliding_windows_match(kit: ck.Kit, outputs: dict, kit_topics: TopicSpecs) -> None:
    ck.check_windows(kit, outputs["sales_windows"], kit_topics["sales_windows"],
                     ck.late_letters(kit, outputs["purchases_invalid"]), kit_topics["purchases"].name)
