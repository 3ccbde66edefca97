"""A real Superset (the stack's service) over a real Pinot, with dashboards on tables of this test.

Superset is started through the same service as `streamstack stack up superset` and reused when
already running; stopped at the end only if this session started it. Each test module gets a
suffixed purchasesEnriched table over fresh topics, and a copy of the dashboards (salted uuids,
suffixed titles) pointing at it, so the real dashboards and other tests are never touched.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from superset_browser import browser_available

from streamstack.pinot import PinotClient
from streamstack.pinot.tables import TableSpec, apply_specs, load_specs
from streamstack.settings import Settings
from streamstack.stack import Stack
from streamstack.superset.client import SupersetClient
from streamstack.superset.endpoints import ADMIN_USER, SupersetEndpoints
from streamstack.topics import TopicSpecs


@pytest.fixture(scope="session")
def superset(settings: Settings) -> Iterator[SupersetClient]:
    stack = Stack(settings, names=["superset"])
    service = stack.get("superset")
    started_here = not service.is_running()
    print(service.up())
    endpoints = SupersetEndpoints.from_env(settings)
    yield SupersetClient(endpoints.url, ADMIN_USER, endpoints.password())
    if started_here:
        service.down()


@pytest.fixture(scope="session")
def chromium() -> None:
    missing = browser_available()
    if missing:
        pytest.fail(missing)  # a browser test that silently skips would prove nothing


def suffixed(spec: TableSpec, suffix: str) -> TableSpec:
    name = f"{spec.name}_{suffix}"
    schema = {**spec.schema, "schemaName": name}
    table = {**spec.table, "tableName": name, "segmentsConfig": {**spec.table["segmentsConfig"], "schemaName": name}}
    return replace(spec, name=name, schema=schema, table=table)


#: The Pinot tables the dashboards read.
DASHBOARD_TABLES = ["purchasesEnriched", "deadLetters", "salesWindows", "runningTotals"]


@pytest.fixture
def dashboard_tables(kafka: Settings, pinot: PinotClient, fresh_topics: TopicSpecs) -> Iterator[dict[str, TableSpec]]:
    """The dashboards' Pinot tables, suffixed, over this test's fresh topics."""
    suffix = uuid.uuid4().hex[:6]
    specs = [suffixed(s, suffix) for s in load_specs(kafka.config_dir / "pinot", fresh_topics.names(),
                                                      kafka.bootstrap_servers, DASHBOARD_TABLES)]  # fmt: skip
    apply_specs(pinot, specs)
    yield {s.name.rsplit("_", 1)[0]: s for s in specs}
    for spec in specs:
        pinot.drop_table(spec.name, wait=False)  # unique name: no re-use to wait for
