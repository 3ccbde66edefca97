"""The engines' connection types are registered with Airflow (forms, Test button) and read as documented."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from streamstack.providers import get_provider_info
from streamstack.providers.engines.hooks import FlinkRestHook, KStreamsHook


def test_the_provider_info_is_what_airflow_accepts() -> None:
    import jsonschema
    from airflow import providers_manager

    schema = json.loads((Path(providers_manager.__file__).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_airflow_finds_both_connection_types_testable() -> None:
    from airflow.providers_manager import ProvidersManager

    hooks = ProvidersManager().hooks
    for conn_type, hook in (("flink", FlinkRestHook), ("kstreams", KStreamsHook)):
        info = hooks.get(conn_type)
        assert info is not None, f"{conn_type}: not registered (reinstall: make install)"
        assert info.hook_class_name == f"{hook.__module__}.{hook.__name__}" and info.connection_testable
    # What the API server gives the connection form (Airflow 3.3 reads it from the provider info).
    forms = {m.connection_type: m.field_behaviour for m in ProvidersManager().iter_connection_type_hook_ui_metadata()}
    assert forms["flink"]["relabeling"]["host"] == "JobManager host" and "login" in forms["flink"]["hidden_fields"]
    assert forms["kstreams"]["relabeling"]["port"] == "HTTP port of the first app"


def test_the_test_button_says_why_a_cluster_is_not_there(monkeypatch: pytest.MonkeyPatch) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    monkeypatch.setenv("AIRFLOW_CONN_FLINK_DEFAULT", json.dumps({"conn_type": "flink", "host": "127.0.0.1",
                                                                 "port": port}))
    ok, message = FlinkRestHook().test_connection()
    assert not ok and "cluster not reachable" in message and str(port) in message
    monkeypatch.setenv("AIRFLOW_CONN_KSTREAMS_DEFAULT", json.dumps({"conn_type": "kstreams", "host": "127.0.0.1",
                                                                    "port": port, "extra": {"threads": 3}}))
    ok, message = KStreamsHook().test_connection()
    assert not ok and "running_totals: not answering" in message
    assert KStreamsHook().options()["threads"] == 3


def test_the_embedded_stack_defines_both_connections() -> None:
    from streamstack.airflow_env import airflow_environment
    from streamstack.settings import Settings

    env = airflow_environment(Settings.from_env())
    assert json.loads(env["AIRFLOW_CONN_FLINK_DEFAULT"])["conn_type"] == "flink"
    assert json.loads(env["AIRFLOW_CONN_KSTREAMS_DEFAULT"])["conn_type"] == "kstreams"
    assert env["AIRFLOW__CORE__TEST_CONNECTION"] == "Enabled"
