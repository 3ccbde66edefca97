"""Connections to Pinot: the controller over plain REST, the broker through the Pinot provider.

Two connections, as the Apache Pinot provider has them: ``pinot_broker_default`` (conn type
``pinot``, used by its ``PinotDbApiHook`` for SQL) and ``pinot_controller_default`` (conn type
``http``) for schemas and tables. The provider's own admin hook shells out to ``pinot-admin.sh``
and reads success from its output, so the controller is driven over REST here instead. A Pinot
with basic auth (the stack's secured profile) gets each connection's login and password: the REST
client from both, pinotdb from the broker's (``PinotDbApiHook`` passes ``username``/``password``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk.bases.hook import BaseHook

if TYPE_CHECKING:
    from streamstack.pinot.client import PinotClient

#: ``PinotDbApiHook.default_conn_name``; the provider module pulls in SQLAlchemy (~0.3 s), so it
#: is imported only when a query runs, never while a DAG file is parsed.
PINOT_BROKER_DEFAULT = "pinot_broker_default"


def _login(conn: Any) -> tuple[str, str] | None:
    """A connection's basic-auth pair; a login without password is sent with an empty one."""
    return (conn.login, conn.password or "") if conn.login else None


class PinotRestHook(BaseHook):
    """A ``PinotClient`` built from the controller and broker connections.

    :param pinot_controller_conn_id: ``http`` connection of the controller (host, port, schema;
        login and password for basic auth).
    :param pinot_broker_conn_id: ``pinot`` connection of the broker (host, port, extra ``schema``;
        login and password for basic auth).
    """

    conn_name_attr = "pinot_controller_conn_id"
    default_conn_name = "pinot_controller_default"
    conn_type = "http"
    hook_name = "Pinot controller (REST)"

    def __init__(
        self,
        pinot_controller_conn_id: str = default_conn_name,
        pinot_broker_conn_id: str = PINOT_BROKER_DEFAULT,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pinot_controller_conn_id = pinot_controller_conn_id
        self.pinot_broker_conn_id = pinot_broker_conn_id

    def controller_url(self) -> str:
        conn = self.get_connection(self.pinot_controller_conn_id)
        return f"{conn.schema or 'http'}://{conn.host}:{conn.port or 9000}"

    def broker_url(self) -> str:
        conn = self.get_connection(self.pinot_broker_conn_id)
        scheme = conn.extra_dejson.get("schema", "http")
        return f"{scheme}://{conn.host}:{conn.port or 8099}"

    def controller_auth(self) -> tuple[str, str] | None:
        """The controller connection's ``(login, password)``, or None when it has no login."""
        return _login(self.get_connection(self.pinot_controller_conn_id))

    def broker_auth(self) -> tuple[str, str] | None:
        """The broker connection's ``(login, password)`` (pinotdb and Superset's URI use these too)."""
        return _login(self.get_connection(self.pinot_broker_conn_id))

    def get_client(self) -> PinotClient:
        from streamstack.pinot.client import PinotClient

        return PinotClient(
            self.controller_url(), self.broker_url(), auth=self.controller_auth(), broker_auth=self.broker_auth()
        )

    def get_records(self, sql: str) -> list[Any]:
        """Rows through the Pinot provider's DB-API hook (pinotdb)."""
        from airflow.providers.apache.pinot.hooks.pinot import PinotDbApiHook

        return PinotDbApiHook(pinot_broker_conn_id=self.pinot_broker_conn_id).get_records(sql)

    def get_named_records(self, sql: str) -> list[dict[str, Any]]:
        """Rows as ``{column: value}``, through the same DB-API hook (column names from the cursor)."""
        from airflow.providers.apache.pinot.hooks.pinot import PinotDbApiHook
        from airflow.providers.common.sql.hooks.handlers import fetch_all_handler

        hook = PinotDbApiHook(pinot_broker_conn_id=self.pinot_broker_conn_id)
        rows = hook.run(sql, handler=fetch_all_handler) or []
        names = [d[0] for d in (hook.last_description or [])]
        return [dict(zip(names, row, strict=True)) for row in rows]
