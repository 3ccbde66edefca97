"""Wait until Pinot has consumed everything in each table's topic, and record freshness."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseSensorOperator, Context

from streamstack.providers.pinot.hooks import PinotRestHook


class PinotIngestionSensor(BaseSensorOperator):
    """Done when every table's consuming segments have reached its topic's end offsets.

    Lag is counted in Kafka offsets (rows cannot be compared for dedup/upsert tables). Each poke
    logs rows, lag and freshness per table. A partition with data but no consuming segment (a
    failed segment commit) is reported by name. Returns, via XCom, each table's state including
    ``freshness_s`` (now minus the newest event time), for the freshness record.

    :param tables: table names (default: all of ``config/pinot``).
    :param kafka_config_id: Kafka connection to read the topics' end offsets.
    """

    template_fields: Sequence[str] = ("tables",)

    def __init__(
        self,
        *,
        tables: Sequence[str] | None = None,
        kafka_config_id: str = "kafka_default",
        pinot_controller_conn_id: str = PinotRestHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poke_interval", 5)
        kwargs.setdefault("timeout", 600)
        # Between pokes the sensor gives its worker slot back (ingestion can take minutes).
        kwargs.setdefault("mode", "reschedule")
        super().__init__(**kwargs)
        self.tables = tables
        self.kafka_config_id = kafka_config_id
        self.pinot_controller_conn_id = pinot_controller_conn_id

    def poke(self, context: Context) -> Any:
        from airflow.sdk import PokeReturnValue

        from streamstack.pinot.ingestion import measure
        from streamstack.pinot.tables import TABLES, local_specs
        from streamstack.providers.kafka.hooks import KafkaConfigHook

        kafka_config = KafkaConfigHook(kafka_config_id=self.kafka_config_id).client_config()
        client = PinotRestHook(self.pinot_controller_conn_id).get_client()
        states = [
            measure(client, spec, kafka_config)
            for spec in local_specs(
                None, self.tables or TABLES, bootstrap_servers=kafka_config["bootstrap.servers"]
            )
        ]
        for state in states:
            self.log.info("%s", state.summary())
        done = all(s.caught_up for s in states)
        return PokeReturnValue(
            is_done=done, xcom_value={s.table: s.to_dict() for s in states} if done else None
        )
