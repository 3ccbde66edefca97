"""Airflow layer for Pinot: thin hooks, operators and sensors over ``streamstack.pinot``."""
