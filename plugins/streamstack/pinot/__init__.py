"""Pinot as code: the REST client, schemas and tables from ``config/pinot``, the demo's queries.

No Airflow import here: the CLI, the tests and the Airflow provider layer all use this package.
Other areas query Pinot with ``local_client(settings).query(sql)`` (the secured profile's
credentials included), or ``PinotClient(controller_url, broker_url, auth=...)``.
"""

from __future__ import annotations

from streamstack.pinot.client import Change, PinotClient, PinotError
from streamstack.pinot.endpoints import PinotEndpoints, pinot_credentials
from streamstack.pinot.queries import QUERIES, NamedQuery, named_sql, run_named
from streamstack.settings import Settings

__all__ = [
    "QUERIES",
    "Change",
    "NamedQuery",
    "PinotClient",
    "PinotEndpoints",
    "PinotError",
    "local_client",
    "named_sql",
    "run_named",
]


def local_client(settings: Settings | None = None) -> PinotClient:
    """A client for the Pinot of the embedded stack (ports from ``STREAMSTACK_PINOT_*``; the
    secured profile's credentials when ``STREAMSTACK_AUTH=on``)."""
    settings = settings or Settings.from_env()
    endpoints = PinotEndpoints.from_env(settings)
    return PinotClient(endpoints.controller_url, endpoints.broker_url, auth=pinot_credentials(settings))
