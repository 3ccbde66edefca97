"""Fixtures that run the real services through the same code as `streamstack stack up`.

The broker is started once per test session and reused if it already runs (e.g. after
`streamstack stack up`); it is stopped at the end only if this session started it. Each test
gets topics of its own (a unique suffix), so tests never see each other's records.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from streamstack.clients import admin_client
from streamstack.pinot import PinotClient, local_client
from streamstack.settings import Settings
from streamstack.stack import Stack
from streamstack.topics import TopicSpecs, load_topics

if TYPE_CHECKING:
    from streamstack.stack.kafka_sasl import SaslKafkaService


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings.from_env()


@pytest.fixture(scope="session")
def kafka(settings: Settings) -> Iterator[Settings]:
    """A running real Kafka broker; yields the settings that point at it."""
    stack = Stack(settings, names=["kafka"])
    service = stack.get("kafka")
    started_here = not service.is_running()
    service.up()
    yield settings
    if started_here:
        service.down()


@pytest.fixture(scope="session")
def pinot(kafka: Settings) -> Iterator[PinotClient]:
    """A running real Pinot (ZooKeeper + controller/broker/server), reused if already up."""
    stack = Stack(kafka, names=["pinot-zk", "pinot"])
    started = [s for s in stack.services if not s.is_running()]
    stack.up(print)
    yield local_client(kafka)
    for service in reversed(started):
        service.down()


@pytest.fixture
def kafka_config(kafka: Settings) -> dict[str, str]:
    """librdkafka client settings for the test broker."""
    return kafka.kafka_client_config()


@pytest.fixture
def fresh_topics(kafka: Settings, request: pytest.FixtureRequest) -> Iterator[TopicSpecs]:
    """The declared topics of config/topics.yaml, renamed with a unique suffix and created."""
    from streamstack.topics import TopicAdmin

    specs = load_topics(kafka.topics_file).suffixed(f"t{uuid.uuid4().hex[:8]}")
    TopicAdmin(kafka.kafka_client_config()).apply(specs)
    yield specs
    admin = admin_client(kafka.kafka_client_config())
    for future in admin.delete_topics([s.name for s in specs.topics], operation_timeout=30).values():
        future.result()


@pytest.fixture(scope="session")
def sasl_broker(kafka: Settings) -> Iterator[SaslKafkaService]:
    """A second, fresh real broker whose only client listener is SASL_SSL (SCRAM-SHA-512).

    Ports: the plain broker's + 2 and + 3 (``STREAMSTACK_KAFKA_SASL_PORT`` to change). A new
    random password each session (the state is made fresh: its SCRAM user has the old one).
    """
    import secrets
    import shutil

    from streamstack.stack.kafka_sasl import SaslKafkaService

    service = SaslKafkaService(kafka, password="pw-" + secrets.token_hex(12))
    service.down()  # a leftover of an interrupted session
    shutil.rmtree(service.state_dir, ignore_errors=True)
    try:
        service.up()
        yield service
    finally:
        service.down()
        shutil.rmtree(service.state_dir, ignore_errors=True)
