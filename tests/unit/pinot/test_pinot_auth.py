"""Issue #29 item 9: Pinot's basic auth in the secured profile (``STREAMSTACK_AUTH=on``), without a Pinot.

The role configs, the 0600 files, every client's credentials (REST client, ``local_client``, the
Airflow connections and hook, Superset's URI) against a small local HTTP server standing in for
the controller and broker. The real Pinot: ``tests/e2e/test_secured_profile.py``.
"""

from __future__ import annotations

import base64
import json
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from streamstack.errors import ConfigError
from streamstack.pinot import PinotClient, PinotError, local_client
from streamstack.pinot.endpoints import pinot_connections
from streamstack.settings import Settings
from streamstack.stack import pinot as pinot_stack
from streamstack.stack.pinot import PinotService
from streamstack.superset.bundle import build_bundle, load_definition, pinot_uri

PASSWORD_FILE = "pinot-admin-password"
PROJECT = Path(__file__).resolve().parents[3]
#: Every Pinot 0.11 key the profile adds, by role (pinot-tools AuthQuickstart, release-0.11.0).
AUTH_KEYS = {
    "controller": {
        "controller.admin.access.control.factory.class",
        "controller.admin.access.control.principals",
        "controller.admin.access.control.principals.admin.password",
        "pinot.controller.segment.fetcher.auth.token",
    },
    "broker": {
        "pinot.broker.access.control.class",
        "pinot.broker.access.control.principals",
        "pinot.broker.access.control.principals.admin.password",
    },
    "server": {
        "pinot.server.segment.fetcher.auth.token",
        "pinot.server.segment.uploader.auth.token",
        "pinot.server.instance.auth.token",
    },
}


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The secured profile on a state dir of its own; the password generated, not from the environment."""
    monkeypatch.delenv("STREAMSTACK_PINOT_PASSWORD", raising=False)
    return replace(Settings.from_env(), state_dir=tmp_path / "state", auth=True)


def password_of(settings: Settings) -> str:
    return (settings.secrets_dir / PASSWORD_FILE).read_text().strip()


def token(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def read_properties(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line)


def prepared(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> PinotService:
    """A ``PinotService`` whose role files are written (ZooKeeper taken as running)."""
    monkeypatch.setattr(pinot_stack, "port_open", lambda host, port: True)
    service = PinotService(settings)
    service.prepare()
    return service


# ------------------------------------------------------------------------- the Pinot service
def test_the_profile_gives_each_role_pinot_0_11_basic_auth(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    service = prepared(settings, monkeypatch)
    password = password_of(settings)
    roles = {role: read_properties(service.state_dir / f"{role}.properties") for role in AUTH_KEYS}
    for role, keys in AUTH_KEYS.items():
        assert keys <= roles[role].keys(), role
    controller, broker, server = roles["controller"], roles["broker"], roles["server"]
    assert controller["controller.admin.access.control.factory.class"] == (
        "org.apache.pinot.controller.api.access.BasicAuthAccessControlFactory"
    )
    assert broker["pinot.broker.access.control.class"] == "org.apache.pinot.broker.broker.BasicAuthAccessControlFactory"
    assert controller["controller.admin.access.control.principals"] == "admin"
    assert broker["pinot.broker.access.control.principals"] == "admin"
    assert controller["controller.admin.access.control.principals.admin.password"] == password
    assert broker["pinot.broker.access.control.principals.admin.password"] == password
    for key in AUTH_KEYS["server"] | {"pinot.controller.segment.fetcher.auth.token"}:
        assert {**controller, **server}[key] == token("admin", password), key
    # The roles' own settings are still there.
    assert controller["pinot.service.role"] == "CONTROLLER" and server["pinot.service.role"] == "SERVER"


def test_files_with_the_password_are_private(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    service = prepared(settings, monkeypatch)
    for role in AUTH_KEYS:
        assert stat.S_IMODE((service.state_dir / f"{role}.properties").stat().st_mode) == 0o600, role
    assert stat.S_IMODE((settings.secrets_dir / PASSWORD_FILE).stat().st_mode) == 0o600
    assert stat.S_IMODE(settings.secrets_dir.stat().st_mode) == 0o700


def test_the_password_is_not_on_the_command_line(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    service = prepared(settings, monkeypatch)
    password = password_of(settings)
    line = " ".join(service.command())
    assert password not in line and token("admin", password).split()[1] not in line
    assert all(str(service.state_dir / f"{role}.properties") in line for role in AUTH_KEYS)


def test_without_the_profile_nothing_changes(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    service = prepared(replace(settings, auth=False), monkeypatch)
    for role, keys in AUTH_KEYS.items():
        path = service.state_dir / f"{role}.properties"
        assert not keys & read_properties(path).keys(), role
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert not settings.secrets_dir.exists()  # no password made for nothing


def test_a_password_pinot_cannot_read_from_a_properties_file_is_refused(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAMSTACK_PINOT_PASSWORD", "a,b")  # Commons Configuration: a list of two
    with pytest.raises(ConfigError, match="STREAMSTACK_PINOT_PASSWORD") as info:
        PinotService(settings).prepare()
    assert "a,b" not in str(info.value)
    monkeypatch.setenv("STREAMSTACK_PINOT_PASSWORD", "chosen-by-me")
    service = prepared(settings, monkeypatch)
    broker = read_properties(service.state_dir / "broker.properties")
    assert broker["pinot.broker.access.control.principals.admin.password"] == "chosen-by-me"


# ------------------------------------------------------- a stand-in for the controller and broker
@dataclass
class FakePinot:
    """Answers like Pinot 0.11 with basic auth: 403 from the controller, errorCode 180 from the broker."""

    password: str
    seen: list[tuple[str, str, str | None]] = field(default_factory=list)
    url: str = ""

    def answer(self, method: str, path: str, authorization: str | None) -> tuple[int, object]:
        self.seen.append((method, path, authorization))
        allowed = authorization == token("admin", self.password)
        if path == "/health":
            return 200, "OK"
        if path == "/query/sql":
            if not allowed:
                return 200, {"exceptions": [{"errorCode": 180, "message": None}], "numServersQueried": 0}
            return 200, {"resultTable": {"dataSchema": {"columnNames": ["n"]}, "rows": [[1]]}, "exceptions": []}
        if path == "/tables":
            if not allowed:
                return 403, {"code": 403, "error": f"Permission is denied for READ '{self.url}/tables'"}
            return 200, {"tables": ["t"]}
        return 404, {"code": 404, "error": "not found"}


@pytest.fixture
def fake_pinot() -> Iterator[FakePinot]:
    pinot = FakePinot(password="s3cret-Pass_word")

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            status, body = pinot.answer(method, self.path, self.headers.get("Authorization"))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._reply("GET")

        def do_POST(self) -> None:
            self._reply("POST")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    pinot.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield pinot
    finally:
        server.shutdown()
        server.server_close()


def port_of(url: str) -> str:
    return url.rsplit(":", 1)[1]


# ------------------------------------------------------------------------------- the REST client
def test_the_client_sends_the_credentials_to_controller_and_broker(fake_pinot: FakePinot) -> None:
    client = PinotClient(fake_pinot.url, fake_pinot.url, auth=("admin", fake_pinot.password))
    assert client.tables() == ["t"]
    assert client.query("SELECT 1") == [{"n": 1}]
    assert [auth for _, _, auth in fake_pinot.seen] == [token("admin", fake_pinot.password)] * 2


def test_the_broker_may_have_credentials_of_its_own(fake_pinot: FakePinot) -> None:
    client = PinotClient(fake_pinot.url, fake_pinot.url, auth=("admin", "wrong"),
                         broker_auth=("admin", fake_pinot.password))
    assert client.query("SELECT 1") == [{"n": 1}]
    with pytest.raises(PinotError):
        client.tables()


@pytest.mark.parametrize("auth", [("admin", "wrong-password"), None])
def test_a_refusal_is_one_line_naming_the_source_never_the_password(fake_pinot: FakePinot,
                                                                     auth: tuple[str, str] | None) -> None:
    client = PinotClient(fake_pinot.url, fake_pinot.url, auth=auth)
    with pytest.raises(PinotError) as controller:
        client.tables()
    with pytest.raises(PinotError) as broker:
        client.query("SELECT 1")
    for info in (controller, broker):
        message = str(info.value)
        assert "\n" not in message and info.value.status == 403
        assert "STREAMSTACK_PINOT_PASSWORD" in message and "Airflow" in message
        assert "wrong-password" not in message and fake_pinot.password not in message
        expected = "refused the credentials of user 'admin'" if auth else "asks for credentials and none were sent"
        assert expected in message
    assert "HTTP 403 on GET" in str(controller.value)
    assert "errorCode 180 on POST" in str(broker.value)


def test_a_401_is_a_refusal_too(fake_pinot: FakePinot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fake_pinot, "answer", lambda method, path, auth: (401, {"error": "Unauthorized"}))
    with pytest.raises(PinotError, match=r"refused the credentials of user 'admin' \(HTTP 401") as info:
        PinotClient(fake_pinot.url, fake_pinot.url, auth=("admin", "topsecret-1")).tables()
    assert "topsecret-1" not in str(info.value) and info.value.status == 401


def test_the_stack_client_and_the_service_probe_use_the_profile_password(
    settings: Settings, fake_pinot: FakePinot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAMSTACK_PINOT_PASSWORD", fake_pinot.password)
    for name in ("CONTROLLER", "BROKER", "SERVER_ADMIN"):
        monkeypatch.setenv(f"STREAMSTACK_PINOT_{name}_PORT", port_of(fake_pinot.url))
    assert local_client(settings).tables() == ["t"]
    assert PinotService(settings).ready()
    assert {auth for _, _, auth in fake_pinot.seen} == {token("admin", fake_pinot.password)}
    with pytest.raises(PinotError, match="none were sent"):
        local_client(replace(settings, auth=False)).tables()


# ---------------------------------------------------------------------------------------- Airflow
def test_the_airflow_connections_carry_the_login_in_the_profile_only(settings: Settings) -> None:
    conns = {k: json.loads(v) for k, v in pinot_connections(settings).items()}
    password = password_of(settings)
    for name in ("AIRFLOW_CONN_PINOT_CONTROLLER_DEFAULT", "AIRFLOW_CONN_PINOT_BROKER_DEFAULT"):
        assert (conns[name]["login"], conns[name]["password"]) == ("admin", password), name
    plain = {k: json.loads(v) for k, v in pinot_connections(replace(settings, auth=False)).items()}
    assert all("login" not in c and "password" not in c for c in plain.values())


def test_the_hook_sends_each_connection_login(fake_pinot: FakePinot, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamstack.providers.pinot.hooks import PinotRestHook

    port = int(port_of(fake_pinot.url))
    login = {"login": "admin", "password": fake_pinot.password}
    monkeypatch.setenv("AIRFLOW_CONN_PINOT_CONTROLLER_DEFAULT",
                       json.dumps({"conn_type": "http", "host": "127.0.0.1", "port": port, "schema": "http", **login}))
    monkeypatch.setenv("AIRFLOW_CONN_PINOT_BROKER_DEFAULT",
                       json.dumps({"conn_type": "pinot", "host": "127.0.0.1", "port": port, **login}))
    hook = PinotRestHook()
    client = hook.get_client()
    assert client.tables() == ["t"] and client.query("SELECT 1") == [{"n": 1}]
    assert {auth for _, _, auth in fake_pinot.seen} == {token("admin", fake_pinot.password)}
    assert hook.broker_auth() == ("admin", fake_pinot.password)  # what pinotdb and Superset's URI get


# --------------------------------------------------------------------------------------- Superset
def test_the_superset_uri_authenticates_to_broker_and_controller() -> None:
    from sqlalchemy.engine import make_url

    assert pinot_uri("b:8099", "c:9000") == pinot_uri("b:8099", "c:9000", auth=None)
    assert "@" not in pinot_uri("b:8099", "c:9000")
    uri = make_url(pinot_uri("b:8099", "c:9000", auth=("admin", "p@ss/w:rd")))
    # pinotdb's dialect sends url.username/url.password to the broker and, as HTTPBasicAuth, to
    # the controller of the `controller` query key.
    assert (uri.username, uri.password, uri.host, uri.port) == ("admin", "p@ss/w:rd", "b", 8099)
    assert uri.query["controller"] == "http://c:9000/"


def test_the_bundle_files_carry_superset_mask_not_the_password() -> None:
    uri = pinot_uri("b:8099", "c:9000", auth=("admin", "bundle-secret-1"))
    bundle = build_bundle(load_definition(PROJECT / "config" / "superset" / "dashboards.yaml"),
                          schemas_dir=PROJECT / "config" / "pinot" / "schemas", database_uri=uri)
    assert bundle.database["uri"] == uri  # what publish gives the database API
    assert not any("bundle-secret-1" in text for text in bundle.files.values())
    (db_file,) = [text for path, text in bundle.files.items() if path.startswith("databases/")]
    assert yaml.safe_load(db_file)["sqlalchemy_uri"] == uri.replace("bundle-secret-1", "XXXXXXXXXX")


def test_the_masked_password_superset_shows_compares_equal_to_the_one_sent() -> None:
    from sqlalchemy.engine import make_url

    from streamstack.superset.client import same_uri

    wanted = pinot_uri("b:8099", "c:9000", auth=("admin", "same-secret-1"))
    stored = make_url(wanted).set(password="XXXXXXXXXX").render_as_string(hide_password=False)
    assert same_uri(stored, wanted)


def test_a_count_answered_with_no_row_is_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seen in CI: an empty real-time table's COUNT(*) came back with no row (no segment queried)."""
    from streamstack.pinot.client import PinotClient

    client = PinotClient("http://c:9000", "http://b:8099")
    monkeypatch.setattr(client, "query_table", lambda sql: (["count(*)"], []))
    assert client.count("events") == 0
    monkeypatch.setattr(client, "query_table", lambda sql: (["count(*)"], [[7]]))
    assert client.count("events") == 7
