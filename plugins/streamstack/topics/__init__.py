"""Kafka topics as code: the declarations in ``config/topics.yaml`` and their reconciliation.

``admin`` (and with it confluent-kafka) is imported on first use only: DAG files call
``topic_name`` at parse time and should not pay for the Kafka client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from streamstack.topics.spec import TopicSpec, TopicSpecs, load_topics, topic_name

if TYPE_CHECKING:
    from streamstack.topics.admin import ApplyResult, Change, TopicAdmin, TopicState

_ADMIN_NAMES = {"ApplyResult", "Change", "TopicAdmin", "TopicState"}

__all__ = [
    "ApplyResult",
    "Change",
    "TopicAdmin",
    "TopicSpec",
    "TopicSpecs",
    "TopicState",
    "load_topics",
    "topic_name",
]


def __getattr__(name: str) -> Any:
    if name in _ADMIN_NAMES:
        from streamstack.topics import admin

        return getattr(admin, name)
    raise AttributeError(f"module 'streamstack.topics' has no attribute {name!r}")
