"""Publishing twice leaves the database connection unchanged, whatever form Superset stores its URI in."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import make_url

from streamstack.superset.bundle import QUERY_TIMEOUT_S, pinot_uri
from streamstack.superset.client import SupersetClient, same_uri

URI = pinot_uri("127.0.0.1:8099", "127.0.0.1:9000")


def stored(uri: str) -> str:
    """The URI as Superset keeps it: re-rendered by SQLAlchemy (keys sorted, values encoded)."""
    return make_url(uri).render_as_string(hide_password=False)


def test_the_uri_carries_both_query_timeouts() -> None:
    assert f"timeout={QUERY_TIMEOUT_S}" in URI
    assert f"query_options=timeoutMs%3D{QUERY_TIMEOUT_S * 1000}" in URI


@pytest.mark.parametrize("order", ["controller={c}&timeout=30&query_options={q}", "timeout=30&query_options={q}&controller={c}"])
def test_the_stored_form_is_the_same_uri_in_any_key_order(order: str) -> None:
    wanted = "pinot+http://h:1/query/sql?" + order.format(c="http://c:2/", q="timeoutMs%3D30000")
    assert same_uri(stored(wanted), wanted)


def test_a_changed_value_host_or_path_is_a_change() -> None:
    assert not same_uri(stored(URI), URI.replace("timeout=30", "timeout=31"))
    assert not same_uri(stored(URI), URI.replace("127.0.0.1:8099", "127.0.0.1:8098"))
    assert not same_uri(stored(URI), URI.replace("/query/sql", "/query"))
    assert not same_uri(stored(URI), URI.replace("&timeout=30", ""))


class RecordingClient(SupersetClient):
    """Superset's answers for one existing connection, its URI stored in SQLAlchemy's form."""

    def __init__(self, stored_uri: str) -> None:
        super().__init__("http://superset.invalid", "admin", "x")
        self.stored_uri = stored_uri
        self.calls: list[tuple[str, str]] = []

    def databases(self) -> list[dict[str, Any]]:
        return [{"id": 7, "uuid": "u-1", "database_name": "Pinot"}]

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        self.calls.append((method, path))
        if path.endswith("/connection"):
            return {"result": {"sqlalchemy_uri": self.stored_uri}}
        return {}


def test_ensure_database_twice_with_the_stored_form_is_unchanged() -> None:
    client = RecordingClient(stored(URI))
    assert client.ensure_database("Pinot", URI, "u-1").action == "unchanged"
    assert ("PUT", "/api/v1/database/7") not in client.calls


def test_ensure_database_updates_a_changed_timeout() -> None:
    client = RecordingClient(stored(URI.replace("timeout=30", "timeout=10")))
    assert client.ensure_database("Pinot", URI, "u-1").action == "updated"
    assert ("PUT", "/api/v1/database/7") in client.calls
