"""confluent-kafka clients built the same way everywhere.

librdkafka prints connection failures straight to stderr, dozens a second, which buries the
one line that matters. Every client made here logs through Python's ``logging`` instead
(logger ``streamstack.librdkafka``), so the CLI shows them only with ``-v`` and a task log
keeps them, while errors still surface as exceptions.
"""

from __future__ import annotations

import logging
from typing import Any

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient

RDKAFKA_LOG = logging.getLogger("streamstack.librdkafka")


def _with_logger(config: dict[str, Any]) -> dict[str, Any]:
    return {"logger": RDKAFKA_LOG, **config}


def admin_client(config: dict[str, Any]) -> AdminClient:
    """An ``AdminClient`` for ``config`` (librdkafka settings such as ``bootstrap.servers``)."""
    return AdminClient(_with_logger(config))


def producer(config: dict[str, Any]) -> Producer:
    return Producer(_with_logger(config))


def consumer(config: dict[str, Any]) -> Consumer:
    return Consumer(_with_logger(config))
