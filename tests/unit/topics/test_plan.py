"""The reconciliation plan, against a broker state given in the test (no broker)."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

import pytest

from streamstack.errors import TopicReconcileError
from streamstack.topics import TopicAdmin, TopicSpec, TopicState


class AcceptingAdmin:
    """An admin client whose validate-only requests all succeed (a dry run sends only those)."""

    def _ok(self, items, validate_only: bool = False, **_: object) -> dict:
        assert validate_only, "a dry run must not send a real change"
        done: Future = Future()
        done.set_result(None)
        return {getattr(i, "topic", getattr(i, "name", i)): done for i in items}

    create_topics = incremental_alter_configs = create_partitions = _ok


class FakeStateAdmin(TopicAdmin):
    """TopicAdmin whose view of the cluster is a dict, so plan() can be tested alone."""

    def __init__(self, states: dict[str, TopicState]) -> None:
        self.states = states
        self.timeout = 1.0
        self.admin = AcceptingAdmin()

    def describe(self, names):  # type: ignore[override]
        return [self.states.get(n) for n in names]


SPEC = TopicSpec(
    "purchases",
    "demo.purchases",
    3,
    1,
    {"retention.ms": "1000", "cleanup.policy": "delete"},
    key="transaction_id",
)


def state(partitions: int = 3, rf: int = 1, **configs: str) -> TopicState:
    base = {"retention.ms": "1000", "cleanup.policy": "delete", "segment.ms": "5"}
    base.update({k.replace("_", "."): v for k, v in configs.items()})
    return TopicState("demo.purchases", partitions, rf, base)


def test_missing_topic_is_created_with_configs() -> None:
    (change,) = FakeStateAdmin({}).plan([SPEC])
    assert change.action == "create"
    assert "partitions=3" in change.detail and "retention.ms=1000" in change.detail


def test_matching_topic_is_unchanged_and_undeclared_configs_are_ignored() -> None:
    (change,) = FakeStateAdmin({"demo.purchases": state()}).plan([SPEC])
    assert change.action == "unchanged"


def test_drifted_config_is_altered() -> None:
    (change,) = FakeStateAdmin({"demo.purchases": state(retention_ms="5")}).plan([SPEC])
    assert change.action == "alter-configs"
    assert change.detail == "retention.ms: 5 -> 1000"


def test_list_config_order_does_not_count_as_drift() -> None:
    spec = TopicSpec("t", "demo.purchases", 3, 1, {"cleanup.policy": "compact,delete"}, key="k")
    (change,) = FakeStateAdmin({"demo.purchases": state(cleanup_policy="delete,compact")}).plan([spec])
    assert change.action == "unchanged"


def test_more_partitions_are_added_with_a_keyed_warning() -> None:
    (change,) = FakeStateAdmin({"demo.purchases": state(partitions=1)}).plan([SPEC])
    assert change.action == "add-partitions"
    assert change.detail.startswith("1 -> 3") and "transaction_id" in change.detail


def test_partition_decrease_and_rf_change_are_refused_together() -> None:
    admin = FakeStateAdmin({"demo.purchases": state(partitions=6, rf=3)})
    with pytest.raises(TopicReconcileError) as err:
        admin.plan([SPEC])
    message = str(err.value)
    assert "declared 3 partitions but the topic has 6" in message
    assert "replication factor 1 but the topic has 3" in message


def test_dry_run_changes_nothing() -> None:
    result = FakeStateAdmin({}).apply([SPEC], dry_run=True)
    assert result.dry_run and [c.action for c in result.changed] == ["create"]
    assert "would create" in result.lines()[0]


def test_result_dict_is_json_friendly() -> None:
    import json

    result = FakeStateAdmin({"demo.purchases": state()}).apply([SPEC], dry_run=True)
    assert json.loads(json.dumps(result.to_dict()))["changed"] == 0


def test_project_topics_file_has_no_unknown_configs() -> None:
    from streamstack.events import SCHEMAS
    from streamstack.topics import load_topics

    specs = load_topics(Path(__file__).resolve().parents[3] / "config" / "topics.yaml")
    # Every event schema has its declared topic, under the demo's names, and nothing else is declared.
    assert sorted(s.logical for s in specs.topics) == sorted(SCHEMAS)
    assert all(s.name.startswith("demo.") and s.partitions >= 1 for s in specs.topics)
