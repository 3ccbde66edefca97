"""What Kafka's application reset tool does for the apps: a rerun that reprocesses everything.

The tool (``kafka-streams-application-reset``) is not in the Maven artifacts we run from, so
this does its part for these apps: delete the committed offsets (the consumer group named by the
application id) and the internal topics (``<application.id>-...-changelog|repartition``), and
wipe the local state stores.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaError, KafkaException

from streamstack.clients import admin_client
from streamstack.errors import StackError

INTERNAL_SUFFIXES = ("-changelog", "-repartition")


@dataclass(frozen=True)
class ResetReport:
    """What a reset deleted."""

    app: str
    application_id: str
    group_deleted: bool
    topics_deleted: list[str]
    state_removed: bool


def internal_topics(admin: Any, group: str, suffixes: tuple[str, ...] = INTERNAL_SUFFIXES) -> list[str]:
    """Application ``group``'s internal topics that exist (``<application.id>-...<suffix>``)."""
    return sorted(t for t in admin.list_topics(timeout=30).topics if t.startswith(f"{group}-") and t.endswith(suffixes))


def reset_application(kafka_config: dict[str, Any], group: str, state: Path, app: str | None = None) -> ResetReport:
    """Delete application ``group``'s consumer group, internal topics and local ``state`` folder."""
    admin = admin_client(kafka_config)  # referenced until done: a collected client never answers
    deleted_group = True
    try:
        admin.delete_consumer_groups([group], request_timeout=30)[group].result()
    except KafkaException as exc:
        error = exc.args[0] if exc.args else None
        if not (isinstance(error, KafkaError) and error.code() == KafkaError.GROUP_ID_NOT_FOUND):
            raise StackError(f"cannot delete consumer group {group}: {exc}") from exc
        deleted_group = False
    names = internal_topics(admin, group)
    if names:
        for future in admin.delete_topics(names, operation_timeout=30).values():
            future.result()
    removed = state.exists()
    shutil.rmtree(state, ignore_errors=True)
    return ResetReport(app or group, group, deleted_group, names, removed)
