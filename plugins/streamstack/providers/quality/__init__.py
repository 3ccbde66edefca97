"""Airflow glue for the data quality gate (``streamstack.quality``)."""
