"""The stream engines in Airflow: one operator, one deferrable sensor and its trigger, the connections."""
