"""A real Pinot (ZooKeeper + controller/broker/server) next to the real Kafka of the session.

Started through the same services as `streamstack stack up` and reused when already running;
stopped at the end only if this session started it. Each test gets tables of its own (a
unique suffix on the table and schema names) over the fresh topics of ``fresh_topics``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from streamstack.pinot import PinotClient
from streamstack.pinot.tables import TableSpec, apply_specs, load_specs
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs


def suffixed(spec: TableSpec, suffix: str) -> TableSpec:
    name = f"{spec.name}_{suffix}"
    schema = {**spec.schema, "schemaName": name}
    table = {
        **spec.table,
        "tableName": name,
        "segmentsConfig": {**spec.table["segmentsConfig"], "schemaName": name},
    }
    return replace(spec, name=name, schema=schema, table=table)


@pytest.fixture
def make_specs(kafka: Settings, fresh_topics: TopicSpecs) -> Callable[[], list[TableSpec]]:
    """Builds the config/pinot specs over the fresh topics, renamed with a new unique suffix."""

    def build() -> list[TableSpec]:
        suffix = uuid.uuid4().hex[:6]
        specs = load_specs(kafka.config_dir / "pinot", fresh_topics.names(), kafka.bootstrap_servers)
        return [suffixed(s, suffix) for s in specs]

    return build


@pytest.fixture
def pinot_tables(
    pinot: PinotClient, make_specs: Callable[[], list[TableSpec]]
) -> Iterator[dict[str, TableSpec]]:
    """The four tables of config/pinot, renamed per test and applied over the fresh topics."""
    specs = make_specs()
    apply_specs(pinot, specs)
    yield {s.name.rsplit("_", 1)[0]: s for s in specs}
    for spec in specs:
        pinot.drop_table(spec.name, wait=False)  # unique name: no re-use to wait for
