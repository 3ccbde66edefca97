"""Airflow hooks and operators for Kafka topics."""
