"""Live sales in bounded chunks that a retry never sends twice.

The platform runs live as a stream of chunks (the ``live_sales`` DAG: one chunk per DAG run).
A chunk is deterministic: its seed derives from ``(live_seed, chunk)``, and the model draws
transaction ids from that seed alone (never from the clock), so a retry regenerates the same
sales with the same ids. Each sale is one Kafka transaction (``KafkaSink`` with a
``transactional_id``), so it is on the topic whole or not at all for ``read_committed`` readers.

A retry first opens the transactional producer — which fences the failed attempt's producer
and ends its open transaction — then reads the ``transaction_id``s on the purchases topic since
the run began (``read_committed``: a sale that was aborted or fenced is not there) and sends only
the chunk's sales that are missing. The catalogue is published only when the products topic does
not already hold it as the version valid now.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import KafkaException, TopicPartition

from streamstack import contract as rules
from streamstack.clients import consumer, producer
from streamstack.errors import StreamstackError
from streamstack.events import PRODUCT, field_names
from streamstack.generator.catalogue import Catalogue, load_catalogue
from streamstack.generator.config import GeneratorConfig, load_config
from streamstack.generator.errors import GeneratorError
from streamstack.generator.kafka import KafkaSink
from streamstack.generator.model import SalesModel, Transaction, VirtualClock
from streamstack.generator.run import RunSummary, run_generator
from streamstack.topics import TopicSpecs
from streamstack.topics.offsets import end_offsets, read_range, read_to_end

#: One producer identity for the live stream: each attempt fences the one before (max_active_runs=1).
DEFAULT_TRANSACTIONAL_ID = "streamstack-live-generator"
#: Product fields that make a catalogue version (the time and the stock level do not).
VERSION_FIELDS = tuple(f for f in field_names(PRODUCT) if f not in ("event_time", "inventory_level"))


def _hash63(text: str) -> int:
    """A non-negative 63-bit integer from SHA-256: the same in every process (``hash()`` is salted)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


def chunk_seed(live_seed: int, chunk: int) -> int:
    """The seed of one chunk: the same ``(live_seed, chunk)`` gives the same sales, ids included."""
    return _hash63(f"streamstack-live/{live_seed}/{chunk}")


def chunk_of(run_id: str) -> int:
    """The chunk of an Airflow DAG run, from its ``run_id``: the same for every retry and clear
    of the run (they must resend nothing), another for the next run."""
    return _hash63(f"streamstack-live-run/{run_id}")


def chunk_ids(config: GeneratorConfig, catalogue: Catalogue, seed: int, transactions: int) -> list[str]:
    """The transaction ids of a chunk, in order: they depend on the seed only, not on any clock."""
    model = SalesModel(config, catalogue, seed, clock=VirtualClock(datetime(2000, 1, 1, tzinfo=UTC)))
    return [model.next_transaction().transaction_id for _ in range(transactions)]


class ChunkModel(SalesModel):
    """The chunk's model, drawing past the sales in ``skip``: they landed in an earlier attempt.

    A skipped sale is still drawn, so it moves the inventory as it did then and every later sale
    (and restock) is the same as in an attempt that skipped nothing.
    """

    def __init__(self, config: GeneratorConfig, catalogue: Catalogue, seed: int, skip: set[str]) -> None:
        super().__init__(config, catalogue, seed)
        self.skip = skip

    def next_transaction(self) -> Transaction:
        tx = super().next_transaction()
        while tx.transaction_id in self.skip:
            tx = super().next_transaction()
        return tx


def _transaction_id(key: bytes | None, value: bytes | None) -> str | None:
    """A purchase record's transaction id: its key (``config/topics.yaml``), else its value's field."""
    if key is not None:
        return key.decode("utf-8", errors="replace")
    try:
        record = json.loads(value or b"")
    except ValueError:
        return None  # not a purchase (the engines dead-letter it); it is no sale of a chunk
    tid = record.get("transaction_id") if isinstance(record, dict) else None
    return str(tid) if tid is not None else None


def landed_ids(kafka_config: Mapping[str, Any], topic: str, since_ms: int, *, timeout: float = 60.0) -> set[str]:
    """The transaction ids on ``topic`` from the records of time ``since_ms`` on to the end, ``read_committed``.

    Reading from a time (``offsets_for_times``) keeps the read to the run's own minutes instead of
    the topic's week. A sale whose transaction was aborted, or is still open in a fenced
    producer, is not returned: it is not visible, so it is sent again.
    """
    ends = end_offsets(kafka_config, topic)
    c = consumer({**kafka_config, "group.id": f"streamstack-live-{time.time_ns()}", "enable.auto.commit": False})
    try:
        starts: dict[int, int] = {}
        for tp in c.offsets_for_times([TopicPartition(topic, p, since_ms) for p in ends], timeout=timeout):
            if tp.error is not None:
                raise GeneratorError(f"cannot find the offsets of {topic} at {since_ms} ms: {tp.error}")
            starts[tp.partition] = ends[tp.partition] if tp.offset < 0 else tp.offset  # -1: nothing that recent
    finally:
        c.close()
    found: set[str] = set()
    try:
        for msg in read_range(kafka_config, topic, starts, ends, timeout=timeout):
            tid = _transaction_id(msg.key(), msg.value())
            if tid is not None:
                found.add(tid)
    except StreamstackError as exc:
        raise GeneratorError(str(exc)) from None
    return found


def catalogue_current(
    records: Iterable[tuple[str | bytes | None, str | bytes | None]], catalogue: Catalogue, now: str,
    contract: Mapping[str, Any],
) -> bool:
    """Whether, for every catalogue product, the version valid at ``now`` among the products-topic
    ``(key, value)`` records is this catalogue's (same fields but time and stock level).

    Then a chunk's sales join these versions and the catalogue is not published again; a product
    missing, a price edited in the catalogue, or another version valid now (a simulated price
    change) publishes it. Malformed records are not versions (the contract's ``products`` checks).
    """
    valid: dict[str, dict[str, Any]] = {}
    for key, value in records:
        record, reason = rules.check_product(value, contract, key)
        if reason is None and record is not None and record["event_time"] <= now:
            held = valid.get(record["product_id"])
            if held is None or record["event_time"] >= held["event_time"]:
                valid[record["product_id"]] = record
    for product in catalogue.products:
        held = valid.get(product.product_id)
        wanted = product.event(now)
        if held is None or any(held[f] != wanted[f] for f in VERSION_FIELDS):
            return False
    return True


def fence(kafka_config: Mapping[str, Any], transactional_id: str = DEFAULT_TRANSACTIONAL_ID,
          timeout: float = 60.0) -> None:
    """End every producer of ``transactional_id`` for good: its open transaction is aborted and
    anything it sends after is refused.

    A chunk's task marked failed is told so only at its next heartbeat and killed seconds later:
    meanwhile it sells on. Fencing is what makes a stop final, wherever the task runs; what
    ``read_committed`` readers find after it is all the chunk will ever have sent.
    """
    fencer = producer({**kafka_config, "transactional.id": transactional_id})
    try:
        fencer.init_transactions(timeout)
    except KafkaException as exc:
        raise GeneratorError(f"cannot fence the producers of {transactional_id!r} on "
                             f"{kafka_config.get('bootstrap.servers')}: {exc.args[0] if exc.args else exc}") from None
    finally:
        fencer.flush(timeout)


def run_chunk(
    kafka_config: Mapping[str, Any],
    topics: TopicSpecs,
    *,
    live_seed: int,
    chunk: int,
    transactions: int,
    speed: float = 1.0,
    since_ms: int,
    config: GeneratorConfig | None = None,
    catalogue: Catalogue | None = None,
    transactional_id: str = DEFAULT_TRANSACTIONAL_ID,
    progress: Callable[[int], None] | None = None,
) -> RunSummary:
    """Send the chunk's sales that have not landed yet, paced like the shop (``realistic``).

    :param live_seed: the live stream's seed (a DAG param).
    :param chunk: the chunk number (``chunk_of`` a DAG run): with ``live_seed``, fixes the sales.
    :param transactions: sales in the chunk.
    :param speed: divides the realistic 2-5 s pauses.
    :param since_ms: no earlier attempt of the chunk sent anything before this time (epoch ms).
    :param transactional_id: the producer identity; an attempt fences the earlier ones of the same id.
    :return: the summary; ``transactions`` counts the sales sent now, ``skipped`` those found sent.
    """
    if transactions < 1:
        raise GeneratorError(f"a chunk needs at least one transaction, got {transactions}")
    config = config or load_config()
    catalogue = catalogue or load_catalogue(config.catalogue_file)
    seed = chunk_seed(live_seed, chunk)
    # Opening the sink fences an earlier attempt: only then is what read_committed shows final.
    sink = KafkaSink(kafka_config, topics, config.producer, transactional_id=transactional_id)
    skip = landed_ids(sink.connection, sink.topics["purchases"], since_ms) & set(
        chunk_ids(config, catalogue, seed, transactions))
    model = ChunkModel(config, catalogue, seed, skip)
    products = read_to_end(sink.connection, sink.topics["products"], raw=True)
    current = catalogue_current([(r["key"], r["value"]) for r in products], catalogue, model.now(),
                                 rules.load_contract())
    summary = run_generator(model, sink, mode="realistic", transactions=transactions - len(skip), speed=speed,
                            progress=progress, publish_catalogue=not current)
    summary.skipped = len(skip)
    return summary
