"""PinotClient against a fake HTTP layer: no-op detection, Pinot's messages, query errors."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from streamstack.pinot.client import PinotClient, PinotError, _same
from streamstack.pinot.queries import QUERIES, named_sql


class FakeResponse:
    def __init__(self, status: int, body: Any) -> None:
        self.status_code = status
        self.ok = status < 400
        self._body = body
        self.text = str(body)

    def json(self) -> Any:
        return self._body


class FakeSession:
    def __init__(self, routes: dict[tuple[str, str], FakeResponse]) -> None:
        self.routes = routes
        self.calls: list[tuple[str, str]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> FakeResponse:
        path = url.split("://", 1)[1].split("/", 1)[1]
        self.calls.append((method, "/" + path))
        return self.routes.get((method, "/" + path), FakeResponse(404, {"code": 404, "error": "not found"}))


def client(routes: dict[tuple[str, str], FakeResponse]) -> tuple[PinotClient, FakeSession]:
    c = PinotClient("http://c:9000", "http://b:8099")
    c.session = FakeSession(routes)  # type: ignore[assignment]
    return c, c.session  # type: ignore[return-value]


def test_same_ignores_defaults_pinot_adds() -> None:
    desired = {"tableName": "t", "segmentsConfig": {"replication": "1"}, "list": ["a"]}
    echoed = {"tableName": "t", "segmentsConfig": {"replication": 1, "extra": False}, "list": ["a"], "x": {}}
    assert _same(echoed, desired)
    assert not _same(echoed, {**desired, "list": ["a", "b"]})
    assert not _same(echoed, {**desired, "segmentsConfig": {"replication": "2"}})


def test_unchanged_schema_makes_no_write() -> None:
    schema = {"schemaName": "s", "dimensionFieldSpecs": [{"name": "a", "dataType": "STRING"}]}
    c, session = client({("GET", "/schemas/s"): FakeResponse(200, schema)})
    assert c.apply_schema(schema).action == "unchanged"
    assert [m for m, _ in session.calls] == ["GET"]


def test_missing_table_is_created_and_rejection_carries_pinot_message() -> None:
    table = {"tableName": "t", "tableType": "REALTIME"}
    c, session = client(
        {
            ("GET", "/tables/t"): FakeResponse(200, {}),
            ("POST", "/tables"): FakeResponse(
                400, {"code": 400, "error": "Invalid table config: bad time column"}
            ),
        }
    )
    with pytest.raises(PinotError, match="Invalid table config: bad time column") as err:
        c.apply_table(table)
    assert err.value.status == 400 and err.value.pinot_message == "Invalid table config: bad time column"
    assert ("POST", "/tables") in session.calls


def test_changed_table_is_updated_with_put() -> None:
    table = {"tableName": "t", "tableType": "REALTIME", "x": "2"}
    c, session = client(
        {
            ("GET", "/tables/t"): FakeResponse(200, {"REALTIME": {"tableName": "t_REALTIME", "x": "1"}}),
            ("PUT", "/tables/t"): FakeResponse(200, {"status": "ok"}),
        }
    )
    assert c.apply_table(table).action == "updated"
    assert ("PUT", "/tables/t") in session.calls


def test_query_rows_and_exceptions() -> None:
    ok = {"resultTable": {"dataSchema": {"columnNames": ["a", "n"]}, "rows": [["x", 1]]}, "exceptions": []}
    c, _ = client({("POST", "/query/sql"): FakeResponse(200, ok)})
    assert c.query("select") == [{"a": "x", "n": 1}]
    bad = {"exceptions": [{"errorCode": 710, "message": "UnknownColumnError:\nUnknown columnName 'nope'"}]}
    c, _ = client({("POST", "/query/sql"): FakeResponse(200, bad)})
    with pytest.raises(PinotError, match="Unknown columnName 'nope'"):
        c.query("select nope from t")


def test_unreachable_pinot_says_where() -> None:
    c = PinotClient("http://127.0.0.1:1", "http://127.0.0.1:1", timeout=1)
    with pytest.raises(PinotError, match="cannot reach Pinot at http://127.0.0.1:1"):
        c.tables()
    assert isinstance(requests, object)


def test_named_queries() -> None:
    assert {"product-summary", "top-products", "top-products-enriched"} <= set(QUERIES)
    assert {"sales-by-hour", "daily-gross-profit", "discounts", "shop-events", "shortages"} <= set(QUERIES)
    assert "LIMIT 5" in named_sql("top-products", 5)
    with pytest.raises(Exception, match="no query named"):
        named_sql("nope")


def test_drop_without_wait_does_not_poll_the_external_view() -> None:
    routes = {
        ("GET", "/tables/t"): FakeResponse(200, {"REALTIME": {"tableName": "t_REALTIME"}}),
        ("DELETE", "/tables/t"): FakeResponse(200, {}),
        ("GET", "/tables/t/externalview"): FakeResponse(200, {"REALTIME": {"seg": {"server": "ONLINE"}}}),
    }
    c, session = client(routes)
    assert c.drop_table("t", wait=False)
    assert ("GET", "/tables/t/externalview") not in session.calls
    with pytest.raises(PinotError, match="still served"):  # the default waits for the server to let go
        c.drop_table("t", timeout=0.2)
