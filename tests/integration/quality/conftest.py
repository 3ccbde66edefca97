"""A real Pinot for the quality reader, with tables of its own over the session's fresh topics.

Same start-up and naming as ``tests/integration/pinot/conftest.py`` (reused if already running,
stopped only if this session started it); only the enriched table is needed here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest

from streamstack.pinot import PinotClient
from streamstack.pinot.tables import TableSpec, apply_specs, load_specs
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs


@pytest.fixture
def enriched_table(kafka: Settings, pinot: PinotClient, fresh_topics: TopicSpecs) -> Iterator[TableSpec]:
    """``purchasesEnriched`` renamed with a unique suffix, consuming the fresh enriched topic."""
    (spec,) = [
        s
        for s in load_specs(kafka.config_dir / "pinot", fresh_topics.names(), kafka.bootstrap_servers)
        if s.name == "purchasesEnriched"
    ]
    name = f"{spec.name}_{uuid.uuid4().hex[:6]}"
    spec = replace(
        spec,
        name=name,
        schema={**spec.schema, "schemaName": name},
        table={
            **spec.table,
            "tableName": name,
            "segmentsConfig": {**spec.table["segmentsConfig"], "schemaName": name},
        },
    )
    apply_specs(pinot, [spec])
    yield spec
    pinot.drop_table(spec.name, wait=False)  # unique name: no re-use to wait for
