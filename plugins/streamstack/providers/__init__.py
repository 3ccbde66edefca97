"""The Airflow layer of streamstack, in the style of Airflow's provider packages.

Each area has ``hooks``/``operators``/``sensors`` modules, thin over the domain modules.
Only this package (and ``dags/``) imports Airflow.
"""


def get_provider_info() -> dict:
    """What Airflow's providers manager reads (entry point ``apache_airflow_provider``): the
    connection types of the engines, so the UI offers their forms and the Test button works."""
    return {
        "package-name": "streamstack",
        "name": "streamstack",
        "description": "Stream engines (Spark, Flink, Kafka Streams), Kafka topics, Pinot and Superset of streamstack.",
        "connection-types": [
            {"connection-type": "flink", "hook-class-name": "streamstack.providers.engines.hooks.FlinkRestHook",
             "hook-name": "Apache Flink (REST API)"},
            {"connection-type": "kstreams", "hook-class-name": "streamstack.providers.engines.hooks.KStreamsHook",
             "hook-name": "Kafka Streams apps"},
        ],
    }
