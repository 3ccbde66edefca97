"""A small client of Superset's REST API: login, CSRF, the database connection, bundle import.

Superset's API takes a JWT (``POST /api/v1/security/login``) and, for writes, a CSRF token
(``GET /api/v1/security/csrf_token/``) sent back with the session cookie it came with. Every
error answer becomes a ``SupersetError`` carrying Superset's own message (an import that Superset
rejects names the file and the field it did not accept).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

import requests

from streamstack.errors import StreamstackError
from streamstack.superset.bundle import Bundle


class SupersetError(StreamstackError):
    """Superset refused a request; the message is Superset's."""


def _password(uri: str) -> str | None:
    from sqlalchemy.engine import make_url

    return make_url(uri).password


#: What Superset's API shows in place of a stored password.
MASK = "XXXXXXXXXX"


def same_uri(stored: str, wanted: str) -> bool:
    """Superset stores the URI re-rendered by SQLAlchemy: query keys sorted, values percent-encoded.
    Compared as text, a URI of two or more options read as changed at every publish; compared as
    SQLAlchemy URLs (Superset's own parser), only a real change counts. A stored password is
    shown masked: the rest of the URI is compared (``ensure_database`` still sends the password)."""
    from sqlalchemy.engine import make_url  # not at import: the provider layer is imported by DAG files

    s, w = make_url(stored), make_url(wanted)
    if s.password == MASK and w.password is not None:
        w = w.set(password=MASK)
    return s == w


@dataclass(frozen=True)
class DatabaseChange:
    """What ``ensure_database`` did: ``created``, ``updated`` or ``unchanged``."""

    action: str
    id: int
    name: str


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        title = re.search(r"<title>(.*?)</title>", response.text, re.S)
        return title.group(1).strip() if title else response.text[:2000]
    parts: list[str] = []
    if isinstance(body, dict):
        if body.get("message"):
            parts.append(body["message"] if isinstance(body["message"], str) else json.dumps(body["message"]))
        for error in body.get("errors") or []:
            text = error.get("message", "")
            extra = error.get("extra") or {}
            details = {k: v for k, v in extra.items() if k not in ("issue_codes",)}
            parts.append(text + (f" {json.dumps(details, sort_keys=True)}" if details else ""))
    return "; ".join(p for p in parts if p) or json.dumps(body)[:2000]


class SupersetClient:
    """Superset's REST API as one logged-in user (``admin`` of the local stack, or any user)."""

    def __init__(self, url: str, username: str, password: str, timeout: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self.username = username
        self._password = password
        self.timeout = timeout
        self.session = requests.Session()
        # Superset answers a failed command with its HTML 500 page to any client that accepts
        # text/html (requests' default */* does), losing the message; JSON gets 422 + details.
        self.session.headers["Accept"] = "application/json"
        self._logged_in = False

    # -- plumbing -----------------------------------------------------------------------------
    def login(self) -> None:
        """JWT login, then the CSRF token that write requests need (same session cookie)."""
        try:
            response = self.session.post(
                f"{self.url}/api/v1/security/login",
                json={"username": self.username, "password": self._password, "provider": "db", "refresh": True},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise SupersetError(f"Superset at {self.url} is not reachable: {exc}") from exc
        if response.status_code != 200:
            raise SupersetError(f"login to {self.url} as {self.username!r} failed (HTTP {response.status_code}): "
                                f"{_message(response)}")  # fmt: skip
        self.session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        csrf = self.session.get(f"{self.url}/api/v1/security/csrf_token/", timeout=self.timeout)
        if csrf.status_code != 200:
            raise SupersetError(f"no CSRF token from {self.url} (HTTP {csrf.status_code}): {_message(csrf)}")
        self.session.headers["X-CSRFToken"] = csrf.json()["result"]
        self.session.headers["Referer"] = self.url
        self._logged_in = True

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        if not self._logged_in:
            self.login()
        try:
            response = self.session.request(method, f"{self.url}{path}", timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise SupersetError(f"{method} {path}: Superset at {self.url} is not reachable: {exc}") from exc
        if response.status_code >= 400:
            raise SupersetError(f"{method} {path} failed (HTTP {response.status_code}): {_message(response)}")
        return response.json() if response.content else None

    def wait_healthy(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            try:
                response = requests.get(f"{self.url}/health", timeout=5)
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}"
            except requests.RequestException as exc:
                last = str(exc)
            time.sleep(1.0)
        raise SupersetError(f"Superset at {self.url} not healthy within {timeout:.0f}s: {last}")

    # -- objects ------------------------------------------------------------------------------
    def _list(self, resource: str, columns: list[str]) -> list[dict[str, Any]]:
        q = f"(columns:!({','.join(columns)}),page:0,page_size:100)"
        items: list[dict[str, Any]] = []
        page = 0
        while True:
            body = self.request("GET", f"/api/v1/{resource}/", params={"q": q.replace("page:0", f"page:{page}")})
            items.extend(body["result"])
            if len(items) >= body["count"] or not body["result"]:
                return items
            page += 1

    def databases(self) -> list[dict[str, Any]]:
        return self._list("database", ["id", "uuid", "database_name", "sqlalchemy_uri"])

    def datasets(self) -> list[dict[str, Any]]:
        return self._list("dataset", ["id", "uuid", "table_name"])

    def charts(self) -> list[dict[str, Any]]:
        return self._list("chart", ["id", "uuid", "slice_name", "viz_type"])

    def dashboards(self) -> list[dict[str, Any]]:
        return self._list("dashboard", ["id", "uuid", "dashboard_title", "slug", "changed_on_utc"])

    def objects(self) -> dict[str, list[dict[str, Any]]]:
        """Every database, dataset, chart and dashboard, by kind (the kinds of ``Bundle.uuids``)."""
        return {"databases": self.databases(), "datasets": self.datasets(), "charts": self.charts(),
                "dashboards": self.dashboards()}  # fmt: skip

    def dashboard_charts(self, id_or_slug: str | int) -> list[dict[str, Any]]:
        return self.request("GET", f"/api/v1/dashboard/{id_or_slug}/charts")["result"]

    def test_connection(self, name: str, uri: str) -> None:
        """Superset connects to the database itself: fails with its message if it cannot."""
        self.request("POST", "/api/v1/database/test_connection/", json={"database_name": name, "sqlalchemy_uri": uri})

    def ensure_database(self, name: str, uri: str, uuid: str) -> DatabaseChange:
        """Create the database connection, or bring its name and URI up to date; idempotent.

        Matched by uuid (the bundle's), so the import that follows updates this same row.
        """
        existing = [d for d in self.databases() if d.get("uuid") == uuid]
        payload = {"database_name": name, "sqlalchemy_uri": uri, "expose_in_sqllab": True}
        if not existing:
            clash = [d for d in self.databases() if d["database_name"] == name]
            if clash:
                raise SupersetError(
                    f"a database named {name!r} already exists (id {clash[0]['id']}) but is not ours "
                    f"(uuid {clash[0].get('uuid')} != {uuid}); rename or delete it in Superset"
                )
            body = self.request("POST", "/api/v1/database/", json={**payload, "uuid": uuid})
            return DatabaseChange("created", int(body["id"]), name)
        db = existing[0]
        # The list hides the URI; /connection shows it (passwords masked; pinotdb's has none).
        current = self.request("GET", f"/api/v1/database/{db['id']}/connection")["result"]
        # A stored password hides behind the mask: a URI with one is sent again (a regenerated
        # password would go unseen otherwise), and reported as an update.
        if (db["database_name"] == name and same_uri(current.get("sqlalchemy_uri") or "", uri)
                and _password(uri) is None):
            return DatabaseChange("unchanged", int(db["id"]), name)
        self.request("PUT", f"/api/v1/database/{db['id']}", json=payload)
        return DatabaseChange("updated", int(db["id"]), name)

    def delete_bundle(self, bundle: Bundle) -> dict[str, int]:
        """Delete what ``bundle`` imported (matched by uuid), dashboards first; for throw-away copies.

        :return: how many objects of each kind were deleted (0 for what was not there).
        """
        listed = self.objects()
        deleted = {}
        for kind in ("dashboards", "charts", "datasets", "databases"):  # each before what it uses
            wanted = set(bundle.uuids[kind])
            ids = [o["id"] for o in listed[kind] if o.get("uuid") in wanted]
            for object_id in ids:
                self.request("DELETE", f"/api/v1/{kind[:-1]}/{object_id}")
            deleted[kind] = len(ids)
        return deleted

    def import_bundle(self, bundle: Bundle) -> None:
        """``POST /api/v1/dashboard/import/`` with ``overwrite=true``: the dashboards and everything they use.

        (``/api/v1/assets/import/`` would do as well; this one reports each rejected file and field.)
        """
        self.request(
            "POST",
            "/api/v1/dashboard/import/",
            files={"formData": ("streamstack_superset.zip", bundle.zip_bytes(), "application/zip")},
            data={"overwrite": "true"},
        )
