"""The Airflow layer of streamstack, in the style of Airflow's provider packages.

Each area has ``hooks``/``operators``/``sensors`` modules, thin over the domain modules.
Only this package (and ``dags/``) imports Airflow.
"""
