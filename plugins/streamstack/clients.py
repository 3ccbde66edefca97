"""confluent-kafka clients built the same way everywhere.

librdkafka prints connection failures straight to stderr, dozens a second, which buries the
one line that matters. Every client made here logs through Python's ``logging`` instead
(logger ``streamstack.librdkafka``), so the CLI shows them only with ``-v`` and a task log
keeps them, while errors still surface as exceptions.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient

RDKAFKA_LOG = logging.getLogger("streamstack.librdkafka")


def _with_logger(config: dict[str, Any]) -> dict[str, Any]:
    return {"logger": RDKAFKA_LOG, **config}


def admin_client(config: dict[str, Any]) -> AdminClient:
    """An ``AdminClient`` for ``config`` (librdkafka settings such as ``bootstrap.servers``).

    Its ``last_errors`` keep the client's recent error events (e.g. a failed SASL
    authentication), which a request failing with a bare "transport failure" does not say.
    """
    errors: deque[str] = deque(maxlen=5)
    client = AdminClient({"error_cb": lambda err: errors.append(err.str()), **_with_logger(config)})
    client.last_errors = errors  # type: ignore[attr-defined]
    return client


def producer(config: dict[str, Any]) -> Producer:
    return Producer(_with_logger(config))


def consumer(config: dict[str, Any]) -> Consumer:
    return Consumer(_with_logger(config))
