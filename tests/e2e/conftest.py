"""The e2e tier: the whole embedded stack (``platform`` of ``tests/support/services.py``) driven
through Airflow's REST API.

Like Airflow's own compose quick-start test: start, wait for health, trigger through REST,
poll, and on failure print task states and log tails.
"""

from __future__ import annotations

import pytest

#: Modules that write the shared output topics with another engine: after every Spark-run check.
LAST = ("test_engines.py",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
    items.sort(key=lambda item: "tests/e2e/" in str(item.fspath) and item.fspath.basename in LAST)
