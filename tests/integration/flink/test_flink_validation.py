"""The generated Flink SQL validation gives exactly the reference validator's reasons, record by record.

Runs ``validation_driver.py`` in the PyFlink venv: the ``checked`` view over the cases on a local
Flink runtime (one JVM, no cluster, no broker: about 20 s here), then compares every row with
``streamstack.contract.check_purchase`` — the full reason string (code and detail), the derived
identity and the typed fields of valid records — and the five payload fields of its dead letter
with ``streamstack.contract.dead_letter_payload``. The cases are the conformance kit's records
(valid, legacy and malformed), edge cases of Python's JSON, ``repr`` and ``round``, and values as
bytes: the size limit's edge in bytes, not characters, malformed UTF-8, the payload cut's edge.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest
from support.vectors import purchase_cases

from streamstack import contract as rules
from streamstack import events
from streamstack.flink.config import FlinkConfig

pytestmark = pytest.mark.integration
DRIVER = Path(__file__).with_name("validation_driver.py")


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[dict, tuple]]:
    cfg = FlinkConfig.from_env()
    if not cfg.python.exists():
        pytest.fail(f"{cfg.python} missing: run `make flink-venv`")
    contract = rules.load_contract()
    work = tmp_path_factory.mktemp("flink-validation")
    cases = purchase_cases(contract)
    (work / "contract.json").write_text(json.dumps(contract))
    with open(work / "cases.jsonl", "w") as f:
        for offset, (partition, payload) in enumerate(cases):
            value = None if payload is None else base64.b64encode(payload).decode()
            f.write(json.dumps({"partition": partition, "offset": offset, "value": value}) + "\n")
    env = {**cfg.process_env()}
    env.pop("FLINK_CONF_DIR")  # the wheel's defaults: a local runtime, not the session cluster's config
    proc = subprocess.run([str(cfg.python), str(DRIVER), str(work / "contract.json"), str(work / "cases.jsonl"),
                           str(work / "out.jsonl")], env={**__import__("os").environ, **env}, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    rows = {r["source_offset"]: r for r in map(json.loads, (work / "out.jsonl").read_text().splitlines())}
    assert len(rows) == len(cases)
    return [(rows[offset], (partition, payload, rules.check_purchase(payload, contract, partition, offset),
                            rules.dead_letter_payload(payload, contract)))
            for offset, (partition, payload) in enumerate(cases)]


def test_every_reason_is_the_reference_validators(compared: list) -> None:
    wrong = [(payload, row["reason"], ref[1]) for row, (_p, payload, ref, _dl) in compared if row["reason"] != ref[1]]
    assert not wrong, "\n".join(f"{p[:200]!r}\n   flink: {g!r}\n   ref:   {e!r}" for p, g, e in wrong[:15])
    assert sum(1 for row, _ in compared if row["reason"]) >= 60


def test_valid_records_carry_the_typed_fields_and_derived_identity(compared: list) -> None:
    valid = 0
    for row, (_p, payload, (record, reason, derived), _dl) in compared:
        if reason is not None:
            continue
        valid += 1
        assert row["identity_derived"] == derived, payload
        for name in ("transaction_time", "transaction_id", "line_number", "product_id", "quantity", "is_member",
                     "add_supplements"):
            assert row[name] == record[name], (name, payload)
        for name in ("price", "member_discount", "supplement_price", "total_purchase"):
            assert row[name] == pytest.approx(float(record[name]), abs=1e-12), (name, payload)
        moment = events.parse_timestamp(record["transaction_time"])
        assert row["transaction_ms"] == int(moment.timestamp()) * 1000 + moment.microsecond // 1000
    assert valid > 300


def test_dead_letter_payloads_are_the_references(compared: list) -> None:
    """Text or base64, cut by code points, with the original's size and SHA-256: for every case, valid or not."""
    wrong = [(payload, name, row[name], want) for row, (_p, payload, _ref, letter) in compared
             for name, want in letter.items() if row[name] != want or type(row[name]) is not type(want)]
    assert not wrong, "\n".join(f"{str(p)[:120]}: {n} {str(g)[:80]!r} != {str(w)[:80]!r}" for p, n, g, w in wrong[:15])
    assert {letter["payload_encoding"] for *_, letter in (c[1] for c in compared)} == {"utf-8", "base64", None}
    assert any(letter["payload_truncated"] for *_, letter in (c[1] for c in compared))
