"""Apache Flink (PyFlink) on a real session cluster: paths, REST client, job submission, savepoints.

Domain code only: no Airflow and no CLI import. ``streamstack.stack.flink`` runs the cluster of
the embedded stack; ``streamstack.providers.flink`` is the thin Airflow layer over this package.
"""
