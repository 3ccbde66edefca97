"""Airflow layer of the sales generator: ``generate_sales`` for ``@task`` and ``SalesGeneratorOperator``."""
