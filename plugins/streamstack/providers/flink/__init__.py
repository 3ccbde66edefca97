"""Airflow operators and sensors for streamstack's Flink jobs, thin over ``streamstack.flink``."""
