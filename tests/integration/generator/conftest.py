"""Helpers of the generator's integration tests: read a topic back completely, check event schemas."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, TopicPartition

from streamstack.clients import consumer
from streamstack.events import Field, parse_timestamp
from streamstack.generator.catalogue import Catalogue, load_catalogue
from streamstack.generator.config import GeneratorConfig, load_config
from streamstack.topics.offsets import end_offsets

PYTHON_TYPES = {"string": str, "int": int, "long": int, "double": (float, int), "boolean": bool, "timestamp": str}


def _check_schema(record: dict[str, Any], fields: tuple[Field, ...]) -> None:
    """Assert a record has exactly the schema's fields, in order, with the right types."""
    assert list(record) == [f.name for f in fields], record
    for f in fields:
        value = record[f.name]
        if value is None:
            assert f.nullable, f"{f.name} is null"
            continue
        if f.type in ("int", "long", "double"):
            assert not isinstance(value, bool), f"{f.name}={value!r}"
        assert isinstance(value, PYTHON_TYPES[f.type]), f"{f.name}={value!r} is not {f.type}"
        if f.type == "timestamp":
            parse_timestamp(value)


@pytest.fixture
def check_schema() -> Callable[[dict[str, Any], tuple[Field, ...]], None]:
    """Assert a record has exactly the schema's fields, in order, with the right types."""
    return _check_schema


@pytest.fixture
def read_topic(kafka_config: dict[str, str]) -> Callable[..., list[tuple[str | None, bytes]]]:
    """Everything on a topic as (key, value): every partition from the start up to its high watermark."""

    def read(topic: str, *, timeout: float = 120.0) -> list[tuple[str | None, bytes]]:
        c = consumer({**kafka_config, "group.id": f"gen-test-{uuid.uuid4().hex}", "enable.auto.commit": False})
        try:
            ends = end_offsets(kafka_config, topic)
            partitions = sorted(ends)
            c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
            out: list[tuple[str | None, bytes]] = []
            pending = {p for p, end in ends.items() if end > 0}
            deadline = time.monotonic() + timeout
            while pending and time.monotonic() < deadline:
                for msg in c.consume(num_messages=10_000, timeout=0.5):
                    if msg.error():
                        raise AssertionError(f"consume error on {topic}: {msg.error()}")
                    out.append((msg.key().decode() if msg.key() is not None else None, msg.value()))
                    if msg.offset() + 1 >= ends[msg.partition()]:
                        pending.discard(msg.partition())
            assert not pending, f"{topic}: partitions {pending} not read to their end within {timeout}s"
            return out
        finally:
            c.close()

    return read


@pytest.fixture(scope="session")
def config() -> GeneratorConfig:
    """The project's generator settings, not the environment's."""
    return load_config(environ={})


@pytest.fixture(scope="session")
def catalogue(config: GeneratorConfig) -> Catalogue:
    return load_catalogue(config.catalogue_file)

