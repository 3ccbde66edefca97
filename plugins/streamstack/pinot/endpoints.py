"""Where the local Pinot listens, read from ``STREAMSTACK_PINOT_*`` environment variables.

Kept beside the Pinot client (not in the shared settings) so the stack service, the CLI, the
Airflow connection and the tests agree on the ports without touching the common settings.
Defaults are Pinot's own ports, except ZooKeeper (2191, to stay clear of a system ZooKeeper).
In the secured profile (``STREAMSTACK_AUTH=on``) the controller and the broker take HTTP basic
auth; :func:`pinot_credentials` is the one place every client of the stack gets them from.
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass

from streamstack.auth import stack_secret
from streamstack.errors import ConfigError
from streamstack.settings import Settings, _env_int

#: The secured profile's Pinot user (controller and broker principal, all tables and permissions).
PINOT_USER = "admin"
PINOT_PASSWORD_ENV = "STREAMSTACK_PINOT_PASSWORD"
#: The generated password's file in ``Settings.secrets_dir``.
PINOT_PASSWORD_FILE = "pinot-admin-password"
#: What a password may hold: it is written into Java properties files that Pinot reads with
#: Commons Configuration, where ``,`` splits a value into a list, ``${...}`` is interpolated and
#: ``\`` escapes; so none of those, and no white space.
_PASSWORD_OK = re.compile(r"^[A-Za-z0-9._~!@#%^&*()+=:;?/|<>\[\]-]+$")


@dataclass(frozen=True)
class PinotEndpoints:
    """Ports and heap of the local Pinot (ZooKeeper + controller, broker and server in one JVM)."""

    host: str = "localhost"
    zk_port: int = 2191
    controller_port: int = 9000
    broker_port: int = 8099
    server_port: int = 8098
    server_admin_port: int = 8097
    server_grpc_port: int = 8090
    heap: str = "1536m"
    zk_heap: str = "128m"
    cluster: str = "streamstack"

    @property
    def zk_address(self) -> str:
        return f"{self.host}:{self.zk_port}"

    @property
    def controller_url(self) -> str:
        return f"http://{self.host}:{self.controller_port}"

    @property
    def broker_url(self) -> str:
        return f"http://{self.host}:{self.broker_port}"

    @property
    def server_admin_url(self) -> str:
        return f"http://{self.host}:{self.server_admin_port}"

    @classmethod
    def from_env(cls, settings: Settings | None = None) -> PinotEndpoints:
        settings = settings or Settings.from_env()
        return cls(
            host=settings.host,
            zk_port=_env_int("STREAMSTACK_PINOT_ZK_PORT", 2191),
            controller_port=_env_int("STREAMSTACK_PINOT_CONTROLLER_PORT", 9000),
            broker_port=_env_int("STREAMSTACK_PINOT_BROKER_PORT", 8099),
            server_port=_env_int("STREAMSTACK_PINOT_SERVER_PORT", 8098),
            server_admin_port=_env_int("STREAMSTACK_PINOT_SERVER_ADMIN_PORT", 8097),
            server_grpc_port=_env_int("STREAMSTACK_PINOT_SERVER_GRPC_PORT", 8090),
            heap=os.environ.get("STREAMSTACK_PINOT_HEAP", "1536m"),
        )


def pinot_credentials(settings: Settings) -> tuple[str, str] | None:
    """``(user, password)`` of the stack's Pinot in the secured profile; None when it is off.

    The password is ``$STREAMSTACK_PINOT_PASSWORD`` when set, else generated once into
    ``<state>/secrets/pinot-admin-password`` (0600): the Pinot service, the CLI, the Airflow
    connections and Superset all read it here, so they cannot disagree.
    """
    if not settings.auth:
        return None
    password = stack_secret(settings.secrets_dir, PINOT_PASSWORD_FILE, env=PINOT_PASSWORD_ENV)
    if not _PASSWORD_OK.match(password):
        raise ConfigError(
            f"environment variable {PINOT_PASSWORD_ENV}: Pinot reads it from a properties file, so use only "
            "letters, digits and ._~!@#%^&*()+=:;?/|<>[]- (no ',', '$', '{', '}', '\\', quotes or spaces)"
        )
    return PINOT_USER, password


def basic_token(credentials: tuple[str, str]) -> str:
    """``Basic <base64(user:password)>``: how Pinot's own components authenticate to each other."""
    user, password = credentials
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def pinot_connections(settings: Settings) -> dict[str, str]:
    """``AIRFLOW_CONN_*`` variables for the local Pinot: controller (REST) and broker (pinotdb).

    In the secured profile both carry ``login``/``password``; the broker's is what the Pinot
    provider's ``PinotDbApiHook`` hands to pinotdb (``username=``, ``password=``).
    """
    e = PinotEndpoints.from_env(settings)
    credentials = pinot_credentials(settings)
    login = {"login": credentials[0], "password": credentials[1]} if credentials else {}
    controller = {"conn_type": "http", "host": e.host, "port": e.controller_port, "schema": "http", **login}
    broker = {
        "conn_type": "pinot",
        "host": e.host,
        "port": e.broker_port,
        # No "schema": "http" (the default): extra values are masked as secrets, and one of
        # 4 characters makes every task that reads it warn "Skipping masking ... too short".
        "extra": {"endpoint": "/query/sql"},
        **login,
    }
    return {
        "AIRFLOW_CONN_PINOT_CONTROLLER_DEFAULT": json.dumps(controller),
        "AIRFLOW_CONN_PINOT_BROKER_DEFAULT": json.dumps(broker),
    }
