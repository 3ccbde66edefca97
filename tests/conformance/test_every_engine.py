"""The conformance kit on every engine, through the platform's engine protocol: the three jobs,
bounded, submitted side by side on topics of the engine's own, each output checked against the kit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support import engines as te
from support import kit as ck
from support.services import created_topics

from streamstack import engines
from streamstack.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=te.ENGINES)
def run(request: pytest.FixtureRequest, kafka: Settings, kit: ck.Kit,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Publish the kit's input, run every job of the engine over it (bounded), read every output topic."""
    name = request.param
    for topics in created_topics(kafka, "c"):
        config = kafka.kafka_client_config()
        ck.publish(kit, config, topics)
        engine = te.isolated(name, kafka, topics, tmp_path_factory.mktemp(f"conformance-{name}"), request)
        statuses = te.run_bounded(engine, list(engines.JOBS), timeout=600)
        outputs = {logical: ck.read_topic(config, topics[logical].name)
                   for logical in ("purchases_enriched", "purchases_invalid", "running_totals", "sales_windows")}
        yield {"engine": name, "topics": topics, "outputs": outputs, "statuses": statuses}
        for job in engines.JOBS:
            engine.reset(job)


def test_every_job_finished_with_nothing_left_to_read(run: dict) -> None:
    for status in run["statuses"].values():
        assert status.state == engines.State.FINISHED and status.lag.total == 0, status.line()


def test_enriched_rows_match_field_by_field(kit: ck.Kit, run: dict) -> None:
    ck.check_enriched(kit, run["outputs"]["purchases_enriched"], run["topics"]["purchases_enriched"].partitions)


def test_dead_letters_carry_the_contracts_reason_codes(kit: ck.Kit, run: dict) -> None:
    topics = run["topics"]
    ck.check_dead_letters(kit, run["outputs"]["purchases_invalid"], topics["purchases"].name, topics["products"].name)


def test_running_totals_match(kit: ck.Kit, run: dict) -> None:
    ck.check_running_totals(kit, run["outputs"]["running_totals"], run["topics"]["running_totals"])


def test_sliding_windows_match(kit: ck.Kit, run: dict) -> None:
    outputs, topics = run["outputs"], run["topics"]
    # Spark's watermark is per micro-batch: one available-now batch here calls nothing late, so
    # its windows may hold the lines the others dead-letter `late` (docs/services/spark.md).
    ck.check_windows(kit, outputs["sales_windows"], topics["sales_windows"],
                     ck.late_letters(kit, outputs["purchases_invalid"]), topics["purchases"].name,
                     exact=run["engine"] != "spark")
