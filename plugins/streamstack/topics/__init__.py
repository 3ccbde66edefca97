"""Kafka topics as code: the declarations in ``config/topics.yaml`` and their reconciliation."""

from streamstack.topics.admin import ApplyResult, Change, TopicAdmin, TopicState
from streamstack.topics.spec import TopicSpec, TopicSpecs, load_topics, topic_name

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
