"""`pinot apply --recreate`: Pinot checks the new config before anything is dropped, a failed
creation puts the old table back, and the CLI says what would be lost and asks."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from streamstack.pinot.client import Change, PinotError
from streamstack.pinot.tables import RecreateLoss, TableSpec, apply_specs

SPEC = TableSpec("purchases", {"schemaName": "purchases", "v": 2}, {"tableName": "purchases", "v": 2},
                 "purchases_enriched", "demo.purchases.enriched")


class FakePinot:
    """A controller with one table (schema and config version 1); ``refuse`` makes a step fail."""

    def __init__(self, refuse: str = "") -> None:
        self.schema, self.table, self.refuse, self.calls = {"schemaName": "purchases", "v": 1}, {
            "tableName": "purchases_REALTIME", "v": 1}, refuse, []

    def get_schema(self, name):
        return self.schema

    def get_table(self, name):
        return self.table

    def validate(self, schema, table):
        self.calls.append("validate")
        if self.refuse == "validate":
            raise PinotError("Pinot refuses the new config: invalid field")

    def drop_table(self, name):
        self.calls.append("drop")
        self.schema = self.table = None

    def apply_schema(self, schema, dry_run=False):
        self.calls.append(f"schema v{schema['v']}")
        self.schema = schema
        return Change("schema", schema["schemaName"], "created")

    def apply_table(self, table, dry_run=False):
        self.calls.append(f"table v{table['v']}")
        if self.refuse == "create" and table["v"] == 2:
            raise PinotError("table purchases: HTTP 500 on create")
        self.table = {**table, "tableName": "purchases_REALTIME"}
        return Change("table", table["tableName"], "created")


def test_a_config_pinot_refuses_drops_nothing() -> None:
    pinot = FakePinot(refuse="validate")
    with pytest.raises(PinotError, match="refuses the new config"):
        apply_specs(pinot, [SPEC], recreate=["purchases"])
    assert pinot.calls == ["validate"] and pinot.table["v"] == 1


def test_a_failed_creation_puts_the_old_table_back() -> None:
    pinot = FakePinot(refuse="create")
    with pytest.raises(PinotError, match="the old schema and table are back"):
        apply_specs(pinot, [SPEC], recreate=["purchases"])
    assert pinot.table is not None and pinot.table["v"] == 1 and pinot.schema["v"] == 1
    assert pinot.calls == ["validate", "drop", "schema v2", "table v2", "drop", "schema v1", "table v1"]


def test_recreate_replaces_schema_and_table() -> None:
    pinot = FakePinot()
    apply_specs(pinot, [SPEC], recreate=["purchases"])
    assert pinot.calls == ["validate", "drop", "schema v2", "table v2"] and pinot.table["v"] == 2


def test_the_loss_line_says_what_the_topic_cannot_give_back() -> None:
    loss = RecreateLoss("purchasesEnriched", "demo.purchases.enriched", rows=12_000, retained=3_500,
                        retention_ms=604_800_000)
    assert loss.lost == 8_500
    assert loss.line() == ("purchasesEnriched: 12,000 rows now; topic demo.purchases.enriched retains 3,500 "
                           "records (retention 7 days): about 8,500 rows would be gone for good")


def test_the_cli_asks_before_dropping_and_aborts_on_no(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamstack.cli import cli
    from streamstack.pinot import tables

    pinot = FakePinot()
    monkeypatch.setattr(tables, "local_specs", lambda settings, names, **kw: [SPEC])
    monkeypatch.setattr("streamstack.pinot.local_client", lambda settings=None: pinot)
    monkeypatch.setattr(tables, "existing_topics", lambda config: {SPEC.topic})
    monkeypatch.setattr(tables, "recreate_loss", lambda client, spec, config: RecreateLoss(
        spec.name, spec.topic, 10, 4, 604_800_000))
    refused = CliRunner().invoke(cli, ["pinot", "apply", "--recreate", "purchases"], input="n\n")
    assert refused.exit_code == 1 and "about 6 rows would be gone for good" in refused.output
    assert "drop" not in pinot.calls
    done = CliRunner().invoke(cli, ["pinot", "apply", "--recreate", "purchases", "--yes"])
    assert done.exit_code == 0, done.output
    assert pinot.calls[:2] == ["validate", "drop"]
    unknown = CliRunner().invoke(cli, ["pinot", "apply", "--recreate", "purchase", "--yes"])
    assert unknown.exit_code == 2 and "no such table" in unknown.output
