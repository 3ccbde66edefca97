"""Finding #6: an apply validates every value with the broker before changing anything, and
config overrides nobody declared are drift (reported, removed on request)."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace

import pytest
from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, ResourceType

from streamstack.clients import admin_client
from streamstack.errors import TopicReconcileError
from streamstack.settings import Settings
from streamstack.topics import TopicAdmin, TopicSpecs, load_topics

pytestmark = pytest.mark.integration


@pytest.fixture
def specs(kafka: Settings):
    suffix = uuid.uuid4().hex[:8]
    declared = load_topics(kafka.topics_file)
    renamed = TopicSpecs(declared.file, tuple(replace(s, name=f"{s.name}.safe{suffix}") for s in declared.topics))
    yield renamed
    admin = admin_client(kafka.kafka_client_config())
    existing = admin.list_topics(timeout=10).topics
    doomed = [s.name for s in renamed if s.name in existing]
    if doomed:
        for future in admin.delete_topics(doomed, operation_timeout=30).values():
            future.result()


def _with(specs: TopicSpecs, logical: str, **configs: str) -> TopicSpecs:
    return TopicSpecs(
        specs.file,
        tuple(replace(s, configs={**s.configs, **configs}) if s.logical == logical else s for s in specs.topics),
    )


def test_a_value_the_broker_rejects_changes_nothing_and_names_file_and_key(kafka_config, specs: TopicSpecs) -> None:
    admin = TopicAdmin(kafka_config)
    products = specs["products"]
    # One topic exists with a drifted config (an apply would alter it), the others are missing.
    admin.apply([replace(products, configs={**products.configs, "min.compaction.lag.ms": "1000"})])
    bad = _with(specs, "purchases", **{"retention.ms": "30d"})
    for dry_run in (True, False):
        with pytest.raises(TopicReconcileError) as err:
            admin.apply(bad, dry_run=dry_run)
        message = str(err.value)
        assert str(specs.file) in message and "topics.purchases.configs.retention.ms" in message, message
        assert "30d" in message and "\n" not in message.strip(), message
    states = admin.describe(s.name for s in specs)
    assert [s is not None for s in states] == [s.logical == "products" for s in specs], "a topic was created"
    assert states[[s.logical for s in specs].index("products")].configs["min.compaction.lag.ms"] == "1000"


def test_undeclared_overrides_are_drift_and_removed_on_request(kafka_config, specs: TopicSpecs) -> None:
    admin = TopicAdmin(kafka_config)
    admin.apply(specs)
    purchases = specs["purchases"].name
    entries = [
        ConfigEntry("max.message.bytes", "2000000", incremental_operation=AlterConfigOpType.SET),
        ConfigEntry("retention.bytes", "1000000", incremental_operation=AlterConfigOpType.SET),
    ]
    raw = admin_client(kafka_config)
    for f in raw.incremental_alter_configs([ConfigResource(ResourceType.TOPIC, purchases, incremental_configs=entries)]).values():
        f.result()
    deadline = time.monotonic() + 15
    while "retention.bytes" not in admin.describe([purchases])[0].overrides:
        assert time.monotonic() < deadline
        time.sleep(0.2)

    drift = [c for c in admin.plan(specs) if c.topic == purchases and c.action != "unchanged"]
    assert [c.action for c in drift] == ["undeclared-configs"], drift
    assert "max.message.bytes=2000000" in drift[0].detail and "retention.bytes=1000000" in drift[0].detail

    kept = admin.apply(specs)  # reported, but not removed without asking
    assert any(c.action == "undeclared-configs" for c in kept.changes)
    assert "retention.bytes" in admin.describe([purchases])[0].overrides

    removed = admin.apply(specs, remove_undeclared=True)
    assert [c.action for c in removed.changes if c.topic == purchases] == ["remove-configs"]
    overrides = admin.describe([purchases])[0].overrides
    assert "retention.bytes" not in overrides and "max.message.bytes" not in overrides, overrides
    assert all(c.action == "unchanged" for c in admin.plan(specs))
