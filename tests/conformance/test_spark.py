"""The conformance kit on Spark: the three jobs, available-now, on the real broker."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import kit as ck
from support import spark_testkit as sk

from streamstack.settings import Settings
from streamstack.spark.jars import connector_jars
from streamstack.topics import TopicSpecs

pytestmark = pytest.mark.integration
JOBS = ("purchases_enrichment", "running_totals", "sales_windows")


@pytest.fixture(scope="module")
def outputs(kafka: Settings, kit: ck.Kit, kit_topics: TopicSpecs, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Publish the kit's input, run every Spark job over it, read every output topic."""
    config = kafka.kafka_client_config()
    ck.publish(kit, config, kit_topics)
    checkpoints = tmp_path_factory.mktemp("conformance-spark")
    sk.run_jobs(JOBS, kafka, kit_topics, Path(checkpoints), timeout=600, jars=connector_jars(kafka))
    return {
        logical: ck.read_topic(config, kit_topics[logical].name)
        for logical in ("purchases_enriched", "purchases_invalid", "running_totals", "sales_windows")
    }


def test_enriched_rows_match_field_by_field(kit: ck.Kit, outputs: dict, kit_topics: TopicSpecs) -> None:
    ck.check_enriched(kit, outputs["purchases_enriched"], kit_topics["purchases_enriched"].partitions)


def test_dead_letters_carry_the_contracts_reason_codes(kit: ck.Kit, outputs: dict, kit_topics: TopicSpecs) -> None:
    ck.check_dead_letters(kit, outputs["purchases_invalid"], kit_topics["purchases"].name,
                          kit_topics["products"].name)


def test_running_totals_match(kit: ck.Kit, outputs: dict, kit_topics: TopicSpecs) -> None:
    ck.check_running_totals(kit, outputs["running_totals"], kit_topics["running_totals"])


def test_sliding_windows_match(kit: ck.Kit, outputs: dict, kit_topics: TopicSpecs) -> None:
    ck.check_windows(kit, outputs["sales_windows"], kit_topics["sales_windows"],
                     ck.late_letters(kit, outputs["purchases_invalid"]), kit_topics["purchases"].name,
                     exact=False)  # Spark's watermark is per micro-batch: one batch here, nothing late
