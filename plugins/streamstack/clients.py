"""confluent-kafka clients built the same way everywhere.

librdkafka prints connection failures straight to stderr, dozens a second, which buries the
one line that matters. Every client made here logs through Python's ``logging`` instead
(logger ``streamstack.librdkafka``), so the CLI shows them only with ``-v`` and a task log
keeps them, while errors still surface as exceptions.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient

from streamstack.errors import StreamstackError

RDKAFKA_LOG = logging.getLogger("streamstack.librdkafka")
#: librdkafka errors a retry does not fix: the broker refused the login, or TLS failed.
REFUSALS = (KafkaError._AUTHENTICATION, KafkaError._SSL, KafkaError.SASL_AUTHENTICATION_FAILED)


class KafkaRefused(StreamstackError):
    """The cluster refused this client (wrong SASL credentials, untrusted TLS certificate)."""


def _reason(err: KafkaError) -> str:
    """librdkafka's error text without the broker prefix and the ``(after N ms in state X)`` tail."""
    text = err.str()
    if "/bootstrap: " in text or "://" in text.split(" ", 1)[0]:
        text = text.split(": ", 1)[-1]
    return text.split(" (after ", 1)[0]


def refusal_message(err: KafkaError, config: Mapping[str, Any]) -> str:
    """One line that says who refused whom and what to check."""
    where = config.get("bootstrap.servers", "?")
    if err.code() == KafkaError._SSL:
        return (f"Kafka at {where}: TLS handshake failed ({_reason(err)}); check ssl.ca.location "
                "(the CA that signed the broker's certificate)")
    mechanism = config.get("sasl.mechanism") or config.get("sasl.mechanisms") or "SASL"
    return (f"Kafka at {where} refused the {mechanism} login of user {config.get('sasl.username')!r} "
            f"({_reason(err)}); check the user name and password (the Kafka connection's sasl.password, "
            "or $STREAMSTACK_KAFKA_SASL_PASSWORD for the CLI)")


def _recording(config: Mapping[str, Any]) -> tuple[dict[str, Any], list[KafkaError]]:
    """``config`` with an ``error_cb`` that also keeps refusals (the caller's own callback still runs)."""
    refusals: list[KafkaError] = []
    user_cb: Callable[[KafkaError], None] | None = config.get("error_cb")

    def on_error(err: KafkaError) -> None:
        if err.code() in REFUSALS:
            refusals.append(err)
        if user_cb is not None:
            user_cb(err)

    return {"logger": RDKAFKA_LOG, **config, "error_cb": on_error}, refusals


def reach(client: Any, config: Mapping[str, Any], timeout: float = 15.0, topic: str | None = None) -> Any:
    """Cluster metadata, failing at once (``KafkaRefused``, one line) when the login or TLS is refused.

    A bare ``list_topics`` waits its whole timeout and then says "transport failure"; the
    refusal itself only reaches the client's error callback, which is served by ``poll``.
    ``client`` must come from this module (it records refusals).
    """
    refusals: list[KafkaError] = getattr(client, "refusals", [])
    deadline = time.monotonic() + timeout
    while True:
        try:
            step = max(min(1.0, deadline - time.monotonic()), 0.1)
            return client.list_topics(timeout=step) if topic is None else client.list_topics(topic, timeout=step)
        except KafkaException:
            client.poll(0)  # serve error callbacks
            if refusals:
                raise KafkaRefused(refusal_message(refusals[-1], config)) from None
            if time.monotonic() >= deadline:
                raise


def admin_client(config: dict[str, Any]) -> AdminClient:
    """An ``AdminClient`` for ``config`` (librdkafka settings such as ``bootstrap.servers``).

    Its ``last_errors`` keep the client's recent error events (e.g. a failed SASL
    authentication), which a request failing with a bare "transport failure" does not say.
    """
    errors: deque[str] = deque(maxlen=5)
    settings, refusals = _recording({"error_cb": lambda err: errors.append(err.str()), **config})
    client = AdminClient(settings)
    client.last_errors = errors  # type: ignore[attr-defined]
    client.refusals = refusals  # type: ignore[attr-defined]
    return client


class _Producer(Producer):
    """A ``Producer`` that can carry ``refusals`` (the C type takes no attributes)."""


class _Consumer(Consumer):
    """A ``Consumer`` that can carry ``refusals``."""


def producer(config: dict[str, Any]) -> Producer:
    settings, refusals = _recording(config)
    client = _Producer(settings)
    client.refusals = refusals  # type: ignore[attr-defined]
    return client


def consumer(config: dict[str, Any]) -> Consumer:
    settings, refusals = _recording(config)
    client = _Consumer(settings)
    client.refusals = refusals  # type: ignore[attr-defined]
    return client
