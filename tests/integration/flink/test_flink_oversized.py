"""A continuous Flink enrichment survives the records that once crash-looped it, and goes on enriching.

One 600,000-byte value of ``"`` escaped to 1.2 MB in its dead letter, over the producer's limit:
the job failed at every restart (17 restarts in two minutes). The contract now dead-letters a
value over ``records.max_bytes`` unparsed (``too_large``) and bounds every dead letter's payload
(``dead_letters.payload_max_chars``); binary and empty values are ``not_json``. Here those
records, on both input topics, must each give one bounded dead letter equal to the reference's
(``contract.dead_letter_payload``), with no restart, and a valid purchase sent after them must
still be enriched.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from support import flink_testkit as tk

from streamstack import contract as rules
from streamstack import events
from streamstack.clients import producer
from streamstack.flink.config import FlinkConfig
from streamstack.flink.jobs import submission
from streamstack.flink.rest import FlinkRest
from streamstack.settings import Settings

pytestmark = pytest.mark.integration

#: The record that stopped the job: 600,000 quotes.
QUOTES = b'"' * 600_000
BINARY = b"\xff\xfe\x00binary\x80\xc3"
#: A dead letter, JSON-encoded, stays far below the producer's 1 MB (4096 chars, 6 bytes at most each).
BOUND = 64 * 1024


def _produce_raw(config: dict[str, Any], topic: str, records: list[tuple[str | None, bytes]], partition: int) -> None:
    p = producer({**config, "enable.idempotence": True, "acks": "all"})
    for key, value in records:
        p.produce(topic, key=key, value=value, partition=partition)
        p.poll(0)
    assert p.flush(30) == 0, f"records to {topic} not delivered"


def _restarts(rest: FlinkRest, jid: str) -> int:
    """The job's ``numRestarts`` metric (0 for a job that never failed)."""
    metrics = rest._call("GET", f"/jobs/{jid}/metrics?get=numRestarts")
    return int(float(metrics[0]["value"])) if metrics else 0


def test_oversized_binary_and_empty_records_are_dead_lettered_bounded_without_restart(
    kafka: Settings, flink: FlinkConfig, flink_rest: FlinkRest, contract_file: Path, fresh_topics: dict[str, str]
) -> None:
    config = kafka.kafka_client_config()
    contract = rules.load_contract()
    base = tk.base_time()
    product = tk.catalogue().products[0]
    version = product.event(events.format_timestamp(base - timedelta(minutes=10)))
    tk.produce(config, fresh_topics["products"], [version], key="product_id")
    pid = product.product_id
    _produce_raw(config, fresh_topics["products"], [(pid, QUOTES), (pid, BINARY), (pid, b"")], partition=0)

    name = f"streamstack.purchases_enrichment.{fresh_topics['purchases'].rsplit('.', 1)[-1]}"
    jid = submission("purchases_enrichment", flink, contract_file, fresh_topics, mode="continuous", name=name).run()
    try:
        flink_rest.wait_state(jid, {"RUNNING"}, timeout=300)
        bad = [QUOTES, BINARY, b""]
        _produce_raw(config, fresh_topics["purchases"], [("bad", value) for value in bad], partition=0)
        valid = tk.purchase(base + timedelta(minutes=1), 910_001, pid, version["price"])
        # A later purchase on every partition moves the watermark past the valid one (no idle wait).
        later = [tk.purchase(base + timedelta(minutes=5), 910_002 + i, pid, version["price"]) for i in range(3)]
        tk.produce(config, fresh_topics["purchases"], [valid, *later], key="transaction_id",
                   partition_of=lambda i: 0 if i == 0 else i - 1)

        def done() -> list[dict[str, Any]] | None:
            restarts = _restarts(flink_rest, jid)
            assert restarts == 0, f"the job restarted {restarts}x: {flink_rest.root_cause(jid)}"
            enriched = tk.values(config, fresh_topics["purchases_enriched"])
            letters = tk.read_topic(config, fresh_topics["purchases_invalid"])
            ok = any(r["transaction_id"] == valid["transaction_id"] for r in enriched) and len(letters) >= 6
            return letters if ok else None

        letters = tk.poll_until(done, 240, "the valid purchase enriched and six dead letters")
        assert flink_rest.job(jid)["state"] == "RUNNING"
        assert _restarts(flink_rest, jid) == 0
    finally:
        flink_rest._call("PATCH", f"/jobs/{jid}?mode=cancel")

    assert all(len(r["value"]) < BOUND for r in letters), [len(r["value"]) for r in letters]
    got = {(d["source_topic"], d["source_offset"]): d for d in (json.loads(r["value"]) for r in letters)}
    assert len(got) == len(letters) == 6, sorted(got)
    expected = {}
    for topic, first, check in ((fresh_topics["products"], 1, "product"), (fresh_topics["purchases"], 0, "purchase")):
        for n, value in enumerate(bad):
            reason = (rules.check_product(value, contract, pid)[1] if check == "product"
                      else rules.check_purchase(value, contract, 0, n)[1])
            expected[(topic, first + n)] = (reason, rules.dead_letter_payload(value, contract))
    assert sorted(got) == sorted(expected)
    for where, (reason, payload) in expected.items():
        letter = got[where]
        assert letter["reason"] == reason, where
        assert {k: letter.get(k) for k in payload} == payload, (where, {k: str(letter.get(k))[:80] for k in payload})
    assert got[(fresh_topics["purchases"], 0)]["payload_truncated"] is True
    assert got[(fresh_topics["purchases"], 1)]["payload_encoding"] == "base64"


def test_aggregating_jobs_skip_the_same_records_without_restart(
    kafka: Settings, flink: FlinkConfig, flink_rest: FlinkRest, contract_file: Path, fresh_topics: dict[str, str]
) -> None:
    """running_totals and sales_windows, continuous, count only the valid purchases around them."""
    config = kafka.kafka_client_config()
    base = tk.base_time()
    product = tk.catalogue().products[0]
    suffix = fresh_topics["purchases"].rsplit(".", 1)[-1]
    jids = [submission(job, flink, contract_file, fresh_topics, mode="continuous", name=f"streamstack.{job}.{suffix}")
            .run() for job in ("running_totals", "sales_windows")]
    try:
        for jid in jids:
            flink_rest.wait_state(jid, {"RUNNING"}, timeout=300)
        _produce_raw(config, fresh_topics["purchases"], [("bad", v) for v in (QUOTES, BINARY, b"")], partition=0)
        valid = [tk.purchase(base + timedelta(minutes=m), 920_000 + m, product.product_id, product.price, quantity=2)
                 for m in (1, 2, 7)]
        tk.produce(config, fresh_topics["purchases"], valid, key="transaction_id", partition_of=lambda i: i % 3)
        sales = round(sum(p["total_purchase"] for p in valid), 2)

        def counted() -> bool:
            for jid in jids:
                assert _restarts(flink_rest, jid) == 0, f"{jid} restarted: {flink_rest.root_cause(jid)}"
            total = tk.latest_by(config, fresh_topics["running_totals"], "product_id").get(product.product_id)
            windows: dict[str, dict[str, Any]] = {}
            for r in sorted(tk.read_topic(config, fresh_topics["sales_windows"]), key=lambda r: r["offset"]):
                value = json.loads(r["value"])
                windows[value["window_start"]] = value
            # Each purchase falls in two 10-minute windows sliding by 5 minutes.
            return (total is not None and (total["transactions"], total["quantities"], total["sales"]) == (3, 6, sales)
                    and sum(w["transactions"] for w in windows.values()) == 6)

        tk.poll_until(counted, 240, "totals and windows of the three valid purchases")
        assert all(flink_rest.job(jid)["state"] == "RUNNING" for jid in jids)
    finally:
        for jid in jids:
            flink_rest._call("PATCH", f"/jobs/{jid}?mode=cancel")
