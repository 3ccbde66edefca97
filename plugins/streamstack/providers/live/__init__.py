"""The live pipeline in Airflow: the supervisor's operator and the alert notifier."""
