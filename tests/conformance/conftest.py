"""Fixtures of the conformance tests: the integration tier's real services, and one kit per session."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import kit as conformance_kit

from streamstack.clients import admin_client
from streamstack.settings import Settings
from streamstack.topics import TopicAdmin, TopicSpecs, load_topics

_spec = importlib.util.spec_from_file_location(
    "_integration_conftest", Path(__file__).parents[1] / "integration" / "conftest.py"
)
_integration = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_integration)
settings = _integration.settings
kafka = _integration.kafka
fresh_topics = _integration.fresh_topics


@pytest.fixture(scope="session")
def kit() -> conformance_kit.Kit:
    """The kit's input and expectation, built once from the current contract."""
    return conformance_kit.build()


@pytest.fixture(scope="module")
def kit_topics(kafka: Settings) -> Iterator[TopicSpecs]:
    """The declared topics with a unique suffix, created for one engine's run and deleted after."""
    specs = load_topics(kafka.topics_file).suffixed(f"c{uuid.uuid4().hex[:8]}")
    TopicAdmin(kafka.kafka_client_config()).apply(specs)
    yield specs
    admin = admin_client(kafka.kafka_client_config())
    for future in admin.delete_topics([s.name for s in specs.topics], operation_timeout=30).values():
        future.result()
