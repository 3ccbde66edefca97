"""A real Pinot for the quality reader: the enriched table only, over the test's fresh topics."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.pinot import table_specs

from streamstack.pinot import PinotClient
from streamstack.pinot.tables import TableSpec, apply_specs
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs


@pytest.fixture
def enriched_table(kafka: Settings, pinot: PinotClient, fresh_topics: TopicSpecs) -> Iterator[TableSpec]:
    """``purchasesEnriched`` renamed with a unique suffix, consuming the fresh enriched topic."""
    (spec,) = table_specs(kafka, fresh_topics, ["purchasesEnriched"])
    apply_specs(pinot, [spec])
    yield spec
    pinot.drop_table(spec.name, wait=False)  # unique name: no re-use to wait for
