"""Producing generated events to Kafka, fast and without silent loss.

One idempotent producer (``acks=all``) per run, records keyed as ``config/topics.yaml``
declares (purchases by ``transaction_id``, products and inventories by ``product_id``). The hot
path only hands bytes to librdkafka: delivery reports come back for errors only, are counted,
and any failure — or a record still queued after the final flush — raises ``DeliveryError``.

With a ``transactional_id`` the producer is transactional (live chunks): ``begin``/``commit``
bracket each sale, so ``read_committed`` readers see a sale whole or not at all, and opening the
sink fences a previous producer with the same id (a zombie attempt) and ends its open transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message

from streamstack.clients import producer as make_producer
from streamstack.errors import ConfigError
from streamstack.generator.config import FIXED_PRODUCER
from streamstack.generator.errors import DeliveryError, GeneratorError
from streamstack.generator.model import dumps
from streamstack.generator.sinks import KINDS
from streamstack.topics import TopicSpecs

log = logging.getLogger(__name__)

SECURITY_PROTOCOLS = ("PLAINTEXT", "SASL_SSL")
SASL_MECHANISM = "SCRAM-SHA-512"
#: Consumer-only keys an Airflow ``kafka`` connection often carries; a producer warns on them.
CONSUMER_ONLY = ("group.id", "auto.offset.reset", "enable.auto.commit", "session.timeout.ms")
#: The key field the generator can fill, per logical topic.
#: Transactional sinks: the broker aborts a transaction left open this long (librdkafka's default).
TRANSACTION_TIMEOUT_MS = 60_000
#: Delivery reports of the records an aborted transaction discarded.
PURGED = (KafkaError._PURGE_QUEUE, KafkaError._PURGE_INFLIGHT)
KEY_FIELDS = {"purchases": "transaction_id", "products": "product_id", "inventories": "product_id",
              "events": "subject"}


def connection_config(
    bootstrap_servers: str,
    *,
    security_protocol: str = "PLAINTEXT",
    username: str | None = None,
    password: str | None = None,
    ca_location: str | None = None,
) -> dict[str, Any]:
    """librdkafka connection settings: PLAINTEXT, or SASL_SSL with SCRAM-SHA-512 credentials."""
    config: dict[str, Any] = {"bootstrap.servers": bootstrap_servers, "security.protocol": security_protocol}
    if security_protocol == "SASL_SSL":
        config.update({"sasl.mechanism": SASL_MECHANISM, "sasl.username": username, "sasl.password": password})
        if ca_location:
            config["ssl.ca.location"] = ca_location
    return check_connection(config)


def check_connection(config: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a connection config (e.g. an Airflow connection's extra) and drop consumer-only keys."""
    out = {k: v for k, v in config.items() if k not in CONSUMER_ONLY}
    if not out.get("bootstrap.servers"):
        raise ConfigError("bootstrap.servers is missing", key="bootstrap.servers")
    protocol = str(out.get("security.protocol", "PLAINTEXT")).upper()
    if protocol not in SECURITY_PROTOCOLS:
        raise ConfigError(f"{protocol!r} is not supported (use {' or '.join(SECURITY_PROTOCOLS)})",
                          key="security.protocol")
    if protocol == "SASL_SSL":
        mechanism = out.setdefault("sasl.mechanism", out.pop("sasl.mechanisms", SASL_MECHANISM))
        if mechanism != SASL_MECHANISM:
            raise ConfigError(f"{mechanism!r} is not supported with SASL_SSL (use {SASL_MECHANISM})",
                              key="sasl.mechanism")
        for key in ("sasl.username", "sasl.password"):
            if not out.get(key):
                raise ConfigError("is required for SASL_SSL with SCRAM-SHA-512", key=key)
    return out


class KafkaSink:
    """A ``Sink`` that produces to the topics of ``topics`` through one idempotent producer.

    :param connection: librdkafka connection settings (see ``connection_config``).
    :param topics: the declared topics (logical name -> Kafka name and key field).
    :param producer_settings: throughput tuning (``producer`` section of generator.yaml).
    :param flush_timeout: seconds the final flush (or a commit) may take before undelivered records raise.
    :param transactional_id: make the producer transactional with this id: ``begin``/``commit``
        work, and every record must be sent inside a transaction.
    """

    def __init__(
        self,
        connection: Mapping[str, Any],
        topics: TopicSpecs,
        producer_settings: Mapping[str, Any] | None = None,
        *,
        flush_timeout: float = 120.0,
        transactional_id: str | None = None,
    ) -> None:
        self.connection = check_connection(connection)
        self.topics = {kind: topics[kind].name for kind in KINDS}
        self._keys: dict[str, str | None] = {}
        for kind in KINDS:
            declared = topics[kind].key
            if declared is not None and declared != KEY_FIELDS.get(kind):
                raise ConfigError(f"the generator keys {kind} by {KEY_FIELDS.get(kind)}, not {declared!r}",
                                  file=topics.file, key=f"topics.{kind}.key")
            self._keys[kind] = declared
        self.destination = f"kafka {self.connection['bootstrap.servers']}"
        self.flush_timeout = flush_timeout
        self.bytes_sent = 0
        self.sent = 0
        self.failed = 0
        self.first_error: str | None = None
        #: Per Kafka topic: records handed to the producer, and records the broker refused.
        self.sent_by_topic: dict[str, int] = {}
        self.failed_by_topic: dict[str, int] = {}
        self._unacknowledged = 0
        self._fatal: KafkaError | None = None
        self._refused = False
        self.transactional = transactional_id is not None
        self.transactional_id = transactional_id
        self._open = False
        #: Transactional: per topic, the records of committed transactions (what landed for sure).
        self._committed: dict[str, int] = {}
        config = {
            **(producer_settings or {}),
            **self.connection,
            **FIXED_PRODUCER,
            # Reports for failures only: success is "sent minus failed" once flush() is done.
            "delivery.report.only.error": True,
            "on_delivery": self._on_delivery,
            "error_cb": self._on_error,
        }
        if transactional_id is not None:
            config["transactional.id"] = transactional_id
            # A sale's transaction lasts milliseconds; one left open by a killed worker holds back
            # read_committed readers until the broker aborts it after this (or a retry fences it).
            config.setdefault("transaction.timeout.ms", TRANSACTION_TIMEOUT_MS)
            # librdkafka refuses a record timeout longer than the transaction's.
            config["message.timeout.ms"] = min(int(config.get("message.timeout.ms", 300_000)),
                                               int(config["transaction.timeout.ms"]))
        self._producer = make_producer(config)
        self._produce = self._producer.produce
        self._poll = self._producer.poll
        self._purchases = self.topics["purchases"]
        self._check_topics()
        if transactional_id is not None:
            self._init_transactions()

    def _init_transactions(self) -> None:
        """Register the id; the broker fences an older producer of it and completes its last transaction.

        After this, every earlier transaction of the id is committed or aborted for good, so what
        a ``read_committed`` reader finds now is final (live chunks read what landed only then).
        """
        try:
            self._producer.init_transactions(self.flush_timeout)
        except KafkaException as exc:
            raise GeneratorError(
                f"cannot start transactions as {self.transactional_id!r} on "
                f"{self.connection['bootstrap.servers']}: {exc.args[0] if exc.args else exc}"
            ) from None

    def _check_topics(self) -> None:
        from streamstack.clients import KafkaRefused, reach

        try:
            metadata = reach(self._producer, self.connection, timeout=15)
        except KafkaRefused as exc:
            raise GeneratorError(str(exc)) from None
        except KafkaException as exc:
            raise GeneratorError(f"cannot reach Kafka at {self.connection['bootstrap.servers']}: {exc}") from exc
        missing = [name for name in self.topics.values() if name not in metadata.topics]
        if missing:
            raise GeneratorError(
                f"topics {missing} do not exist on {self.connection['bootstrap.servers']}: "
                "run `streamstack topics apply` (or the kafka_topics DAG) first"
            )

    def _on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            if self.transactional and err.code() in PURGED:
                return  # a record of an aborted transaction: the abort itself is what is reported
            self.failed += 1
            self.failed_by_topic[msg.topic()] = self.failed_by_topic.get(msg.topic(), 0) + 1
            if self.first_error is None:
                self.first_error = f"{msg.topic()}: {err}"

    def _on_error(self, err: KafkaError) -> None:
        from streamstack.clients import REFUSALS

        if err.fatal():
            self._fatal = err
        elif err.code() in REFUSALS or (self._refused and err.code() == KafkaError._ALL_BROKERS_DOWN):
            self._refused = True
            log.debug("kafka: %s", err)  # reported once, as the run's error (clients.reach)
        else:
            log.warning("kafka: %s", err)

    def landed(self) -> dict[str, int]:
        """Per topic, the records acknowledged so far (sent minus refused minus still in flight).

        Records still in flight when a run fails are counted as not landed: they may have
        landed, which is why a rerun must be (and is) safe, see ``_incomplete``. A transactional
        sink counts the records of committed transactions: the others are invisible to readers.
        """
        if self.transactional:
            return dict(self._committed)
        unknown = self._unacknowledged
        out = {}
        for topic, sent in self.sent_by_topic.items():
            out[topic] = max(sent - self.failed_by_topic.get(topic, 0), 0)
        if unknown:  # not attributable per topic: take them off the last topics sent to
            for topic in reversed(list(out)):
                taken = min(unknown, out[topic])
                out[topic] -= taken
                unknown -= taken
        return out

    def _incomplete(self, what: str) -> DeliveryError:
        landed = self.landed()
        per_topic = ", ".join(f"{t} {landed.get(t, 0)}/{self.sent_by_topic[t]}" for t in self.sent_by_topic)
        if self.transactional:
            return DeliveryError(
                f"the run is incomplete: {sum(landed.values())} of {self.sent} records committed ({per_topic}); "
                f"{what}. Each sale is one transaction: a read_committed reader sees the committed sales whole "
                "and nothing of the others; a retry of the live chunk sends only the sales that did not land"
            )
        return DeliveryError(
            f"the run is incomplete: {sum(landed.values())} of {self.sent} records landed ({per_topic}); {what}. "
            "A rerun with the same seed re-sends the same records with the same identity: the Pinot purchase "
            "tables and the Spark and Kafka Streams running totals and Spark sales windows count each line "
            "(transaction_id+line_number) once, products are upserted; the Flink totals and windows would "
            "count re-sent purchases again (reset their output topics first when Flink is the engine)"
        )

    def _raise_if_broken(self) -> None:
        if self._fatal is not None:
            raise self._incomplete(f"fatal producer error: {self._fatal}")
        if self.failed:
            raise self._incomplete(f"{self.failed} refused, first: {self.first_error}")

    def _retry(self, topic: str, value: bytes, key: str | None) -> None:
        """The local queue is full: serve delivery reports until there is room."""
        while True:
            self._poll(0.05)
            self._raise_if_broken()
            try:
                self._produce(topic, value, key)
                return
            except BufferError:
                continue

    def send_purchase(self, transaction_id: str, value: bytes) -> None:
        key = transaction_id if self._keys["purchases"] else None
        try:
            self._produce(self._purchases, value, key)
        except BufferError:
            self._retry(self._purchases, value, key)
        self.sent += 1
        self.sent_by_topic[self._purchases] = self.sent_by_topic.get(self._purchases, 0) + 1
        self.bytes_sent += len(value)
        if not self.sent & 0x3FFF:
            self._poll(0)
            if self.failed or self._fatal:
                self._raise_if_broken()

    def send_record(self, kind: str, record: dict[str, Any]) -> None:
        field = self._keys[kind]
        key = str(record[field]) if field else None
        value = dumps(record)
        try:
            self._produce(self.topics[kind], value, key)
        except BufferError:
            self._retry(self.topics[kind], value, key)
        self.sent += 1
        self.sent_by_topic[self.topics[kind]] = self.sent_by_topic.get(self.topics[kind], 0) + 1
        self.bytes_sent += len(value)

    def begin(self) -> None:
        """Open a transaction (transactional sinks; a no-op otherwise)."""
        if self.transactional:
            self._producer.begin_transaction()
            self._open = True

    def commit(self) -> None:
        """Commit the open transaction, waiting for its records; raise ``DeliveryError`` if it failed.

        A refused record makes the commit fail (the transaction must abort): the sale is then
        aborted, invisible to ``read_committed`` readers, and the run fails loudly.
        """
        if not self.transactional:
            return
        try:
            self._producer.commit_transaction(self.flush_timeout)
        except KafkaException as exc:
            error = exc.args[0] if exc.args else exc
            if isinstance(error, KafkaError) and error.txn_requires_abort():
                self._abort()
            raise self._incomplete(f"a transaction was not committed: {error}") from None
        self._open = False
        self._committed = dict(self.sent_by_topic)
        self._raise_if_broken()

    def _abort(self) -> None:
        """End the open transaction without making any of it visible."""
        self._producer.abort_transaction(self.flush_timeout)
        self._open = False

    def close(self) -> None:
        """Flush; raise ``DeliveryError`` unless every record was acknowledged.

        A transaction still open (a run interrupted mid-sale) is aborted first: its records never
        become visible to ``read_committed`` readers.
        """
        if self._open:
            self._abort()
        remaining = self._producer.flush(self.flush_timeout)
        self._unacknowledged = remaining
        self._raise_if_broken()
        if remaining:
            raise self._incomplete(
                f"{remaining} still unacknowledged after {self.flush_timeout:.0f}s "
                f"(is {self.connection['bootstrap.servers']} reachable?)"
            )
