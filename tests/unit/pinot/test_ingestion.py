"""Lag and freshness arithmetic of the ingestion check."""

from __future__ import annotations

from streamstack.pinot.ingestion import TableIngestion


def test_lag_counts_offsets_and_missing_partitions() -> None:
    s = TableIngestion(
        "t", "topic", {0: 10, 1: 5, 2: 0}, {0: 10, 1: 3}, rows=13, newest_ms=1000.0, measured_at=3.0
    )
    assert s.lag == 2 and not s.caught_up
    assert s.not_consuming == []
    assert s.freshness_s == 2.0


def test_partition_with_data_but_no_consuming_segment_is_not_caught_up() -> None:
    s = TableIngestion("t", "topic", {0: 10, 1: 4}, {0: 10}, rows=10, newest_ms=None)
    assert s.not_consuming == [1] and not s.caught_up
    assert "not consuming partitions [1]" in s.summary()
    assert s.freshness_s is None


def test_caught_up() -> None:
    s = TableIngestion("t", "topic", {0: 10, 1: 0}, {0: 10}, rows=9, newest_ms=0.0)
    assert s.caught_up


def test_a_partition_behind_by_transaction_markers_only_is_caught_up() -> None:
    s = TableIngestion("t", "topic", {0: 11, 1: 7}, {0: 10, 1: 5}, rows=15, newest_ms=0.0, markers_only=[0])
    assert s.lag == 2 and not s.caught_up
    s.markers_only.append(1)
    assert s.lag == 0 and s.caught_up


def test_a_table_the_broker_does_not_route_yet_is_not_caught_up(monkeypatch) -> None:
    """Its server may have consumed every offset while the broker cannot count its rows yet: once
    seen as "caught up, 0 rows" in CI (tests/integration/pinot/test_queries.py, a table created
    seconds before)."""
    from streamstack.pinot import PinotError, ingestion

    class Unrouted:
        def consuming_offsets(self, _table: str) -> dict[int, int]:
            return {0: 16, 1: 19}

        def query_table(self, _sql: str):
            raise PinotError("broker: BrokerResourceMissingError for table purchases_54fa1d")

    class Spec:
        name, topic, time_column = "purchases_54fa1d", "demo.purchases.enriched.t", "transaction_time"

    monkeypatch.setattr(ingestion, "end_offsets", lambda _config, _topic: {0: 16, 1: 19})
    state = ingestion.measure(Unrouted(), Spec(), {})  # type: ignore[arg-type]
    assert state.lag == 0 and not state.routed and not state.caught_up
