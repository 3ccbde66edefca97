"""Where the local Pinot listens, read from ``STREAMSTACK_PINOT_*`` environment variables.

Kept beside the Pinot client (not in the shared settings) so the stack service, the CLI, the
Airflow connection and the tests agree on the ports without touching the common settings.
Defaults are Pinot's own ports, except ZooKeeper (2191, to stay clear of a system ZooKeeper).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from streamstack.settings import Settings, _env_int


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


def pinot_connections(settings: Settings) -> dict[str, str]:
    """``AIRFLOW_CONN_*`` variables for the local Pinot: controller (REST) and broker (pinotdb)."""
    e = PinotEndpoints.from_env(settings)
    controller = {"conn_type": "http", "host": e.host, "port": e.controller_port, "schema": "http"}
    broker = {
        "conn_type": "pinot",
        "host": e.host,
        "port": e.broker_port,
        # No "schema": "http" (the default): extra values are masked as secrets, and one of
        # 4 characters makes every task that reads it warn "Skipping masking ... too short".
        "extra": {"endpoint": "/query/sql"},
    }
    return {
        "AIRFLOW_CONN_PINOT_CONTROLLER_DEFAULT": json.dumps(controller),
        "AIRFLOW_CONN_PINOT_BROKER_DEFAULT": json.dumps(broker),
    }
