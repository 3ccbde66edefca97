"""The e2e tier: the whole embedded stack (``platform`` of ``tests/support/services.py``) driven
through Airflow's REST API.

Like Airflow's own compose quick-start test: start, wait for health, trigger through REST,
poll, and on failure print task states and log tails.
"""

from __future__ import annotations

import pytest

#: Modules that write the shared output topics with another engine: after every Spark-run check.
LAST = ("test_engines.py",)
#: Modules that read what ``test_platform.py``'s week left in Pinot: right after it.
AFTER_PLATFORM = ("test_notebooks.py",)


def _in(item: pytest.Item, names: tuple[str, ...]) -> bool:
    return "tests/e2e/" in str(item.fspath) and item.fspath.basename in names


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
    items.sort(key=lambda item: _in(item, LAST))
    # The notebooks right after the platform's week; every other test keeps its place.
    moved = [item for item in items if _in(item, AFTER_PLATFORM)]
    rest = [item for item in items if not _in(item, AFTER_PLATFORM)]
    platform = [i for i, item in enumerate(rest) if _in(item, ("test_platform.py",))]
    if moved and platform:
        items[:] = rest[: platform[-1] + 1] + moved + rest[platform[-1] + 1 :]
