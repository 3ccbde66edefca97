"""tools/superset/superset_config.py's connection mutator: one shared, verifying TLS context for pinotdb."""

from __future__ import annotations

import importlib.util
import ssl
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

CONFIG = Path(__file__).resolve().parents[3] / "tools" / "superset" / "superset_config.py"


@pytest.fixture
def config(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SUPERSET_SECRET_KEY", "unit-test-only")
    spec = importlib.util.spec_from_file_location("superset_config_under_test", CONFIG)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pinot_connections_share_one_verifying_context(config) -> None:  # type: ignore[no-untyped-def]
    uri = make_url("pinot+http://127.0.0.1:8099/query/sql?controller=http://127.0.0.1:9000/")
    _, first = config.DB_CONNECTION_MUTATOR(uri, {}, "admin", None, None)
    _, second = config.DB_CONNECTION_MUTATOR(uri, {"connect_args": {"timeout": 30}}, "admin", None, None)
    context = first["connect_args"]["verify_ssl"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert second["connect_args"] == {"timeout": 30, "verify_ssl": context}


def test_other_databases_and_explicit_settings_are_left_alone(config) -> None:  # type: ignore[no-untyped-def]
    sqlite = make_url("sqlite:////tmp/superset.db")
    assert config.DB_CONNECTION_MUTATOR(sqlite, {}, None, None, None) == (sqlite, {})
    pinot = make_url("pinot://127.0.0.1:8099/query/sql")
    _, params = config.DB_CONNECTION_MUTATOR(pinot, {"connect_args": {"verify_ssl": False}}, None, None, None)
    assert params["connect_args"]["verify_ssl"] is False
