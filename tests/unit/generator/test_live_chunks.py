"""Live chunks (issue #28): deterministic chunks, one transaction per sale, nothing sent twice.

No broker here: the producer is a fake that records the calls; the same behaviour against the
real broker is ``tests/integration/generator/test_live_chunks_kafka.py``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

import streamstack.generator.kafka as gk
import streamstack.generator.live as live
from streamstack.contract import load_contract
from streamstack.generator import DeliveryError, SalesModel, VirtualClock, run_generator
from streamstack.generator.model import dumps
from streamstack.generator.sinks import FileSink
from streamstack.settings import Settings
from streamstack.topics import load_topics

DAG_FILE = Path(__file__).resolve().parents[3] / "dags" / "live_sales.py"


class TxSink:
    """A transactional sink that records its records and the transaction boundaries, in order."""

    destination = "memory"
    transactional = True

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        self.events: list[tuple[str, Any]] = []
        self.bytes_sent = 0
        self.connection = {"bootstrap.servers": "fake:9092"}
        self.topics = {"purchases": "p", "products": "c"}

    def begin(self) -> None:
        self.events.append(("begin", None))

    def commit(self) -> None:
        self.events.append(("commit", None))

    def send_purchase(self, transaction_id: str, value: bytes) -> None:
        self.events.append(("purchases", json.loads(value)))

    def send_record(self, kind: str, record: dict) -> None:
        self.events.append((kind, record))

    def close(self) -> None:
        self.events.append(("close", None))

    def transactions(self) -> list[list[tuple[str, Any]]]:
        """The records of each transaction; asserts none is sent outside one or left open."""
        out: list[list[tuple[str, Any]]] = []
        current: list[tuple[str, Any]] | None = None
        for kind, value in self.events:
            if kind == "begin":
                assert current is None, "begin inside an open transaction"
                current = []
            elif kind == "commit":
                assert current, "commit of an empty or unopened transaction"
                out.append(current)
                current = None
            elif kind != "close":
                assert current is not None, f"{kind} record outside a transaction"
                current.append((kind, value))
        assert current is None, "a transaction left open"
        return out


# --- seeds and chunk ids ---------------------------------------------------------------------

def test_chunk_seed_is_fixed_by_live_seed_and_chunk() -> None:
    assert live.chunk_seed(2026, 7) == live.chunk_seed(2026, 7)
    # Pinned: a change would make a retry after an upgrade draw other sales (and resend them).
    assert live.chunk_seed(2026, 0) == 5_061_132_952_047_753_013
    seeds = {live.chunk_seed(s, c) for s in (1, 2026) for c in range(200)}
    assert len(seeds) == 400 and all(0 <= s < 2**63 for s in seeds)


def test_transaction_ids_depend_on_the_seed_only_not_on_the_clock(config, catalogue) -> None:
    seed = live.chunk_seed(2026, 1)
    wall = SalesModel(config, catalogue, seed)  # the wall clock, as a live run
    past = SalesModel(config, catalogue, seed, clock=VirtualClock(datetime(1999, 3, 1, tzinfo=UTC)))
    ids = [wall.next_transaction().transaction_id for _ in range(300)]
    assert ids == [past.next_transaction().transaction_id for _ in range(300)]
    assert ids[:20] == live.chunk_ids(config, catalogue, seed, 20) and len(set(ids)) == 300
    assert live.chunk_ids(config, catalogue, live.chunk_seed(2026, 2), 20) != ids[:20]


# --- one transaction per sale ----------------------------------------------------------------

def test_each_sale_is_one_transaction_with_its_lines_and_restocks(config, catalogue) -> None:
    sink = TxSink()
    summary = run_generator(SalesModel(config, catalogue, 11), sink, mode="load", transactions=3000)
    assert summary.inventories > 0, "no restock drawn: the test would not cover them"
    catalogue_tx, *sales = sink.transactions()
    assert [k for k, _ in catalogue_tx] == ["products"] * len(catalogue)
    assert len(sales) == summary.transactions == 3000
    restocks = 0
    for records in sales:
        kinds = [k for k, _ in records]
        lines = [v for k, v in records if k == "purchases"]
        assert kinds == ["purchases"] * len(lines) + ["inventories"] * (len(kinds) - len(lines))
        assert len({line["transaction_id"] for line in lines}) == 1
        assert [line["line_number"] for line in lines] == list(range(1, len(lines) + 1))
        restocks += len(kinds) - len(lines)
    assert restocks == summary.inventories
    assert sink.events[-1] == ("close", None)


class Untransactional(TxSink):
    """Hooks that must not be called: the sink says it has no transactions."""

    transactional = False

    def begin(self) -> None:
        raise AssertionError("begin called on a sink without transactions")

    commit = begin


def test_sinks_without_transactions_are_not_bracketed(config, catalogue, sink, tmp_path) -> None:
    run_generator(SalesModel(config, catalogue, 3), Untransactional(), mode="load", transactions=50)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    run_generator(SalesModel(config, catalogue, 3, clock=VirtualClock(start)), sink, mode="load",
                  transactions=50)  # a sink with no hooks at all
    files = FileSink(tmp_path / "sales.jsonl")
    assert files.transactional is False
    run_generator(SalesModel(config, catalogue, 3, clock=VirtualClock(start)), files, mode="load", transactions=50)
    files.begin()
    files.commit()
    assert b"".join(v + b"\n" for v in sink.of("purchases")) == (tmp_path / "sales.jsonl").read_bytes()


def test_a_simulated_run_refuses_a_transactional_sink(config, catalogue) -> None:
    from streamstack.generator import GeneratorError, build_simulation

    model = SalesModel(config, catalogue, 3)
    with pytest.raises(GeneratorError, match="transactional"):
        run_generator(model, TxSink(), mode="load", simulation=build_simulation(model, 1))


# --- KafkaSink with a transactional_id (fake producer) ---------------------------------------

class _Meta:
    def __init__(self, topics: list[str]) -> None:
        self.topics = dict.fromkeys(topics)


class FakeProducer:
    """Records the transactional calls; ``fail_commit`` makes the next commit need an abort."""

    def __init__(self, config: dict[str, Any], names: list[str], transactional: bool) -> None:
        self.config = config
        self.names = names
        self.calls: list[str] = []
        self.fail_commit = False
        if transactional:
            for name in ("init_transactions", "begin_transaction", "abort_transaction"):
                setattr(self, name, lambda *_a, _n=name: self.calls.append(_n))
            self.commit_transaction = self._commit

    def _commit(self, _timeout: float) -> None:
        if self.fail_commit:
            raise KafkaException(KafkaError(KafkaError._STATE, "broker refused a record", txn_requires_abort=True))
        self.calls.append("commit_transaction")

    def list_topics(self, timeout: float) -> _Meta:
        return _Meta(self.names)

    def produce(self, topic: str, value: bytes, key: str | None = None) -> None:
        self.calls.append(f"produce {topic}")

    def poll(self, timeout: float) -> int:
        return 0

    def flush(self, timeout: float) -> int:
        self.calls.append("flush")
        return 0


def _kafka_sink(monkeypatch: pytest.MonkeyPatch, transactional_id: str | None) -> tuple[gk.KafkaSink, FakeProducer]:
    topics = load_topics(Settings.from_env().topics_file)
    made: list[FakeProducer] = []
    monkeypatch.setattr(gk, "make_producer", lambda config: made.append(
        FakeProducer(config, [s.name for s in topics], "transactional.id" in config)) or made[-1])
    return gk.KafkaSink({"bootstrap.servers": "localhost:1"}, topics, transactional_id=transactional_id), made[0]


def test_a_kafka_sink_without_transactional_id_has_no_op_hooks(monkeypatch, config, catalogue) -> None:
    sink, producer = _kafka_sink(monkeypatch, None)
    assert sink.transactional is False and "transactional.id" not in producer.config
    sink.begin()  # the fake has no transaction methods: a call would raise AttributeError
    sink.commit()
    run_generator(SalesModel(config, catalogue, 5), sink, mode="load", transactions=20)
    assert all(c.startswith("produce") or c == "flush" for c in producer.calls)


def test_a_transactional_kafka_sink_brackets_each_sale(monkeypatch, config, catalogue) -> None:
    sink, producer = _kafka_sink(monkeypatch, "live-test")
    assert producer.config["transactional.id"] == "live-test" and producer.calls == ["init_transactions"]
    run_generator(SalesModel(config, catalogue, 5), sink, mode="load", transactions=20)
    assert producer.calls.count("begin_transaction") == producer.calls.count("commit_transaction") == 21
    assert producer.calls[-1] == "flush" and "abort_transaction" not in producer.calls
    # Every record is produced between a begin and the commit that follows it.
    inside = False
    for call in producer.calls[1:-1]:
        if call == "begin_transaction":
            assert not inside
            inside = True
        elif call == "commit_transaction":
            inside = False
        else:
            assert inside, f"{call} outside a transaction"


def test_a_failed_commit_aborts_the_sale_and_raises(monkeypatch) -> None:
    sink, producer = _kafka_sink(monkeypatch, "live-test")
    sink.begin()
    sink.send_purchase("1", b"{}")
    sink.commit()
    sink.begin()
    sink.send_purchase("2", b"{}")
    producer.fail_commit = True
    with pytest.raises(DeliveryError, match="not committed: .*broker refused a record"):
        sink.commit()
    assert producer.calls[-1] == "abort_transaction"
    assert sink.landed() == {sink.topics["purchases"]: 1}  # the committed sale only


def test_close_aborts_a_sale_left_open(monkeypatch) -> None:
    sink, producer = _kafka_sink(monkeypatch, "live-test")
    sink.begin()
    sink.send_purchase("1", b"{}")
    sink.close()  # e.g. Ctrl-C mid-sale: nothing of it becomes visible
    assert producer.calls[-2:] == ["abort_transaction", "flush"]


# --- the catalogue: published only when the topic does not hold it ---------------------------

def _versions(catalogue, at: str, **changes: Any) -> list[tuple[str, bytes]]:
    return [(p.product_id, dumps({**p.event(at), **changes.get(p.product_id, {})})) for p in catalogue.products]


def test_the_catalogue_is_current_only_when_every_product_is_valid_now(catalogue) -> None:
    contract = load_contract()
    now = "2026-03-01 12:00:00.000000"
    held = _versions(catalogue, "2026-02-01 08:00:00.000000")
    first = catalogue.products[0].product_id
    assert live.catalogue_current(held, catalogue, now, contract)
    # A later stock level is the same version; a malformed record is no version.
    assert live.catalogue_current(held + _versions(catalogue, "2026-02-02 08:00:00.000000",
                                                   **{first: {"inventory_level": 3}}) + [(first, b"{")],
                                  catalogue, now, contract)
    assert not live.catalogue_current([], catalogue, now, contract)
    assert not live.catalogue_current(held[1:], catalogue, now, contract)  # a product missing
    repriced = [(k, v) for k, v in _versions(catalogue, "2026-02-20 00:00:00.000000",
                                             **{first: {"price": 99.0}}) if k == first]
    assert not live.catalogue_current(held + repriced, catalogue, now, contract)  # another price valid now
    assert live.catalogue_current(held + repriced, catalogue, "2026-02-19 00:00:00.000000", contract)  # not yet


def _run_chunk(monkeypatch, config, catalogue, *, landed: set[str], products: list[tuple[str, bytes]],
               transactions: int = 8) -> tuple[Any, TxSink]:
    sinks: list[TxSink] = []
    monkeypatch.setattr(live, "KafkaSink", lambda *a, **kw: sinks.append(TxSink()) or sinks[-1])
    monkeypatch.setattr(live, "landed_ids", lambda config, topic, since_ms: set(landed))
    monkeypatch.setattr(live, "read_to_end", lambda config, topic, raw: [{"key": k, "value": v} for k, v in products])
    summary = live.run_chunk({"bootstrap.servers": "fake:9092"}, None, live_seed=2026, chunk=4,  # type: ignore[arg-type]
                             transactions=transactions, speed=1000.0, since_ms=0, config=config, catalogue=catalogue)
    return summary, sinks[0]


def test_a_chunk_skips_the_catalogue_the_topic_holds(monkeypatch, config, catalogue) -> None:
    summary, sink = _run_chunk(monkeypatch, config, catalogue, landed=set(), products=[])
    assert summary.products == len(catalogue)
    assert [k for k, _ in sink.transactions()[0]] == ["products"] * len(catalogue)  # one transaction
    summary, sink = _run_chunk(monkeypatch, config, catalogue, landed=set(),
                               products=_versions(catalogue, "2020-01-01 00:00:00.000000"))
    assert summary.products == 0 and not [k for k, _ in sink.events if k == "products"]
    assert summary.transactions == 8 and len(sink.transactions()) == 8


def test_a_retried_chunk_sends_only_the_sales_that_did_not_land(monkeypatch, config, catalogue) -> None:
    ids = live.chunk_ids(config, catalogue, live.chunk_seed(2026, 4), 8)
    full, first = _run_chunk(monkeypatch, config, catalogue, landed=set(), products=[])
    summary, retry = _run_chunk(monkeypatch, config, catalogue, landed={ids[1], ids[4], "42"}, products=[])
    assert (full.skipped, summary.skipped, summary.transactions) == (0, 2, 6)

    def sales(sink: TxSink) -> list[tuple[str, list]]:
        """(transaction_id, its records without the time) of each sale sent."""
        out = []
        for records in sink.transactions():
            if records[0][0] == "purchases":
                out.append((records[0][1]["transaction_id"],
                            [(k, {f: x for f, x in v.items() if f not in ("transaction_time", "event_time")})
                             for k, v in records]))
        return out

    assert [tid for tid, _ in sales(first)] == ids
    # The same sales as the full chunk, restocks included, minus the two that landed.
    assert sales(retry) == [s for s in sales(first) if s[0] not in (ids[1], ids[4])]


# --- the Airflow layer: which chunk a run is, since when it reads ---------------------------

def test_a_retry_or_clear_is_the_same_chunk_and_the_next_run_another() -> None:
    from streamstack.providers.generator.operators import live_chunk

    created = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    run = SimpleNamespace(run_id="scheduled__2026-03-01T11:58:50+00:00", run_after=created,
                          start_date=created + timedelta(seconds=2))
    chunk, since = live_chunk(run)
    assert since == int(created.timestamp() * 1000) - 60_000
    assert live_chunk(run) == (chunk, since)  # a retry: the same run
    cleared = SimpleNamespace(**{**vars(run), "start_date": created + timedelta(days=1)})
    assert live_chunk(cleared) == (chunk, since)  # a clear restarts the run, not its sales
    following = SimpleNamespace(run_id="scheduled__2026-03-01T12:00:00+00:00", run_after=created + timedelta(seconds=70),
                                start_date=created + timedelta(seconds=71))
    assert live_chunk(following)[0] != chunk


def test_the_operator_runs_the_runs_chunk_with_checked_params(monkeypatch) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from streamstack.providers.generator import operators
    from streamstack.providers.kafka.hooks import KafkaConfigHook

    calls: list[dict] = []
    monkeypatch.setattr(KafkaConfigHook, "client_config", lambda self: {"bootstrap.servers": self.kafka_config_id})
    monkeypatch.setattr(live, "run_chunk", lambda *a, **kw: calls.append({"args": a, **kw}) or SimpleNamespace(
        to_dict=lambda: {"transactions": kw["transactions"], "skipped": 0}))
    created = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    run = SimpleNamespace(run_id="manual__1", run_after=created, start_date=created)
    op = operators.LiveSalesOperator(task_id="chunk", transactions="20", speed="1.0", live_seed="2026")
    result = op.execute({"dag_run": run})
    (call,) = calls
    assert call["args"][0] == {"bootstrap.servers": "kafka_default"}
    assert (call["live_seed"], call["transactions"], call["speed"]) == (2026, 20, 1.0)
    assert (call["chunk"], call["since_ms"]) == operators.live_chunk(run) and "transactional_id" not in call
    assert result["chunk"] == call["chunk"] and result["live_seed"] == 2026 and result["skipped"] == 0
    with pytest.raises(AirflowFailException, match="live_seed"):
        operators.LiveSalesOperator(task_id="chunk", live_seed="None").execute({"dag_run": run})


def test_the_live_dag_runs_chunk_after_chunk() -> None:
    from airflow.models import DagBag
    from airflow.serialization.serialized_objects import DagSerialization

    from streamstack.providers.generator.operators import LIVE_SEED, LiveSalesOperator

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    dag = bag.dags["live_sales"]
    DagSerialization.to_dict(dag)
    assert type(dag.timetable).__name__ == "ContinuousTimetable" and dag.max_active_runs == 1
    assert dag.is_paused_upon_creation is True and dag.catchup is False
    (task,) = dag.tasks
    # No Asset event: stream_jobs (scheduled on the purchases Asset) would start a bounded run per chunk.
    assert isinstance(task, LiveSalesOperator) and task.outlets == []
    assert task.retries >= 1  # a retry is safe: it sends only what did not land
    assert dag.params.validate() == {"transactions": 20, "speed": 1.0, "live_seed": LIVE_SEED}
