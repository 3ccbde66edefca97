"""Fixtures of the conformance tests: one kit per session, topics of its own per engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support import kit as conformance_kit
from support.services import created_topics

from streamstack.settings import Settings
from streamstack.topics import TopicSpecs


@pytest.fixture(scope="session")
def kit() -> conformance_kit.Kit:
    """The kit's input and expectation, built once from the current contract."""
    return conformance_kit.build()


@pytest.fixture(scope="module")
def kit_topics(kafka: Settings) -> Iterator[TopicSpecs]:
    """The declared topics with a unique suffix, created for one engine's run and deleted after."""
    yield from created_topics(kafka, "c")
