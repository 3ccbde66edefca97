"""`pinot apply --recreate` on the real controller: the new config is validated before anything is
dropped, a refused one leaves the table as it was, an accepted one replaces it."""

from __future__ import annotations

import copy

import pytest

from streamstack.pinot import PinotClient, PinotError
from streamstack.pinot.ingestion import wait_caught_up
from streamstack.pinot.tables import apply_specs, recreate_loss
from streamstack.settings import Settings

pytestmark = pytest.mark.integration


def test_recreate_validates_first_and_never_leaves_the_table_missing(kafka: Settings, pinot: PinotClient,
                                                                      pinot_tables) -> None:
    spec = pinot_tables["events"]  # created on first look-up
    broken = copy.deepcopy(spec)
    broken.table["segmentsConfig"]["timeColumnName"] = "no_such_column"
    with pytest.raises(PinotError, match="refuses the new config"):
        apply_specs(pinot, [broken], recreate=[spec.name])
    assert pinot.get_table(spec.name)["segmentsConfig"]["timeColumnName"] == spec.time_column

    # What the CLI says before it asks (the table is routed: it has been for a while by now).
    wait_caught_up(pinot, spec, kafka.kafka_client_config(), timeout=120)
    loss = recreate_loss(pinot, spec, kafka.kafka_client_config())
    assert (loss.rows, loss.retained, loss.retention_ms) == (0, 0, 604_800_000), loss
    changed = copy.deepcopy(spec)
    changed.table["tableIndexConfig"]["invertedIndexColumns"] = ["event_type"]
    changes = apply_specs(pinot, [changed], recreate=[spec.name])
    assert [c.action for c in changes] == ["created", "created"]
    assert pinot.get_table(spec.name)["tableIndexConfig"]["invertedIndexColumns"] == ["event_type"]
