"""streamstack: an Airflow-orchestrated streaming analytics platform (Kafka, Spark, Pinot, GX).

Domain modules (events, topics, generator, pinot, quality) import neither Airflow nor the CLI;
``streamstack.providers`` is the thin Airflow layer over them; ``streamstack.stack`` runs the
embedded local services for the CLI and the tests.
"""

__version__ = "0.1.0"
