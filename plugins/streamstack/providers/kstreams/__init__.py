"""Airflow operators for the Kafka Streams apps of ``jobs/kstreams``."""
