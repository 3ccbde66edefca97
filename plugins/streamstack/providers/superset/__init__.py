"""Airflow-facing layer for Superset: a hook over ``streamstack.superset`` and the publish operator."""
