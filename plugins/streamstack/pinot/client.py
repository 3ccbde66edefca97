"""A small Pinot REST client: queries through the broker, schemas and tables through the controller.

Plain HTTP on purpose: the Airflow Pinot provider's admin hook shells out to a CLI and judges
success from its output. Every non-2xx answer raises ``PinotError`` carrying Pinot's own message,
and a query whose response lists exceptions raises too, so nothing fails silently. A Pinot with
basic auth (the stack's secured profile) gets the credentials on every request; a refusal says
so in one line, without the password.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import requests
from requests.auth import AuthBase

from streamstack.errors import StreamstackError
from streamstack.pinot.endpoints import PINOT_PASSWORD_ENV, PINOT_PASSWORD_FILE

log = logging.getLogger(__name__)

#: ``requests``' ways of giving credentials: ``(user, password)`` (basic auth) or an auth object.
Auth = tuple[str, str] | AuthBase
#: The broker's in-body "access denied" (``QueryException.ACCESS_DENIED_ERROR_CODE``): Pinot 0.11
#: answers a query without valid credentials with HTTP 200 and this code, not with a 401/403.
ACCESS_DENIED_ERROR_CODE = 180
#: Where the credentials of a client of this project come from, for the refusal message.
CREDENTIALS_SOURCE = (
    f"the stack reads them from ${PINOT_PASSWORD_ENV} or <state>/secrets/{PINOT_PASSWORD_FILE} "
    "(STREAMSTACK_AUTH=on), an Airflow task from the login/password of its Pinot connections"
)


class PinotError(StreamstackError):
    """Pinot refused a request or could not be reached.

    :param status: the HTTP status, or None when Pinot was not reached (403 also for the
        broker's "access denied" in a 200 answer).
    :param pinot_message: Pinot's own ``error`` text, verbatim.
    """

    def __init__(self, message: str, *, status: int | None = None, pinot_message: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.pinot_message = pinot_message


@dataclass(frozen=True)
class Change:
    """What ``apply`` did (or would do) to one schema or table."""

    kind: str  # "schema" | "table"
    name: str
    action: str  # "created" | "updated" | "unchanged"
    dry_run: bool = False

    def line(self) -> str:
        planned = {"created": "would create", "updated": "would update"}
        action = planned.get(self.action, self.action) if self.dry_run else self.action
        return f"{self.kind:<6} {self.name:<20} {action}"


def _same(existing: Any, desired: Any) -> bool:
    """True when ``desired`` is contained in ``existing``.

    Pinot echoes a config back with defaults filled in (tenants, flags), so equality would see a
    change on every run; containment does not. Scalars compare as text ("1" == 1, true == "true").
    """
    if isinstance(desired, dict):
        return isinstance(existing, dict) and all(
            k in existing and _same(existing[k], v) for k, v in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(existing, list)
            and len(existing) == len(desired)
            and all(_same(e, d) for e, d in zip(existing, desired, strict=True))
        )
    return str(existing).lower() == str(desired).lower()


class PinotClient:
    """Talks to one Pinot cluster.

    :param controller_url: e.g. ``http://localhost:9000`` (schemas, tables, segments).
    :param broker_url: e.g. ``http://localhost:8099`` (SQL queries).
    :param timeout: seconds per HTTP request.
    :param auth: credentials for the controller (and the broker, unless ``broker_auth``):
        ``(user, password)`` for basic auth, or a ``requests`` auth object; None sends none.
    :param broker_auth: the broker's, when they differ from the controller's.
    """

    def __init__(
        self,
        controller_url: str,
        broker_url: str,
        timeout: float = 30.0,
        *,
        auth: Auth | None = None,
        broker_auth: Auth | None = None,
    ) -> None:
        self.controller_url = controller_url.rstrip("/")
        self.broker_url = broker_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self._auth = auth
        self._broker_auth = broker_auth if broker_auth is not None else auth

    # -- HTTP --------------------------------------------------------------------------------
    def _request(self, method: str, url: str, *, auth: Auth | None, ok_404: bool = False, **kwargs: Any) -> Any:
        try:
            resp = self.session.request(method, url, timeout=self.timeout, auth=auth, **kwargs)
        except requests.RequestException as exc:
            raise PinotError(f"cannot reach Pinot at {url}: {exc}") from exc
        if ok_404 and resp.status_code == 404:
            return None
        if resp.status_code in (401, 403):
            raise self._refused(f"HTTP {resp.status_code} on {method} {url}", auth, status=resp.status_code)
        if not resp.ok:
            try:
                body = resp.json()
                message = body.get("error") or body.get("message") or resp.text
            except ValueError:
                message = resp.text
            message = str(message).strip()
            raise PinotError(
                f"Pinot rejected {method} {url} (HTTP {resp.status_code}): {message}",
                status=resp.status_code,
                pinot_message=message,
            )
        try:
            return resp.json()
        except ValueError:
            return resp.text

    @staticmethod
    def _refused(answer: str, auth: Auth | None, *, status: int) -> PinotError:
        """One line: which request, whether credentials were sent (whose, never the password) and
        where they come from. Pinot 0.11's own answer ("Permission is denied for READ '<url>'")
        says neither."""
        if auth is None:
            what = "asks for credentials and none were sent"
        elif isinstance(auth, tuple):
            what = f"refused the credentials of user {auth[0]!r}"
        else:
            what = "refused the credentials sent"
        return PinotError(f"Pinot {what} ({answer}); {CREDENTIALS_SOURCE}", status=status)

    def _controller(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._request(method, f"{self.controller_url}{path}", auth=self._auth, **kwargs)

    # -- queries -----------------------------------------------------------------------------
    def query_response(self, sql: str) -> dict[str, Any]:
        """Run SQL on the broker; the whole response (rows and statistics such as
        ``numSegmentsQueried``). Raises on any query exception."""
        url = f"{self.broker_url}/query/sql"
        body = self._request("POST", url, auth=self._broker_auth, json={"sql": sql})
        errors = body.get("exceptions") or []
        if any(e.get("errorCode") == ACCESS_DENIED_ERROR_CODE for e in errors):
            raise self._refused(f"errorCode {ACCESS_DENIED_ERROR_CODE} on POST {url}", self._broker_auth, status=403)
        if errors:
            text = "; ".join(" ".join(str(e.get("message", e)).split())[:500] for e in errors)
            raise PinotError(f"Pinot query failed: {text}\nSQL: {sql}", pinot_message=text)
        return body

    def query_table(self, sql: str) -> tuple[list[str], list[list[Any]]]:
        """Run SQL on the broker; return (column names, rows). Raises on any query exception."""
        result = self.query_response(sql).get("resultTable")
        if result is None:
            return [], []
        return list(result["dataSchema"]["columnNames"]), result["rows"]

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Run SQL on the broker; one dict per row, keyed by column name."""
        columns, rows = self.query_table(sql)
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def count(self, table: str) -> int:
        """Rows of ``table``. A broker that routed the query to no segment (an empty real-time
        table, seen on a loaded box) answers with no row at all: that is 0 rows, not an error."""
        rows = self.query_table(f"SELECT COUNT(*) FROM {table}")[1]
        return int(rows[0][0]) if rows else 0

    # -- cluster -----------------------------------------------------------------------------
    def tables(self) -> list[str]:
        return list(self._controller("GET", "/tables")["tables"])

    def get_schema(self, name: str) -> dict[str, Any] | None:
        return self._controller("GET", f"/schemas/{name}", ok_404=True)

    def get_table(self, name: str) -> dict[str, Any] | None:
        """The REALTIME table config, or None. (Pinot answers 200 ``{}`` for a missing table.)"""
        body = self._controller("GET", f"/tables/{name}", ok_404=True)
        return (body or {}).get("REALTIME")

    def consuming_offsets(self, table: str) -> dict[int, int]:
        """Partition -> next offset the server will consume, for partitions now consuming."""
        body = self._controller("GET", f"/tables/{table}/consumingSegmentsInfo")
        offsets: dict[int, int] = {}
        for replicas in (body.get("_segmentToConsumingInfoMap") or {}).values():
            for replica in replicas:
                if replica.get("consumerState") != "CONSUMING":
                    continue
                for partition, offset in (replica.get("partitionToOffsetMap") or {}).items():
                    offsets[int(partition)] = max(offsets.get(int(partition), 0), int(offset))
        return offsets

    def _external_view(self, name: str) -> dict[str, Any]:
        body = self._controller("GET", f"/tables/{name}/externalview", ok_404=True) or {}
        return body.get("REALTIME") or {}

    def drop_table(self, name: str, timeout: float = 60.0, *, wait: bool = True) -> bool:
        """Delete the REALTIME table and its schema, and wait until the server has let go of it.

        Without the wait, a table re-created at once keeps the old consuming segments in its
        external view and answers every query with zero rows (seen on Pinot 0.11). A name that
        is never re-used (the tests' suffixed tables) can skip it: ``wait=False``.
        """
        found = False
        if self.get_table(name) is not None:
            self._controller("DELETE", f"/tables/{name}", params={"type": "realtime"})
            found = True
            deadline = time.monotonic() + timeout
            while wait and self._external_view(name):
                if time.monotonic() > deadline:
                    raise PinotError(f"table {name}: still served {timeout:.0f}s after deletion")
                time.sleep(0.5)
        if self.get_schema(name) is not None:
            self._controller("DELETE", f"/schemas/{name}")
            found = True
        return found

    def validate(self, schema: dict[str, Any], table: dict[str, Any]) -> None:
        """Let Pinot check a schema and its table config together, changing nothing (raises if refused)."""
        body = {"tableName": schema["schemaName"], "schema": schema, "realtime": table}
        try:
            self._controller("POST", "/tableConfigs/validate", json=body)
        except PinotError as exc:
            raise PinotError(f"table {schema['schemaName']}: Pinot refuses the new config: {exc}",
                             status=exc.status, pinot_message=exc.pinot_message) from exc

    # -- apply -------------------------------------------------------------------------------
    def apply_schema(self, schema: dict[str, Any], *, dry_run: bool = False) -> Change:
        """Create or update a schema; no request when Pinot already has it."""
        name = schema["schemaName"]
        existing = self.get_schema(name)
        if existing is not None and _same(existing, schema):
            return Change("schema", name, "unchanged")
        action = "created" if existing is None else "updated"
        if not dry_run:
            params = {"override": "true"} if existing is not None else None
            try:
                self._controller("POST", "/schemas", json=schema, params=params)
            except PinotError as exc:
                hint = (
                    " (an incompatible schema change needs the table re-created: "
                    "`streamstack pinot apply --recreate " + name + "`)"
                    if "backward-compatible" in str(exc)
                    else ""
                )
                raise PinotError(
                    f"schema {name}: {exc}{hint}", status=exc.status, pinot_message=exc.pinot_message
                ) from exc
        return Change("schema", name, action, dry_run)

    def apply_table(self, table: dict[str, Any], *, dry_run: bool = False) -> Change:
        """Create or update a REALTIME table config; no request when Pinot already has it."""
        name = table["tableName"]
        existing = self.get_table(name)
        if existing is not None and _same(existing, {**table, "tableName": f"{name}_REALTIME"}):
            return Change("table", name, "unchanged")
        action = "created" if existing is None else "updated"
        if not dry_run:
            try:
                if existing is None:
                    self._controller("POST", "/tables", json=table)
                else:
                    self._controller("PUT", f"/tables/{name}", json=table)
            except PinotError as exc:
                raise PinotError(
                    f"table {name}: {exc}", status=exc.status, pinot_message=exc.pinot_message
                ) from exc
        return Change("table", name, action, dry_run)
