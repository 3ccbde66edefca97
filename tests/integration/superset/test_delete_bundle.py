"""A throw-away copy of the dashboards (the benchmark's) can be deleted again, and only it."""

from __future__ import annotations

import uuid

import pytest

from streamstack.pinot import PinotClient
from streamstack.pinot.endpoints import PinotEndpoints
from streamstack.settings import Settings
from streamstack.superset.bundle import load_definition
from streamstack.superset.client import SupersetClient
from streamstack.superset.publish import definition_file, make_bundle, publish

pytestmark = pytest.mark.integration

KINDS = ("databases", "datasets", "charts", "dashboards")


def _present(superset: SupersetClient) -> dict[str, set[str]]:
    return {kind: {o["uuid"] for o in objs} for kind, objs in superset.objects().items()}


def test_delete_bundle_removes_its_objects_and_nothing_else(
    settings: Settings, pinot: PinotClient, superset: SupersetClient
) -> None:
    e = PinotEndpoints.from_env(settings)
    broker, controller = f"{e.host}:{e.broker_port}", f"{e.host}:{e.controller_port}"
    datasets = load_definition(definition_file(settings))["datasets"]
    keep, drop = (make_bundle(settings, broker, controller, salt=salt, title_suffix=f" [{salt}]",
                              tables={t: f"{t}_{salt}" for t in datasets})  # table names are unique in Superset
                  for salt in (f"{name}{uuid.uuid4().hex[:6]}" for name in ("keep", "drop")))  # fmt: skip
    try:
        publish(superset, keep, test_connection=False)
        publish(superset, drop, test_connection=False)
        before = _present(superset)
        assert all(set(drop.uuids[k]) <= before[k] for k in KINDS)

        deleted = superset.delete_bundle(drop)

        after = _present(superset)
        assert deleted == {k: len(drop.uuids[k]) for k in ("dashboards", "charts", "datasets", "databases")}
        assert all(not set(drop.uuids[k]) & after[k] for k in KINDS), after
        assert all(set(keep.uuids[k]) <= after[k] for k in KINDS)
        assert superset.delete_bundle(drop) == dict.fromkeys(deleted, 0)  # again: nothing left to delete
    finally:  # a copy left behind would hold its table names (unique in Superset) for the tests after
        superset.delete_bundle(drop)
        superset.delete_bundle(keep)
