"""Alerts of the live pipeline: a notifier posting the failure to a webhook (Slack's or any other).

The URL is the host of an HTTP connection (default ``streamstack_alerts``), e.g.
``AIRFLOW_CONN_STREAMSTACK_ALERTS='{"conn_type": "http", "host": "https://hooks.slack.com/services/..."}'``:
a Slack incoming-webhook URL is a secret, so it lives in a connection, never in a DAG. The body is
``{"text": "<message>"}``, what Slack's incoming webhooks take. For e-mail, Airflow's own
``SmtpNotifier`` (``apache-airflow-providers-smtp``, installed) goes in the same callback list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseHook
from airflow.sdk.bases.notifier import BaseNotifier
from airflow.sdk.exceptions import AirflowNotFoundException

ALERTS_DEFAULT = "streamstack_alerts"
MESSAGE = "{{ ti.dag_id }}.{{ ti.task_id }} failed (try {{ ti.try_number }}): {{ exception }}"


class WebhookNotifier(BaseNotifier):
    """POST ``{"text": message}`` to the URL of connection ``conn_id``.

    Without that connection the platform has no alert channel configured: the failure stays in
    the Airflow UI, and the notifier says so in the task log (once per failure), nothing else.
    A channel that is configured but refuses the alert raises: a lost alert is not silent.

    :param conn_id: HTTP connection whose host is the webhook URL (templated).
    :param message: the text posted (templated; the failure's ``exception`` is in the context).
    :param timeout: seconds to wait for the webhook.
    """

    template_fields: Sequence[str] = ("conn_id", "message")

    def __init__(self, *, conn_id: str = ALERTS_DEFAULT, message: str = MESSAGE, timeout: float = 10.0) -> None:
        super().__init__()
        self.conn_id, self.message, self.timeout = conn_id, message, timeout

    def url(self) -> str | None:
        try:
            conn = BaseHook.get_connection(self.conn_id)
        except AirflowNotFoundException:
            return None
        host = (conn.host or "").strip()
        if host.startswith(("http://", "https://")):
            return host
        scheme = conn.schema or "https"
        port = f":{conn.port}" if conn.port else ""
        return f"{scheme}://{host}{port}{(conn.extra_dejson or {}).get('path', '')}"

    def notify(self, context: Any) -> None:
        import requests

        url = self.url()
        if url is None:
            self.log.warning("No connection %r: the alert stays in the Airflow UI (see docs/live.md to send it "
                             "to Slack or e-mail)", self.conn_id)
            return
        response = requests.post(url, json={"text": self.message}, timeout=self.timeout)
        if response.status_code >= 300:
            raise RuntimeError(f"alert webhook of connection {self.conn_id!r} answered {response.status_code}: "
                               f"{response.text[:200]}")
