"""The Airflow layer of streamstack, in the style of Airflow's provider packages.

Each area has ``hooks``/``operators``/``sensors`` modules, thin over the domain modules.
Only this package (and ``dags/``) imports Airflow.
"""


def get_provider_info() -> dict:
    """What Airflow's providers manager reads (entry point ``apache_airflow_provider``): the
    connection types of the engines, so the UI offers their forms and the Test button works."""
    from streamstack.providers.engines.forms import connection_types

    return {
        "package-name": "streamstack",
        "name": "streamstack",
        "description": "Stream engines (Spark, Flink, Kafka Streams), Kafka topics, Pinot and Superset of streamstack.",
        "connection-types": connection_types(),
    }
