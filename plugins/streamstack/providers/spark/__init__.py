"""Airflow operators for streamstack's Spark jobs: available-now submits and continuous-mode control."""
