"""Kafka connection handling on top of the Apache Kafka provider."""

from __future__ import annotations

from typing import Any

from airflow.providers.apache.kafka.hooks.base import KafkaBaseHook


class KafkaConfigHook(KafkaBaseHook):
    """The librdkafka configuration of a ``kafka`` connection, as a dict.

    Domain code (topic reconciliation, the generator) builds its own confluent-kafka clients
    from a plain config so that the CLI and the tests can use it without Airflow. This hook
    gives it the same config the provider's own hooks would use, including the provider's
    callback resolution and cloud auth additions.

    :param kafka_config_id: the Airflow connection id, ``kafka_default`` by default.
    """

    def _get_client(self, config: dict[str, Any]) -> dict[str, Any]:
        # The provider's extension point (its own hooks override it the same way): the "client"
        # this hook makes is the config itself.
        return dict(config)

    def client_config(self) -> dict[str, Any]:
        """librdkafka settings, e.g. ``{"bootstrap.servers": "...", "security.protocol": ...}``."""
        return dict(self.get_conn)  # a cached property in the provider
