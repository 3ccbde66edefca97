"""The e2e tier: the whole embedded stack (Kafka, Pinot, Airflow) driven through Airflow's REST API.

Like Airflow's own compose quick-start test: start, wait for health, trigger through REST,
poll, and on failure print task states and log tails. The stack is reused if it already runs
(e.g. after `make demo`) and stopped at the end only if this session started it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from streamstack.airflow_client import AirflowClient
from streamstack.settings import Settings
from streamstack.stack import Stack


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def platform() -> Iterator[Stack]:
    stack = Stack(Settings.from_env())
    started = [s for s in stack.services if not s.is_running()]
    lines: list[str] = []
    stack.up(lines.append)
    print("\n".join(lines))
    settings = stack.settings
    (airflow_line,) = [line for line in lines if line.startswith("airflow:")]
    assert f"UI {settings.airflow_url}, user admin, password in " in airflow_line, airflow_line
    yield stack
    for service in reversed(started):
        service.down()


@pytest.fixture(scope="session")
def airflow(platform: Stack) -> AirflowClient:
    service = platform.get("airflow")
    return AirflowClient(platform.settings.airflow_url, "admin", service.password())  # type: ignore[attr-defined]
