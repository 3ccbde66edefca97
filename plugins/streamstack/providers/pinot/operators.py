"""Apply Pinot schemas and tables from ``config/pinot`` and run the demo's named queries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context

from streamstack.providers.pinot.hooks import PinotRestHook


def _as_bool(value: bool | str) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() == "true"


class ApplyPinotTablesOperator(BaseOperator):
    """Create or update each schema, then its REALTIME table; a re-run changes nothing.

    A config Pinot rejects fails the task with Pinot's own message; so does a table whose Kafka
    topic does not exist yet.

    :param tables: table names (default: all of ``config/pinot``).
    :param bootstrap_servers: Kafka address Pinot consumes from (default: the Kafka connection's);
        when given, it is used as given.
    :param kafka_config_id: Kafka connection: the topics must exist there, and Pinot consumes from it.
    :param dry_run: only report what would change.
    :return: (XCom) ``{"changes": [{kind, name, action}], "changed": n, "dry_run": bool}``.
    """

    template_fields: Sequence[str] = ("tables", "dry_run", "bootstrap_servers")

    def __init__(
        self,
        *,
        tables: Sequence[str] | None = None,
        bootstrap_servers: str | None = None,
        kafka_config_id: str = "kafka_default",
        pinot_controller_conn_id: str = PinotRestHook.default_conn_name,
        dry_run: bool | str = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.tables = tables
        self.bootstrap_servers = bootstrap_servers
        self.kafka_config_id = kafka_config_id
        self.pinot_controller_conn_id = pinot_controller_conn_id
        self.dry_run = dry_run

    def execute(self, context: Context) -> dict[str, Any]:
        from streamstack.pinot.tables import TABLES, apply_specs, existing_topics, local_specs
        from streamstack.providers.kafka.hooks import KafkaConfigHook

        kafka_config = KafkaConfigHook(kafka_config_id=self.kafka_config_id).client_config()
        bootstrap = self.bootstrap_servers or kafka_config["bootstrap.servers"]
        specs = local_specs(None, self.tables or TABLES, bootstrap_servers=bootstrap,
                            kafka_config=kafka_config, kafka_source=f"connection '{self.kafka_config_id}'")
        dry_run = _as_bool(self.dry_run)
        changes = apply_specs(
            PinotRestHook(self.pinot_controller_conn_id).get_client(),
            specs,
            existing_topics=existing_topics(kafka_config),
            dry_run=dry_run,
        )
        for change in changes:
            self.log.info("%s", change.line())
        return {
            "changes": [vars(c) for c in changes],
            "changed": sum(c.action != "unchanged" for c in changes),
            "dry_run": dry_run,
        }


class PinotNamedQueryOperator(BaseOperator):
    """Run one of the demo's named queries (``streamstack.pinot.queries``) through pinotdb.

    :param query_name: ``product-summary``, ``top-products`` or ``top-products-enriched``.
    :param limit: row cap of the per-product queries.
    :return: (XCom) the rows, as lists.
    """

    template_fields: Sequence[str] = ("query_name", "limit")

    def __init__(
        self,
        *,
        query_name: str,
        limit: int | str = 10,
        pinot_broker_conn_id: str = "pinot_broker_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.query_name = query_name
        self.limit = limit
        self.pinot_broker_conn_id = pinot_broker_conn_id

    def execute(self, context: Context) -> list[Any]:
        """Log the rows as a table (numbers rounded); return them as lists (XCom), floats rounded."""
        from streamstack.pinot.queries import QUERIES, named_sql
        from streamstack.tables import format_table, tidy

        sql = named_sql(self.query_name, int(self.limit))
        self.log.info("query %s (%s), limit %s:\n%s", self.query_name, QUERIES[self.query_name].title, self.limit, sql)
        rows = PinotRestHook(pinot_broker_conn_id=self.pinot_broker_conn_id).get_named_records(sql)
        self.log.info("%d row(s):\n%s", len(rows), "\n".join(format_table(rows)))
        return [[tidy(v) for v in row.values()] for row in rows]
