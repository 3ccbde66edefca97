"""Apache Superset: dashboards as code (a v1 import bundle built from ``config/superset/``) and a REST client.

Domain code only: no Airflow, no CLI. ``bundle`` builds the bundle, ``client`` talks to Superset.
"""
