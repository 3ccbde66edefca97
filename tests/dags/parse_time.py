"""Print how long each DAG file named takes to parse once Airflow itself is imported, a line each.

Run in a fresh interpreter per DAG file, as the DAG processor does: the cost of the file's own
imports is counted, Airflow's import (paid once by the processor) is not. A reference DAG named
first is timed in the same interpreter (it imports nothing beyond ``airflow.sdk``, so it warms
nothing the file under test would use) and spares the test a second interpreter per round.
"""

import importlib.util
import sys
import time

import airflow.sdk  # noqa: F401  - baseline, paid once by the DAG processor

for n, path in enumerate(sys.argv[1:]):
    start = time.perf_counter()
    spec = importlib.util.spec_from_file_location(f"dag_under_test_{n}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    print(f"{time.perf_counter() - start:.4f}")
