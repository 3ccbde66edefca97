"""The Superset connection (``superset_default``) as a ``SupersetClient``.

Conn type ``http``: host, port, schema (http/https), login and password. The password comes from
the connection (an ``AIRFLOW_CONN_SUPERSET_DEFAULT`` variable or a secrets backend), never from a
DAG or a command line; for the local stack only, a connection without one falls back to the
stack's generated 0600 password file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk.bases.hook import BaseHook

if TYPE_CHECKING:
    from streamstack.superset.client import SupersetClient


class SupersetHook(BaseHook):
    """Superset's REST API as the connection's user.

    :param superset_conn_id: ``http`` connection of Superset.
    """

    conn_name_attr = "superset_conn_id"
    default_conn_name = "superset_default"
    conn_type = "http"
    hook_name = "Apache Superset (REST)"

    def __init__(self, superset_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.superset_conn_id = superset_conn_id

    def get_client(self) -> SupersetClient:
        from streamstack.errors import ConfigError
        from streamstack.superset.client import SupersetClient

        conn = self.get_connection(self.superset_conn_id)
        if not conn.host or not conn.login:
            raise ConfigError(f"Airflow connection {self.superset_conn_id!r} needs host and login")
        password = conn.password
        if not password:
            from streamstack.superset.endpoints import SupersetEndpoints

            password = SupersetEndpoints.from_env().password()
        url = f"{conn.schema or 'http'}://{conn.host}:{conn.port or 8088}"
        return SupersetClient(url, conn.login, password)
