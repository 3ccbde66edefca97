"""The conformance kit on Flink: the three PyFlink jobs, bounded, on the real session cluster and broker."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support import kit as ck

from streamstack.contract import write_contract
from streamstack.flink.config import FlinkConfig
from streamstack.flink.jobs import JOB_NAMES, submission
from streamstack.flink.rest import FlinkRest
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def outputs(kafka: Settings, flink: FlinkConfig, kit: ck.Kit, kit_topics: TopicSpecs,
            tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Publish the kit's input, run every Flink job over it (bounded), read every output topic."""
    config = kafka.kafka_client_config()
    ck.publish(kit, config, kit_topics)
    contract = write_contract(Path(tmp_path_factory.mktemp("conformance-flink")) / "contract.json", kit.contract)
    names = {spec.logical: spec.name for spec in kit_topics.topics}
    rest = FlinkRest(flink.rest_url)
    suffix = names["purchases"].rsplit(".", 1)[-1]
    # Side by side, as the DAG runs them: each `flink run` client spends most of its time
    # starting a JVM and a Python planner, which overlap; the TaskManager has a slot for each.
    with ThreadPoolExecutor(max_workers=len(JOB_NAMES)) as pool:
        submitted = [pool.submit(submission(job, flink, contract, names, mode="bounded",
                                            name=f"streamstack.{job}.{suffix}").run) for job in JOB_NAMES]
        for jid in [f.result() for f in submitted]:
            rest.wait_state(jid, {"FINISHED"}, timeout=600)
    return {
        logical: ck.read_topic(config, names[logical])
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
                     ck.late_letters(kit, outputs["purchases_invalid"]), kit_topics["purchases"].name)
