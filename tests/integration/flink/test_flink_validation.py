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
import sys
from pathlib import Path
from typing import Any

import pytest

from streamstack import contract as rules
from streamstack import events
from streamstack.flink.config import FlinkConfig

sys.path.insert(0, str(Path(__file__).parents[2] / "conformance"))
import kit as ck

pytestmark = pytest.mark.integration
DRIVER = Path(__file__).with_name("validation_driver.py")


def _cases(contract: dict[str, Any]) -> list[tuple[int, bytes | None]]:
    kit = ck.build(contract)
    template = json.loads(next(v for _, _, v in kit.purchases if v))
    out: list[tuple[int, bytes | None]] = [(p, v) for p, _, v in kit.purchases]

    def v(ensure_ascii: bool = True, **changes: Any) -> Any:
        rec = {**template, **changes}
        text = json.dumps({k: x for k, x in rec.items() if x is not ck.DROP}, ensure_ascii=ensure_ascii)
        return text if ensure_ascii else text.encode()

    lo, hi = rules.quantity_range(contract)
    edge = [
        v(price=-1e-05), v(price=-0.0001), v(price=-12345678.5), v(price=-1.5e16), v(price=0),
        v(price=-3), v(price=1e999), v(quantity=True), v(quantity=[1]), v(quantity={"a": 1}),
        v(quantity=2**31), v(quantity=-(2**31) - 1), v(line_number=-5), v(quantity=hi + 7),
        v(transaction_id="it's"), v(transaction_id='say "hi"'), v(transaction_id="both ' \""),
        v(transaction_id="back\\slash\nnew"), v(transaction_id="caf\u00e9"), v(transaction_id=12),
        v(transaction_id="123\n"), v(product_id="O'Brien"), v(product_id="x\ty"), v(product_id=7),
        v(transaction_time="2024-02-30 10:00:00.000000"), v(transaction_time="2024-02-29 24:00:00.000000"),
        v(transaction_time="2024-02-29 10:00:60.000000"), v(transaction_time="0000-01-01 00:00:00.000000"),
        v(transaction_time="2024-02-29T10:00:00.000000"), v(transaction_time=" 2024-02-29 10:00:00.00000"),
        v(is_member="true"), v(is_member=1), v(add_supplements=None), v(member_discount="0.1"),
        v(member_discount=0.33), v(is_member=True, member_discount=0), v(supplement_price=1e-07),
        v(total_purchase=1e20), v(total_purchase=-0.5), v(total_purchase=123456789.125),
        v(price=1.125, quantity=1, supplement_price=0.0, add_supplements=False, member_discount=0.0,
          is_member=False, total_purchase=9.0),
        v(price=2.675, quantity=1, supplement_price=0.0, add_supplements=False, member_discount=0.0,
          is_member=False, total_purchase=9.0),
        v(price=4.95, quantity=1, supplement_price=0.0, add_supplements=False, member_discount=0.1,
          is_member=False, total_purchase=1.0),
        v(extra={"nested": [1, 2]}), v(price=None), v(transaction_id=ck.DROP),
        v(transaction_id=ck.DROP, line_number=ck.DROP), v(line_number=ck.DROP), v(line_number=1.0),
        v(price="NaN"), "", "null", "1", "[]", "{}", '{"price": 1', "{'a': 1}",
    ]
    nan = json.dumps(template).replace(f'"price": {json.dumps(template["price"])}', '"price": NaN')
    inf = json.dumps(template).replace(f'"product_id": "{template["product_id"]}"', '"product_id": -Infinity')
    out += [(0, e.encode()) for e in [*edge, nan, inf]]
    out += [(17, v(line_number=ck.DROP).encode())]  # a partition beyond the legacy rule's limit
    out += [(0, b) for b in _byte_cases(contract, v)]
    return out


def _byte_cases(contract: dict[str, Any], v: Any) -> list[bytes]:
    """Values whose bytes matter: the size limit counts bytes, text must be strict UTF-8, the cut code points."""
    max_bytes, max_chars = int(contract["records"]["max_bytes"]), int(contract["dead_letters"]["payload_max_chars"])
    pad = max_bytes - len(v(note="").encode())
    exact = v(note="n" * pad).encode()
    assert len(exact) == max_bytes
    return [
        exact, v(note="n" * (pad + 1)).encode(),  # the limit itself (valid), one byte over
        v(note="\u00e9" * (pad // 2 + 1), ensure_ascii=False),  # under the limit in characters, over in bytes
        v(quantity="2", note="\U0001f600" * (max_chars + 3), ensure_ascii=False),  # cut between code points
        v(quantity="2", note="n" * (max_chars - len(v(quantity="2", note="")))).encode(),  # exactly the cut
        b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\xe2\x82",  # surrogate, overlong, > U+10FFFF, cut short
        b'{"a": "\xff"}', "\ufeff".encode() + v().encode(), b"\x00", b" ", b"\xff" * (max_bytes + 1),
    ]


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[dict, tuple]]:
    cfg = FlinkConfig.from_env()
    if not cfg.python.exists():
        pytest.fail(f"{cfg.python} missing: run `make flink-venv`")
    contract = rules.load_contract()
    work = tmp_path_factory.mktemp("flink-validation")
    cases = _cases(contract)
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
