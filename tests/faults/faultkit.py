"""Helpers of the fault tier: small generated runs, their expected content, polling, Pinot tables.

Expected records are rebuilt from the seed without Kafka (the generator's model is
deterministic given a seed and a virtual start time), so a lost, duplicated or invented record
fails a test. Everything polls with a deadline; nothing sleeps a fixed time.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from streamstack.clients import admin_client
from streamstack.contract import check_purchase, load_contract
from streamstack.generator import (
    PurchaseEncoder,
    RunSummary,
    build_model,
    load_catalogue,
    load_config,
    run_generator,
)
from streamstack.generator.kafka import KafkaSink
from streamstack.pinot import PinotClient
from streamstack.pinot.tables import TableSpec, apply_specs, load_specs
from streamstack.settings import Settings
from streamstack.topics import TopicAdmin, TopicSpecs, load_topics
from streamstack.topics.offsets import read_to_end

T = TypeVar("T")
START = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
CONFIG = load_config(environ={})
CATALOGUE = load_catalogue(CONFIG.catalogue_file)
CONTRACT = load_contract()
Line = tuple[str, int]


def wait_for(predicate: Callable[[], T], timeout: float, what: str, poll: float = 0.5) -> T:
    """Poll ``predicate`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(poll)


def make_topics(settings: Settings, suffix: str | None = None) -> TopicSpecs:
    """The declared topics, renamed with a unique suffix, created on the broker."""
    specs = load_topics(settings.topics_file).suffixed(suffix or f"f{uuid.uuid4().hex[:8]}")
    TopicAdmin(settings.kafka_client_config()).apply(specs)
    return specs


def delete_topics(settings: Settings, specs: TopicSpecs) -> None:
    admin = admin_client(settings.kafka_client_config())
    for future in admin.delete_topics([s.name for s in specs.topics], operation_timeout=30).values():
        try:
            future.result()
        except Exception as exc:  # clean-up after a test: a topic a reset deleted is gone already
            if "UNKNOWN_TOPIC" not in str(exc):
                raise


def make_tables(settings: Settings, pinot: PinotClient, topics: TopicSpecs, names: list[str]) -> dict[str, TableSpec]:
    """Pinot tables ``names`` of config/pinot over ``topics``, renamed with a unique suffix, applied."""
    suffix = uuid.uuid4().hex[:6]
    out = {}
    for spec in load_specs(settings.config_dir / "pinot", topics.names(), settings.bootstrap_servers, names):
        name = f"{spec.name}_{suffix}"
        table = {**spec.table, "tableName": name,
                 "segmentsConfig": {**spec.table["segmentsConfig"], "schemaName": name}}
        out[spec.name] = replace(spec, name=name, schema={**spec.schema, "schemaName": name}, table=table)
    apply_specs(pinot, out.values())
    return out


def generate(settings: Settings, topics: TopicSpecs, seed: int, transactions: int, **kwargs: Any) -> RunSummary:
    """A generator run with a virtual clock (reproducible event times) into ``topics``."""
    model = build_model(CONFIG, CATALOGUE, seed, start_time=START)
    sink = KafkaSink(settings.kafka_client_config(), topics, CONFIG.producer)
    return run_generator(model, sink, transactions=transactions, **kwargs)


def expected_purchases(seed: int, transactions: int) -> list[dict[str, Any]]:
    """The purchase lines a run of ``generate(seed, transactions)`` sends, rebuilt without Kafka."""
    model = build_model(CONFIG, CATALOGUE, seed, start_time=START)
    encoder = PurchaseEncoder(CONFIG, CATALOGUE)
    out = []
    for i in range(transactions):
        if i:
            model.clock.advance(model.draw_interval())
        out.extend(json.loads(line) for line in encoder.encode(model.next_transaction()))
    return out


def valid(purchases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines the event contract accepts (what reaches the enriched topic and the aggregates)."""
    return [p for p in purchases if check_purchase(json.dumps(p), CONTRACT)[1] is None]


def line(record: dict[str, Any]) -> Line:
    return record["transaction_id"], record["line_number"]


def topic_lines(settings: Settings, topic: str) -> list[Line]:
    """(transaction_id, line_number) of every record on ``topic``, repeats kept."""
    return [line(json.loads(r["value"])) for r in read_to_end(settings.kafka_client_config(), topic)]


def pinot_count(pinot: PinotClient, table: str) -> int:
    try:
        return pinot.count(table)
    except Exception:  # noqa: BLE001 - a restarting Pinot or a table not routed yet: keep polling
        return -1
