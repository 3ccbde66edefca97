"""Topic reconciliation against the real broker: create, re-apply, repair drift, refuse."""

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


def wait_for(condition, timeout: float = 15.0) -> None:
    """Brokers apply admin changes from the KRaft log shortly after the request completes."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


@pytest.fixture
def specs(kafka: Settings):
    suffix = uuid.uuid4().hex[:8]
    declared = load_topics(kafka.topics_file)
    renamed = TopicSpecs(
        declared.file, tuple(replace(s, name=f"{s.name}.apply{suffix}") for s in declared.topics)
    )
    yield renamed
    admin = admin_client(kafka.kafka_client_config())
    existing = admin.list_topics(timeout=10).topics
    doomed = [s.name for s in renamed if s.name in existing]
    if doomed:
        for future in admin.delete_topics(doomed, operation_timeout=30).values():
            future.result()


def test_three_runs_create_then_change_nothing(kafka_config, specs: TopicSpecs) -> None:
    admin = TopicAdmin(kafka_config)
    first = admin.apply(specs)
    assert {c.action for c in first.changes} == {"create"}
    assert len(first.changed) == len(specs.topics)
    for _ in range(2):
        again = admin.apply(specs)
        assert again.changed == [], again.lines()
    for spec, state in zip(specs, admin.describe(s.name for s in specs), strict=True):
        assert state is not None
        assert state.partitions == spec.partitions
        assert state.replication_factor == spec.replication_factor
        for key, value in spec.configs.items():
            assert state.overrides[key] == value, (spec.name, key)


def test_drifted_config_is_repaired(kafka_config, specs: TopicSpecs) -> None:
    admin = TopicAdmin(kafka_config)
    admin.apply(specs)
    target = specs["purchases"]
    # Someone changes retention by hand.
    raw = admin_client(kafka_config)
    resource = ConfigResource(
        ResourceType.TOPIC,
        target.name,
        incremental_configs=[
            ConfigEntry("retention.ms", "1234", incremental_operation=AlterConfigOpType.SET)
        ],
    )
    for future in raw.incremental_alter_configs([resource]).values():
        future.result()
    wait_for(lambda: admin.describe([target.name])[0].overrides["retention.ms"] == "1234")

    result = admin.apply(specs)
    (change,) = result.changed
    assert change.topic == target.name and change.action == "alter-configs"
    assert "retention.ms: 1234 -> " in change.detail
    assert admin.describe([target.name])[0].overrides["retention.ms"] == target.configs["retention.ms"]
    assert admin.apply(specs).changed == []


def test_partitions_grow_but_never_shrink(kafka_config, specs: TopicSpecs) -> None:
    admin = TopicAdmin(kafka_config)
    admin.apply(specs)
    target = specs["purchases"]
    grown = TopicSpecs(
        specs.file, tuple(replace(s, partitions=s.partitions + 2) if s is target else s for s in specs)
    )
    (change,) = admin.apply(grown).changed
    assert change.action == "add-partitions"
    assert admin.describe([target.name])[0].partitions == target.partitions + 2

    # Back to the original file: a decrease, refused with the reason; nothing is touched.
    with pytest.raises(TopicReconcileError, match=f"{target.name}: declared {target.partitions} partitions"):
        admin.apply(specs)
    assert admin.describe([target.name])[0].partitions == target.partitions + 2


def test_replication_change_is_refused(kafka_config, specs: TopicSpecs) -> None:
    admin = TopicAdmin(kafka_config)
    admin.apply(specs)
    target = specs["products"]
    changed = TopicSpecs(
        specs.file, tuple(replace(s, replication_factor=3) if s is target else s for s in specs)
    )
    with pytest.raises(TopicReconcileError, match="replication factor 3 but the topic has 1"):
        admin.apply(changed)


def test_impossible_replication_on_create_fails_loudly(kafka_config, specs: TopicSpecs) -> None:
    lone = replace(specs["inventories"], replication_factor=3)
    with pytest.raises(TopicReconcileError, match=rf"topics.inventories \({lone.name}\): Unable to replicate.*nothing was changed"):
        TopicAdmin(kafka_config).apply([lone])
