"""Publish ``config/superset/dashboards.yaml`` to Superset: database connection, bundle import, check."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context

from streamstack.providers.pinot.hooks import PINOT_BROKER_DEFAULT, PinotRestHook
from streamstack.providers.superset.hooks import SupersetHook


class PublishDashboardsOperator(BaseOperator):
    """Create or update the Pinot database connection and import the dashboards as code.

    The Pinot address in the connection comes from the Pinot connections (the broker's and the
    controller's), so Superset queries the same Pinot the pipeline writes. A bundle Superset
    rejects fails the task with Superset's message. Re-runs change nothing (objects by uuid).

    :param superset_conn_id: Superset connection.
    :param pinot_broker_conn_id: Pinot broker connection (host/port Superset connects to).
    :param pinot_controller_conn_id: Pinot controller connection.
    :param test_connection: let Superset connect to Pinot before importing (templated).
    :return: (XCom) ``{"database": ..., "dashboards": {key: {title, url, charts}}, "counts": {...}}``.
    """

    template_fields: Sequence[str] = ("superset_conn_id", "test_connection")

    def __init__(
        self,
        *,
        superset_conn_id: str = SupersetHook.default_conn_name,
        pinot_broker_conn_id: str = PINOT_BROKER_DEFAULT,
        pinot_controller_conn_id: str = PinotRestHook.default_conn_name,
        test_connection: bool | str = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.test_connection = test_connection
        self.superset_conn_id = superset_conn_id
        self.pinot_broker_conn_id = pinot_broker_conn_id
        self.pinot_controller_conn_id = pinot_controller_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        from streamstack.superset.publish import make_bundle, publish

        pinot = PinotRestHook(
            pinot_controller_conn_id=self.pinot_controller_conn_id, pinot_broker_conn_id=self.pinot_broker_conn_id
        )
        broker = pinot.broker_url().split("://", 1)[1]
        controller = pinot.controller_url().split("://", 1)[1]
        bundle = make_bundle(None, broker, controller, auth=pinot.broker_auth())
        test = self.test_connection if isinstance(self.test_connection, bool) else str(self.test_connection).lower() == "true"
        report = publish(SupersetHook(superset_conn_id=self.superset_conn_id).get_client(), bundle, test_connection=test)
        self.log.info("database connection: %s", report.database)
        for board in report.dashboards.values():
            self.log.info("dashboard %r (%d charts): %s", board["title"], board["charts"], board["url"])
        self.log.info("objects of ours in Superset: %s", report.counts)
        return report.as_dict()
