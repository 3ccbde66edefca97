"""A bundle Superset rejects fails loudly with Superset's own message (nothing is swallowed)."""

from __future__ import annotations

import uuid

import pytest
import yaml

from streamstack.pinot import PinotClient
from streamstack.pinot.endpoints import PinotEndpoints
from streamstack.settings import Settings
from streamstack.superset.client import SupersetClient, SupersetError
from streamstack.superset.publish import make_bundle, publish

pytestmark = pytest.mark.integration


def test_rejected_bundle_raises_with_supersets_message(
    settings: Settings, pinot: PinotClient, superset: SupersetClient
) -> None:
    e = PinotEndpoints.from_env(settings)
    salt = f"bad{uuid.uuid4().hex[:6]}"
    bundle = make_bundle(settings, f"{e.host}:{e.broker_port}", f"{e.host}:{e.controller_port}", salt=salt,
                         title_suffix=f" [{salt}]")  # fmt: skip
    chart = yaml.safe_load(bundle.files["charts/sales.yaml"])
    del chart["slice_name"]  # a required field of Superset's ImportV1ChartSchema
    bundle.files["charts/sales.yaml"] = yaml.safe_dump(chart)
    with pytest.raises(SupersetError) as info:
        publish(superset, bundle, test_connection=False)
    message = str(info.value)
    assert "/api/v1/dashboard/import/" in message and "HTTP 422" in message, message
    assert "charts/sales.yaml" in message and "slice_name" in message, message
    # Nothing of the rejected bundle's dashboards was created.
    assert not {d["uuid"] for d in superset.dashboards()} & set(bundle.uuids["dashboards"])


def test_unreachable_pinot_fails_before_anything_is_imported(settings: Settings, superset: SupersetClient) -> None:
    salt = f"down{uuid.uuid4().hex[:6]}"
    bundle = make_bundle(settings, "localhost:1", "localhost:2", salt=salt)
    with pytest.raises(SupersetError) as info:
        publish(superset, bundle)
    assert "test_connection" in str(info.value), info.value
    assert not {d["uuid"] for d in superset.databases()} & set(bundle.uuids["databases"])
