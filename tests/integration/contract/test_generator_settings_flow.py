"""A generator setting changes what every validator accepts: the whole chain on other shop numbers.

Member discount 0.15, supplements at 2.49 and four quantity weights (quantity up to 4) load
cleanly in the generator; before the event contract, Spark dead-lettered quantity 4 and the
quality gate failed every batch on the hard-coded 0.10 / 1.99. Through the contract, the
generator's run ends with zero dead letters and a passing gate.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from support.spark_testkit import run_job

from streamstack.contract import load_contract, quantity_range
from streamstack.generator import build_model, load_catalogue, load_config, run_generator
from streamstack.generator.kafka import KafkaSink
from streamstack.quality import CheckOptions, QualityRunner, read_kafka_window
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs
from streamstack.topics.offsets import end_offsets

pytestmark = pytest.mark.integration


@pytest.fixture
def other_shop(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = yaml.safe_load((settings.config_dir / "generator.yaml").read_text())
    data.update(
        member_discount=0.15,
        supplement_price=2.49,
        quantity_weights=[0.55, 0.25, 0.12, 0.08],
        catalogue_file=str(settings.config_dir / "products.csv"),
    )
    file = tmp_path / "generator.yaml"
    file.write_text(yaml.safe_dump(data))
    monkeypatch.setenv("STREAMSTACK_GENERATOR_CONFIG", str(file))
    return file


def test_other_shop_numbers_flow_through_with_no_dead_letter_and_a_passing_gate(
    kafka: Settings, kafka_config: dict, fresh_topics: TopicSpecs, other_shop: Path, tmp_path: Path
) -> None:
    contract = load_contract()
    assert quantity_range(contract) == (1, 4)
    config = load_config(other_shop)
    started = datetime.now(UTC)
    model = build_model(config, load_catalogue(config.catalogue_file), 77, start_time=started - timedelta(minutes=40))
    summary = run_generator(model, KafkaSink(kafka_config, fresh_topics, config.producer), mode="load",
                            transactions=400)
    assert summary.transactions == 400

    run_job("purchases_enrichment", kafka, fresh_topics, tmp_path / "ck", timeout=300)

    assert sum(end_offsets(kafka_config, fresh_topics["purchases_invalid"].name).values()) == 0
    enriched = sum(end_offsets(kafka_config, fresh_topics["purchases_enriched"].name).values())
    assert enriched == sum(end_offsets(kafka_config, fresh_topics["purchases"].name).values()) > 400

    batch = read_kafka_window(kafka_config, fresh_topics["purchases_enriched"].name, started - timedelta(minutes=1),
                              datetime.now(UTC) + timedelta(seconds=5))
    assert batch.frame["purchase_quantity"].max() == 4  # the fourth weight was drawn
    assert set(batch.frame["member_discount"].round(2)) == {0.0, 0.15}
    verdict = QualityRunner(kafka, results_root=tmp_path / "q").check(batch, options=CheckOptions(data_docs=False))
    assert verdict.status == "passed", (verdict.failed_names, verdict.lines())
    assert verdict.rows_checked == enriched
