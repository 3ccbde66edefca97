"""Fixtures of the Flink integration tests: the real session cluster, the contract file, fresh topics."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from streamstack.clients import admin_client
from streamstack.contract import write_contract
from streamstack.flink.config import FlinkConfig
from streamstack.flink.rest import FlinkRest
from streamstack.settings import Settings
from streamstack.stack.stack import Stack
from streamstack.topics import TopicAdmin, TopicSpecs, load_topics


def start_flink(settings: Settings) -> Iterator[FlinkConfig]:
    """JobManager and TaskManager of the stack (started here unless running); stopped if started here."""
    stack = Stack(settings, names=["flink-jobmanager", "flink-taskmanager"])
    started = [s for s in stack.services if not s.is_running()]
    stack.up(lambda _line: None)
    yield FlinkConfig.from_env(settings)
    for service in reversed(started):
        service.down()


@pytest.fixture(scope="session")
def flink(kafka: Settings) -> Iterator[FlinkConfig]:
    yield from start_flink(kafka)


@pytest.fixture(scope="session")
def flink_rest(flink: FlinkConfig) -> FlinkRest:
    return FlinkRest(flink.rest_url)


@pytest.fixture(scope="session")
def contract_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_contract(tmp_path_factory.mktemp("flink-contract") / "contract.json")


@pytest.fixture
def fresh_topics(kafka: Settings) -> Iterator[dict[str, str]]:
    """The declared topics with a unique suffix (logical -> Kafka name), deleted after the test."""
    suffix = f"f{uuid.uuid4().hex[:8]}"
    declared = load_topics(kafka.topics_file)
    specs = TopicSpecs(file=declared.file,
                       topics=tuple(replace(s, name=f"{s.name}.{suffix}") for s in declared.topics))
    TopicAdmin(kafka.kafka_client_config()).apply(specs)
    yield {s.logical: s.name for s in specs.topics}
    admin = admin_client(kafka.kafka_client_config())
    for future in admin.delete_topics([s.name for s in specs.topics], operation_timeout=30).values():
        future.result()
