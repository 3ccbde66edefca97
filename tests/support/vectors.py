"""Shared test vectors: raw purchase values every validator must judge as the reference does.

The conformance kit's records (valid, legacy and malformed), edge cases of Python's JSON, ``repr``
and ``round`` (NaN, Infinity, ``1.0`` as an int, ``2**31``, booleans as numbers),
and values as bytes: the size limit's edge in bytes, not characters, malformed UTF-8, the payload
cut's edge. The Flink and Spark differential tests feed them to their engine's validation and
compare each reason with ``streamstack.contract.check_purchase``.
"""

from __future__ import annotations

import json
from typing import Any

from streamstack import contract as rules
from support import kit as ck


def purchase_cases(contract: dict[str, Any]) -> list[tuple[int, bytes | None]]:
    kit = ck.build(contract)
    template = json.loads(next(v for _, _, v in kit.purchases if v))
    """``(partition, value)`` of every case, in a fixed order (the offset is the index)."""
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
