"""The Airflow Assets of streamstack's topics, defined once so every DAG imports the same objects.

An Asset is named by its *logical* topic (``streamstack.topics.purchases``), not by the Kafka
topic name ``config/topics.yaml`` gives it: a DAG file is parsed every 30 s, and reading that file
then would let one typo in it break every DAG that imports an Asset (it broke 6 of 9). The Kafka
name is resolved where it is used, when a task runs. The name alone is the identity, deliberately
without the Kafka provider's ``kafka://server/topic`` URI: resolving a URI scheme loads Airflow's
providers manager at parse time (0.2-0.5 s measured in a fresh interpreter).
"""

from __future__ import annotations

from airflow.sdk import Asset


def kafka_asset(logical: str) -> Asset:
    """The Asset of a declared topic (logical name as in ``config/topics.yaml``)."""
    return Asset(name=f"streamstack.topics.{logical}", group="kafka_topic",
                 extra={"logical_topic": logical, "declared_in": "config/topics.yaml"})


PURCHASES = kafka_asset("purchases")
PURCHASES_ENRICHED = kafka_asset("purchases_enriched")
#: Updated once Pinot's tables have caught up with their topics (DAG ``pinot_ingestion``);
#: the dashboards DAG is scheduled on it.
PINOT_TABLES = Asset(name="pinot_tables")
