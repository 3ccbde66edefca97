"""Fixtures of the Spark integration tests: the connector jars and a per-test checkpoint dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamstack.settings import Settings
from streamstack.spark.jars import connector_jars


@pytest.fixture(scope="session")
def spark_jars(kafka: Settings) -> list[Path]:
    """The Kafka connector jars, resolved by the project (Maven, once, into the cache)."""
    return connector_jars(kafka)


@pytest.fixture
def checkpoint_dir(tmp_path: Path) -> Path:
    return tmp_path / "checkpoints"
