"""Dashboards on Pinot tables of the test's own (the Superset and browser fixtures are the session's).

Each test gets suffixed dashboard tables over fresh topics, and a copy of the dashboards (salted
uuids, suffixed titles) pointing at them, so the real dashboards and other tests are never touched.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.pinot import table_specs

from streamstack.pinot import PinotClient
from streamstack.pinot.tables import TableSpec, apply_specs
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs

#: The Pinot tables the dashboards read.
DASHBOARD_TABLES = ["purchasesEnriched", "deadLetters", "salesWindows", "runningTotals"]


@pytest.fixture
def dashboard_tables(kafka: Settings, pinot: PinotClient, fresh_topics: TopicSpecs) -> Iterator[dict[str, TableSpec]]:
    """The dashboards' Pinot tables, suffixed, over this test's fresh topics."""
    specs = table_specs(kafka, fresh_topics, DASHBOARD_TABLES)
    apply_specs(pinot, specs)
    yield {s.name.rsplit("_", 1)[0]: s for s in specs}
    for spec in specs:
        pinot.drop_table(spec.name, wait=False)  # unique name: no re-use to wait for
