"""Print how long one DAG file takes to parse once Airflow itself is imported.

Run in a fresh interpreter per file, as the DAG processor does: the cost of the file's own
imports is counted, Airflow's import (paid once by the processor) is not.
"""

import importlib.util
import sys
import time

import airflow.sdk  # noqa: F401  - baseline, paid once by the DAG processor

path = sys.argv[1]
start = time.perf_counter()
spec = importlib.util.spec_from_file_location("dag_under_test", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(f"{time.perf_counter() - start:.4f}")
