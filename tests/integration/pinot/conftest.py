"""Pinot tables of each test (``support.pinot``): renamed with a unique suffix, over its fresh topics."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from support.pinot import TablesOnDemand, table_specs

from streamstack.pinot import PinotClient
from streamstack.pinot.tables import TableSpec
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs


@pytest.fixture
def make_specs(kafka: Settings, fresh_topics: TopicSpecs) -> Callable[[], list[TableSpec]]:
    """Builds the config/pinot specs over the fresh topics, renamed with a new unique suffix."""
    return lambda: table_specs(kafka, fresh_topics)


@pytest.fixture
def pinot_tables(kafka: Settings, pinot: PinotClient, fresh_topics: TopicSpecs) -> Iterator[TablesOnDemand]:
    """config/pinot's tables over the fresh topics, each created when the test first looks it up."""
    tables = TablesOnDemand(pinot, table_specs(kafka, fresh_topics))
    yield tables
    tables.drop()
