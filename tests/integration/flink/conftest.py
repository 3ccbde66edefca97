"""Fixtures of the Flink integration tests: fresh topics by logical name (the cluster is the session's)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.services import created_topics

from streamstack.settings import Settings


@pytest.fixture
def fresh_topics(kafka: Settings) -> Iterator[dict[str, str]]:
    """The declared topics with a unique suffix (logical -> Kafka name), deleted after the test."""
    for specs in created_topics(kafka, "f"):
        yield specs.names()
