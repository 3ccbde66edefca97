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

        def query_response(self, _sql: str):
            raise PinotError("broker: BrokerResourceMissingError for table purchases_54fa1d")

    class Spec:
        name, topic, time_column = "purchases_54fa1d", "demo.purchases.enriched.t", "transaction_time"

    monkeypatch.setattr(ingestion, "end_offsets", lambda _config, _topic: {0: 16, 1: 19})
    state = ingestion.measure(Unrouted(), Spec(), {})  # type: ignore[arg-type]
    assert state.lag == 0 and not state.routed and not state.caught_up


def test_a_consuming_segment_the_broker_does_not_route_yet_is_not_caught_up(monkeypatch) -> None:
    """The broker may know the table but not yet its consuming segment: it answers COUNT(*) 0 from
    no segment at all while the server has consumed every offset. Seen in CI as "caught up, 0 rows"
    (tests/integration/pinot/test_shop_week.py, events: consumed 187 of 187, rows 0)."""
    from streamstack.pinot import ingestion

    class SegmentUnrouted:
        segments = 0

        def consuming_offsets(self, _table: str) -> dict[int, int]:
            return {0: 187}

        def query_response(self, _sql: str) -> dict:
            rows = [[0, "-9223372036854775808"]] if not self.segments else [[187, 1000]]
            return {"resultTable": {"rows": rows}, "numSegmentsQueried": self.segments}

    class Spec:
        name, topic, time_column = "events_e621f8", "demo.events.t", "event_time"

    monkeypatch.setattr(ingestion, "end_offsets", lambda _config, _topic: {0: 187})
    client = SegmentUnrouted()
    state = ingestion.measure(client, Spec(), {})  # type: ignore[arg-type]
    assert state.lag == 0 and not state.routed and not state.caught_up
    client.segments = 1
    state = ingestion.measure(client, Spec(), {})  # type: ignore[arg-type]
    assert state.caught_up and state.rows == 187
