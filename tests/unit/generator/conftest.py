"""Fixtures of the generator's unit tests: the project's settings and catalogue, no environment leaks."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamstack.generator import Catalogue, GeneratorConfig, load_catalogue, load_config

PROJECT_DIR = Path(__file__).resolve().parents[3]
CONFIG_FILE = PROJECT_DIR / "config" / "generator.yaml"
SAMPLE_NEW = PROJECT_DIR / "tests" / "data" / "sample_date_new.json"
SAMPLE_SMALL = PROJECT_DIR / "tests" / "data" / "sample_data_small.json"


@pytest.fixture(scope="session")
def config() -> GeneratorConfig:
    return load_config(CONFIG_FILE, environ={})


@pytest.fixture(scope="session")
def catalogue(config: GeneratorConfig) -> Catalogue:
    return load_catalogue(config.catalogue_file)


class RecordingSink:
    """A sink that keeps everything, in order, for assertions."""

    destination = "memory"

    def __init__(self) -> None:
        self.events: list[tuple[str, str | None, bytes | dict]] = []
        self.bytes_sent = 0
        self.closed = False

    def send_purchase(self, transaction_id: str, value: bytes) -> None:
        self.events.append(("purchases", transaction_id, value))
        self.bytes_sent += len(value)

    def send_record(self, kind: str, record: dict) -> None:
        self.events.append((kind, None, record))

    def close(self) -> None:
        self.closed = True

    def of(self, kind: str) -> list:
        return [value for k, _key, value in self.events if k == kind]


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture(scope="session")
def config_file() -> Path:
    return CONFIG_FILE


@pytest.fixture(scope="session")
def sample_new() -> Path:
    """307 purchase lines of 210 transactions, no line_number."""
    return SAMPLE_NEW


@pytest.fixture(scope="session")
def sample_small() -> Path:
    """290 purchase lines of the oldest schema: no transaction_id, no line_number."""
    return SAMPLE_SMALL
