"""The Airflow Assets of streamstack's topics, defined once so every DAG imports the same objects.

An Asset is named by its Kafka topic name from ``config/topics.yaml`` (``demo.purchases``), so
a DAG producing to the topic and one scheduled on it always agree. The name alone is the
identity, deliberately without the Kafka provider's ``kafka://server/topic`` URI: resolving a
URI scheme loads Airflow's providers manager at parse time (0.2-0.5 s measured in a fresh
interpreter), which would eat the DAG files' parse budget. The broker is kept in ``extra``.
"""

from __future__ import annotations

from airflow.sdk import Asset

from streamstack.settings import Settings
from streamstack.topics import topic_name


def kafka_asset(logical: str) -> Asset:
    """The Asset of a declared topic (logical name as in ``config/topics.yaml``)."""
    name = topic_name(logical)
    return Asset(name=name, extra={"kafka_bootstrap_servers": Settings.from_env().bootstrap_servers, "topic": name})


PURCHASES = kafka_asset("purchases")
PURCHASES_ENRICHED = kafka_asset("purchases_enriched")
#: Updated once Pinot's tables have caught up with their topics (DAG ``pinot_ingestion``);
#: the dashboards DAG is scheduled on it.
PINOT_TABLES = Asset(name="pinot_tables")
