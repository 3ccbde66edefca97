"""Pinot tables of one test: config/pinot's specs, renamed with a unique suffix, created on first use.

A test asks for the tables it reads (``tables["purchasesEnriched"]``) and only those are created:
creating all seven for every test cost most of the Pinot tier's set-up and teardown.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace

from streamstack.pinot import PinotClient
from streamstack.pinot.tables import TableSpec, apply_specs, load_specs
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs


def suffixed(spec: TableSpec, suffix: str) -> TableSpec:
    """``spec`` with table and schema renamed ``<name>_<suffix>``, so tests never share a table."""
    name = f"{spec.name}_{suffix}"
    schema = {**spec.schema, "schemaName": name}
    table = {**spec.table, "tableName": name, "segmentsConfig": {**spec.table["segmentsConfig"], "schemaName": name}}
    return replace(spec, name=name, schema=schema, table=table)


def table_specs(settings: Settings, topics: TopicSpecs, only: Iterable[str] | None = None) -> list[TableSpec]:
    """config/pinot's specs over ``topics``, renamed with one new suffix."""
    suffix = uuid.uuid4().hex[:6]
    specs = load_specs(settings.config_dir / "pinot", topics.names(), settings.bootstrap_servers,
                       *([list(only)] if only is not None else []))
    return [suffixed(s, suffix) for s in specs]


class TablesOnDemand(Mapping[str, TableSpec]):
    """The test's tables by their config name; a table is created in Pinot when first looked up."""

    def __init__(self, pinot: PinotClient, specs: list[TableSpec]) -> None:
        self._pinot = pinot
        self._specs = {s.name.rsplit("_", 1)[0]: s for s in specs}
        self._applied: list[TableSpec] = []

    def __getitem__(self, base: str) -> TableSpec:
        spec = self._specs[base]
        if spec not in self._applied:
            apply_specs(self._pinot, [spec])
            self._applied.append(spec)
        return spec

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def names(self) -> dict[str, str]:
        """Config name -> this test's table name, creating nothing."""
        return {base: spec.name for base, spec in self._specs.items()}

    def drop(self) -> None:
        for spec in self._applied:
            self._pinot.drop_table(spec.name, wait=False)  # unique name: no re-use to wait for
