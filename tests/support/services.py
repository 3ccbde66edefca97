"""The real services of a test session, each started at most once (a pytest plugin, ``tests/conftest.py``).

Every tier (conformance, integration, faults, e2e) asks for the same fixtures, so a service
started by the conformance tier is the one the e2e tier finds running: one lifecycle per session.
Each is started through the same code as ``streamstack stack up`` on the tests' own stack
(``tests/isolation.py``), reused if it already runs there, and stopped at the end of the session
only if the session started it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from streamstack.airflow_client import AirflowClient
from streamstack.clients import admin_client
from streamstack.contract import write_contract
from streamstack.pinot import PinotClient, local_client
from streamstack.settings import Settings
from streamstack.stack import Stack
from streamstack.topics import TopicAdmin, TopicSpecs, load_topics

if TYPE_CHECKING:
    from streamstack.flink.config import FlinkConfig
    from streamstack.flink.rest import FlinkRest
    from streamstack.stack.kafka_sasl import SaslKafkaService
    from streamstack.superset.client import SupersetClient


def _started(stack: Stack, say: Callable[[str], None] = lambda _line: None) -> Iterator[Stack]:
    """Start what of ``stack`` is not running; after the session, stop only that."""
    started = [s for s in stack.services if not s.is_running()]
    stack.up(say)
    yield stack
    for service in reversed(started):
        service.down()


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings.from_env()


@pytest.fixture(scope="session")
def kafka(settings: Settings) -> Iterator[Settings]:
    """A running real Kafka broker; yields the settings that point at it."""
    from support.spark_testkit import stop_shared_session

    for _ in _started(Stack(settings, names=["kafka"])):
        yield settings
        stop_shared_session()  # the Spark jobs' session (if any) before the broker it writes to


@pytest.fixture(scope="session")
def pinot(kafka: Settings) -> Iterator[PinotClient]:
    """A running real Pinot (ZooKeeper + controller/broker/server)."""
    for _ in _started(Stack(kafka, names=["pinot-zk", "pinot"]), print):
        yield local_client(kafka)


@pytest.fixture(scope="session")
def flink(kafka: Settings) -> Iterator[FlinkConfig]:
    """The Flink session cluster (JobManager and TaskManager)."""
    from streamstack.flink.config import FlinkConfig

    for _ in _started(Stack(kafka, names=["flink-jobmanager", "flink-taskmanager"])):
        yield FlinkConfig.from_env(kafka)


@pytest.fixture(scope="session")
def flink_rest(flink: FlinkConfig) -> FlinkRest:
    from streamstack.flink.rest import FlinkRest

    return FlinkRest(flink.rest_url)


@pytest.fixture(scope="session")
def superset(settings: Settings) -> Iterator[SupersetClient]:
    """A running real Superset, logged in as the stack's admin."""
    from streamstack.superset.client import SupersetClient
    from streamstack.superset.endpoints import ADMIN_USER, SupersetEndpoints

    for _ in _started(Stack(settings, names=["superset"]), print):
        endpoints = SupersetEndpoints.from_env(settings)
        yield SupersetClient(endpoints.url, ADMIN_USER, endpoints.password())


@pytest.fixture(scope="session")
def platform(kafka: Settings) -> Iterator[Stack]:
    """The whole embedded stack (Kafka, Pinot, Flink, Airflow, Superset, JupyterLab), as ``streamstack stack up``."""
    lines: list[str] = []
    for stack in _started(Stack(kafka), lines.append):
        print("\n".join(lines))
        (airflow_line,) = [line for line in lines if line.startswith("airflow:")]
        assert f"UI {kafka.airflow_url}, user admin, password in " in airflow_line, airflow_line
        yield stack


@pytest.fixture(scope="session")
def airflow(platform: Stack) -> AirflowClient:
    service = platform.get("airflow")
    return AirflowClient(platform.settings.airflow_url, "admin", service.password())  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def chromium() -> None:
    from support.browser import browser_available

    missing = browser_available()
    if missing:
        pytest.fail(missing)  # a browser test that silently skips would prove nothing


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


@pytest.fixture
def kafka_config(kafka: Settings) -> dict[str, str]:
    """librdkafka client settings for the test broker."""
    return kafka.kafka_client_config()


def created_topics(settings: Settings, prefix: str, config: dict[str, str] | None = None) -> Iterator[TopicSpecs]:
    """The declared topics of config/topics.yaml with a unique suffix, created (on the broker of
    ``config``, default the session's), deleted after."""
    config = config or settings.kafka_client_config()
    specs = load_topics(settings.topics_file).suffixed(f"{prefix}{uuid.uuid4().hex[:8]}")
    TopicAdmin(config).apply(specs)
    yield specs
    admin = admin_client(config)
    for future in admin.delete_topics([s.name for s in specs.topics], operation_timeout=30).values():
        future.result()


@pytest.fixture
def fresh_topics(kafka: Settings) -> Iterator[TopicSpecs]:
    """The declared topics, renamed with a unique suffix and created for this test."""
    yield from created_topics(kafka, "t")


@pytest.fixture(scope="session")
def contract_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The resolved event contract as the jobs read it (``--contract``)."""
    return write_contract(tmp_path_factory.mktemp("contract") / "contract.json")
