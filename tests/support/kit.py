"""The conformance kit: one input, and what every engine must make of it, computed in plain Python.

An engine (Spark, Flink, Kafka Streams) conforms when, run over :func:`build`'s input on fresh
topics of a real broker, its output topics match the expectation field by field:

- ``enriched``: every valid purchase joined with exactly one product version, the one valid at its
  ``transaction_time`` (several versions with price and COGS changes, a re-published catalogue and
  a product whose first version comes late are in the input);
- ``dead_letters``: every rejected record by its source coordinates, with the contract's reason
  code (and the field, for field-level codes); malformed records of the *products* topic
  (``product_dead_letters``) are dead letters too, on the same topic, and never product versions;
- ``running_totals`` (latest record per product_id) and ``windows`` (latest per window_start and
  product_id: the contract's windows, 10 minutes sliding 5). A line the windows job
  dead-letters ``late`` is in none of its windows; the late lines are the contract's
  (``contract.late_for_windows``: the history lines, hours behind their partition).

A few transactions are published twice, byte for byte, minutes apart (``repeated``): what a
same-seed rerun of the generator after a failed run sends. Totals and windows count each line
once; the enriched topic may hold such a line twice (Pinot's dedup drops the copy), never
differently.

A price correction is published after every purchase, covering some already on the topic: those
lines are enriched with it, or with the version in force before it (``alternatives``, the
contract's one other outcome for a version that arrives after the purchases it covers).

The expectation is derived from the input here, independently of every engine. The rules come
from the resolved contract (``streamstack.contract``), so a generator setting such as another
member discount changes the input and the expectation alike. Purchases are published in
event-time order, partition by partition, so no record but the history lines is late for a
10-minute watermark.
"""

from __future__ import annotations

import calendar
import json
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from streamstack import contract as rules
from streamstack import events
from streamstack.clients import producer
from streamstack.generator.catalogue import load_catalogue
from streamstack.topics import TopicSpec, TopicSpecs
from streamstack.topics.offsets import end_offsets, read_to_end

PARTITIONS = 3
FIELD_CODES = {"missing_field", "mistyped_field", "product_missing_field", "product_mistyped_field"}
DROP = object()


@dataclass
class Kit:
    """The input (in publish order) and the expected outputs."""

    contract: dict[str, Any]
    base: datetime
    #: ``(key, value)`` for the products topic (one partition), in order.
    products: list[tuple[str | None, bytes | None]] = field(default_factory=list)
    #: ``(key, value)`` published to the products topic after all purchases: a correction that
    #: covers purchases already on the topic.
    products_after: list[tuple[str | None, bytes | None]] = field(default_factory=list)
    #: ``(partition, key, value)`` for the purchases topic, in order.
    purchases: list[tuple[int, str | None, bytes | None]] = field(default_factory=list)
    enriched: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    #: The other row the contract allows for a line the correction covers: joined with the version
    #: in force before it (an engine that enriched the line before it read the correction).
    alternatives: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    #: (source_partition, source_offset) -> (reason code, field or None, the five payload fields of
    #: ``contract.dead_letter_payload``: payload, encoding, truncated, bytes, sha256)
    dead_letters: dict[tuple[int, int], tuple[str, str | None, dict[str, Any]]] = field(default_factory=dict)
    #: The same for malformed records of the products topic (its partition and offset).
    product_dead_letters: dict[tuple[int, int], tuple[str, str | None, dict[str, Any]]] = field(default_factory=dict)
    running_totals: dict[str, dict[str, Any]] = field(default_factory=dict)
    windows: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    #: Every valid line once (its first copy), with ``_partition``/``_offset``: the windows' input.
    lines: list[dict[str, Any]] = field(default_factory=list)
    #: (transaction_id, line_number) of the lines published twice.
    repeated: set[tuple[str, int]] = field(default_factory=set)
    #: (partition, offset) of the lines late for the windows (``contract.late_for_windows``).
    late: set[tuple[int, int]] = field(default_factory=set)


# ------------------------------------------------------------------------------------- input
def _ts(moment: datetime) -> str:
    return events.format_timestamp(moment)


def _money(value: float) -> float:
    return float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _catalogue_versions(base: datetime, contract: dict[str, Any]) -> list[dict[str, Any]]:
    """Product versions in publish order: v1, a price and a COGS change, a late product, a re-publish.

    Their times have microseconds, as the generator's do (whole seconds hid a check that kept
    milliseconds only and refused every real product).
    """
    from streamstack.generator.config import load_config

    catalogue = load_catalogue(load_config().catalogue_file)
    late_product = catalogue.products[-1].product_id  # first published 90 minutes into the day
    first = [p.event(_ts(base - timedelta(minutes=30) + timedelta(microseconds=105_730))) for p in catalogue.products if p.product_id != late_product]
    price_changed, cogs_changed = catalogue.products[0].product_id, catalogue.products[14].product_id
    changes = []
    for p in catalogue.products:
        if p.product_id == price_changed:
            changes.append({**p.event(_ts(base + timedelta(minutes=60, microseconds=250_123))),
                            "price": _money(p.price + 0.50)})
        elif p.product_id == cogs_changed:
            changes.append({**p.event(_ts(base + timedelta(minutes=60, microseconds=999_999))),
                            "cogs": _money(p.cogs + 0.20)})
    late = [p.event(_ts(base + timedelta(minutes=90, microseconds=1))) for p in catalogue.products if p.product_id == late_product]
    current = {v["product_id"]: v for v in first + changes + late}
    republished = [{**v, "event_time": _ts(base + timedelta(minutes=120, microseconds=654_321))} for v in current.values()]
    # A product on the topic but not in the contract's catalogue: its purchases stay unknown.
    stranger = {**first[0], "product_id": "ZZ01", "item": "Not on the menu"}
    assert stranger["product_id"] not in rules.product_ids(contract)
    return [*first, stranger, *changes, *late, *republished]


def _malformed_products(base: datetime, versions: list[dict[str, Any]], contract: dict[str, Any]
                        ) -> list[tuple[str, str | None, Any]]:
    """(code, key, payload) of every kind of bad product record; payload bytes, None or a dict.

    Each JSON one is otherwise a plausible version with a price no valid version has, 75-80
    minutes into the day (between a price change and the re-publish): an engine that took one
    for a version would price that product's purchases at 99.99.
    """
    first, second, third = versions[0], versions[1], versions[2]
    at = _ts(base + timedelta(minutes=75))

    def v(template: dict[str, Any], **changes: Any) -> dict[str, Any]:
        rec = {**template, "event_time": at, "price": 99.99, **changes}
        return {k: x for k, x in rec.items() if x is not DROP}

    pid = first["product_id"]
    return [
        ("product_not_json", pid, b"not a product"),
        ("product_not_json", pid, None),
        ("product_not_json", None, json.dumps([pid, 5.99]).encode()),
        ("product_missing_field", pid, v(first, event_time=DROP)),
        ("product_missing_field", second["product_id"], v(second, product_id=DROP)),
        ("product_missing_field", pid, v(first, price=None)),
        ("product_mistyped_field", pid, v(first, price="9.99")),
        ("product_mistyped_field", pid, v(first, event_time="yesterday")),
        ("product_mistyped_field", pid, v(first, event_time=at[:-1])),
        ("product_mistyped_field", pid, v(first, inventory_level=2.5)),
        ("product_mistyped_field", pid, v(first, contains_nuts="no")),
        ("product_mistyped_field", pid, v(first, item=42)),
        ("product_mistyped_field", pid, v(first, propensity_to_buy=10**12)),
        ("product_key_mismatch", third["product_id"], v(second, event_time=_ts(base + timedelta(minutes=80)))),
        ("product_key_mismatch", None, v(first)),
        # Bytes no engine may parse or pass on whole: over the size limit, not UTF-8, empty.
        ("product_too_large", pid, v(first, item="x" * int(contract["records"]["max_bytes"]))),
        ("product_not_json", pid, b"\xff\xfe\x00binary\x80"),
        ("product_not_json", pid, b""),
    ]


def _version_at(versions: list[dict[str, Any]], product_id: str, moment: str) -> dict[str, Any] | None:
    valid = [v for v in versions if v["product_id"] == product_id and v["event_time"] <= moment]
    return max(valid, key=lambda v: v["event_time"]) if valid else None


def _valid_transactions(
    rnd: random.Random, base: datetime, contract: dict[str, Any], versions: list[dict[str, Any]]
) -> list[list[dict[str, Any]]]:
    """Valid transactions over three hours, in time order, priced by the version then in force."""
    ids = rules.product_ids(contract)
    lo, hi = rules.quantity_range(contract)
    discounts, supplements = rules.allowed_values(contract, "member_discount"), rules.allowed_values(
        contract, "supplement_price"
    )
    out = []
    moment = base
    for n in range(240):
        moment += timedelta(seconds=rnd.randint(10, 80), microseconds=rnd.randint(0, 999_999))
        tid = str(5_000_000_000 + n * 7919)
        member = rnd.random() < 0.3
        lines = []
        for line in range(1, rnd.choice((1, 1, 1, 2, 2, 3)) + 1):
            product = rnd.choice(ids)
            version = _version_at(versions, product, _ts(moment))
            price = version["price"] if version else 5.49  # no version yet: the shop's price all the same
            quantity = rnd.randint(lo, hi)
            supplement = rnd.random() < 0.3
            discount = discounts[member][-1]
            supplement_price = supplements[supplement][-1]
            lines.append(
                {
                    "transaction_time": _ts(moment),
                    "transaction_id": tid,
                    "line_number": line,
                    "product_id": product,
                    "price": price,
                    "quantity": quantity,
                    "is_member": member,
                    "member_discount": discount,
                    "add_supplements": supplement,
                    "supplement_price": supplement_price,
                    "total_purchase": events.total_purchase(price, quantity, supplement_price, discount),
                }
            )
        out.append(lines)
    return out


def _malformed(template: dict[str, Any], contract: dict[str, Any]) -> list[tuple[str, Any]]:
    """(label, payload) for every kind of bad input; the payload is bytes, None or a dict to JSON-encode."""
    lo, hi = rules.quantity_range(contract)
    discounts = rules.allowed_values(contract, "member_discount")
    supplements = rules.allowed_values(contract, "supplement_price")
    t = template

    def v(**changes: Any) -> dict[str, Any]:
        rec = {**t, **changes}
        rec = {k: x for k, x in rec.items() if x is not DROP}
        if not any(k in changes for k in ("total_purchase",)) and all(
            isinstance(rec.get(k), int | float) and not isinstance(rec.get(k), bool)
            for k in ("price", "quantity", "supplement_price", "member_discount")
        ):
            rec["total_purchase"] = events.total_purchase(
                rec["price"], rec["quantity"], rec["supplement_price"], rec["member_discount"]
            )
        return rec

    off_by = rules.total_tolerance(contract)
    max_bytes = int(contract["records"]["max_bytes"])
    return [
        # The record that stopped every engine: 600,000 quotes (1.2 MB once escaped into a dead letter).
        ("too_large", b'"' * max(600_000, max_bytes + 1)),
        ("too_large", v(coupon="x" * max_bytes)),
        ("not_json", b"\xff\xfe\x00binary\x80\xc3"),
        ("not_json", b""),
        # A payload cut to the contract's bound (under the size limit, over payload_max_chars).
        ("mistyped_field", v(quantity="2", note="n" * (int(contract["dead_letters"]["payload_max_chars"]) + 100))),
        ("not_json", b"this is not json"),
        ("not_json", b'["an", "array"]'),
        ("not_json", b'"a string"'),
        ("not_json", None),
        ("missing_field", v(quantity=DROP)),
        ("missing_field", v(is_member=None)),
        ("missing_field", v(transaction_time=DROP)),
        ("mistyped_field", v(quantity="2")),
        ("mistyped_field", v(quantity=2.5)),
        ("mistyped_field", v(quantity=10**12)),
        ("mistyped_field", v(price="5.99")),
        ("mistyped_field", v(is_member="yes")),
        ("mistyped_field", v(transaction_time=t["transaction_time"][:-1])),
        ("mistyped_field", v(transaction_time="14/09/2022 04:36")),
        ("mistyped_field", v(transaction_id="12ab")),
        ("line_number_out_of_range", v(line_number=0)),
        ("quantity_out_of_range", v(quantity=lo - 1)),
        ("quantity_out_of_range", v(quantity=hi + 1)),
        ("quantity_out_of_range", v(quantity=hi + 1, total_purchase=999.99)),  # the first failing check
        ("price_out_of_range", v(price=0.0, supplement_price=0.0, add_supplements=False)),
        ("discount_not_allowed", v(is_member=True, member_discount=round(discounts[True][-1] + 0.05, 2))),
        # A member-only discount (promotion discounts are allowed for both: config/generator.yaml shop).
        ("discount_not_allowed", v(is_member=False,
                                   member_discount=next(d for d in discounts[True] if d not in discounts[False]))),
        ("supplement_not_allowed", v(add_supplements=True, supplement_price=round(supplements[True][-1] + 0.5, 2))),
        ("supplement_not_allowed", v(add_supplements=False, supplement_price=supplements[True][-1])),
        ("total_mismatch", v(total_purchase=999.99)),
        ("total_mismatch", v(total_purchase=round(t["total_purchase"] + off_by * 2, 2))),
        ("unknown_product", v(product_id="XX99")),
        ("unknown_product", v(product_id="ZZ01")),
    ]


def build(contract: dict[str, Any] | None = None, seed: int = 20261201, base: datetime | None = None) -> Kit:
    """The kit's input and expectation. ``base`` defaults to four hours ago (within topic retention)."""
    contract = contract or rules.load_contract()
    if base is None:
        now = datetime.now(UTC).replace(tzinfo=None)
        base = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=4)
    rnd = random.Random(seed)
    kit = Kit(contract=contract, base=base)
    versions = _catalogue_versions(base, contract)
    kit.products = [(p["product_id"], json.dumps(p).encode()) for p in versions]
    for p in versions:
        assert rules.check_product(json.dumps(p), contract, p["product_id"])[1] is None, p
    # The bad product records sit in the middle of the topic: the versions after them still count.
    cut = len(kit.products) // 2
    bad_products = []
    for code, key, payload in _malformed_products(base, versions, contract):
        text = None if payload is None else (payload if isinstance(payload, bytes) else json.dumps(payload).encode())
        _, reason = rules.check_product(text, contract, key)
        assert reason is not None and reason.split(":")[0] == code, (code, reason, payload)
        bad_products.append(((key, text), (code, _reason_field(reason), rules.dead_letter_payload(text, contract))))
    kit.products[cut:cut] = [record for record, _ in bad_products]
    for n, (_, expected) in enumerate(bad_products):
        kit.product_dead_letters[(0, cut + n)] = expected

    transactions = _valid_transactions(rnd, base, contract, versions)
    offsets = [0] * PARTITIONS
    bad_at = {i * 7 + 3: i for i in range(len(_malformed(transactions[0][0], contract)))}
    assert max(bad_at) < len(transactions), "more malformed records than transactions to put them after"
    legacy_at = {50, 120, 200}
    extras_at = {30, 31, 32}  # a valid purchase with an extra field; the tolerance's edge; a long one
    # Transactions 15-17 (one per partition) again after transaction 20, to their own partitions:
    # a rerun's repeats, a few minutes behind in event time (within the 10-minute watermark).
    repeat_after, repeats = 20, [j for j in (15, 16, 17) if all(
        _version_at(versions, line["product_id"], line["transaction_time"]) for line in transactions[j])]
    # Transaction 40 again on the next partition after transaction 41: the same line on two
    # partitions (a producer that keys differently); enriched at most twice, counted once.
    moved_at, moved = 41, 40
    # A file of history replayed while the live data flows: transactions of the day's first
    # quarter hour, one after every 8th live transaction from the 100th on, so each lands hours
    # behind every watermark and the live data after it moves the watermarks on (an engine that
    # forgets versions behind its watermark forgets them between two history lines). Each is
    # enriched with the version valid at its time (the late product has none yet:
    # no_product_version) and counted in the running totals. The windows dead-letter each `late`
    # (``late``): it is hours behind the newest line of its partition.
    history = _valid_transactions(random.Random(seed + 1), base - timedelta(minutes=2), contract, versions)[:12]
    history_at = {100 + 8 * n: n for n in range(len(history))}
    valid: list[tuple[dict[str, Any], bool]] = []

    def publish(partition: int, key: str | None, payload: Any) -> int:
        value = payload if payload is None or isinstance(payload, bytes) else json.dumps(payload).encode()
        kit.purchases.append((partition, key, value))
        offsets[partition] += 1
        return offsets[partition] - 1

    for index, lines in enumerate(transactions):
        partition = index % PARTITIONS
        for line in lines:
            record = dict(line)
            if index in extras_at and line["line_number"] == 1:
                if index == 30:
                    record["coupon"] = "SPRING"
                elif index == 32:  # valid and long (under the size limit): carried whole, never cut
                    record["note"] = "n" * (int(contract["records"]["max_bytes"]) // 2)
                else:
                    record["total_purchase"] = round(record["total_purchase"] + rules.total_tolerance(contract), 2)
            offset = publish(partition, record["transaction_id"], record)
            valid.append((_with_coordinates(record, partition, offset), False))
        if index in legacy_at:
            # The original demo's schema: no line_number; the oldest recordings had no transaction_id.
            for number, line in enumerate(lines):
                record = {k: x for k, x in line.items() if k != "line_number"}
                if index == 200:
                    record.pop("transaction_id")
                offset = publish(partition, record.get("transaction_id"), record)
                derived = dict(record)
                assert rules.derive_identity(derived, contract, partition, offset)
                assert number >= 0
                valid.append((_with_coordinates(derived, partition, offset), True))
        if index in history_at:
            n = history_at[index]
            for line in history[n]:
                record = {**line, "transaction_id": str(6_000_000_000 + n * 7919)}
                offset = publish(partition, record["transaction_id"], record)
                valid.append((_with_coordinates(record, partition, offset), False))
        if index == moved_at:
            for line in transactions[moved]:
                publish((moved + 1) % PARTITIONS, line["transaction_id"], line)
                kit.repeated.add((line["transaction_id"], line["line_number"]))
        if index == repeat_after:
            for j in repeats:
                for line in transactions[j]:
                    publish(j % PARTITIONS, line["transaction_id"], line)
                    kit.repeated.add((line["transaction_id"], line["line_number"]))
        if index in bad_at:
            code, payload = _malformed(lines[0], contract)[bad_at[index]]
            key = payload.get("transaction_id") if isinstance(payload, dict) else None
            offset = publish(partition, key if isinstance(key, str) else None, payload)
            text = None if payload is None else (payload if isinstance(payload, bytes) else json.dumps(payload).encode())
            _, reason, _ = rules.check_purchase(text, contract, partition, offset)
            assert reason is not None and reason.split(":")[0] == code, (code, reason, payload)
            kit.dead_letters[(partition, offset)] = (code, _reason_field(reason), rules.dead_letter_payload(text, contract))

    # A correction published after every purchase (in offset order): a new price of the product
    # bought most in the last half hour, valid from 2.5 hours into the day. The lines it covers are
    # enriched with it, or (the contract's one other outcome) with the version before it.
    before = versions
    corrected_at = _ts(base + timedelta(minutes=150, microseconds=77))
    late_lines = [r for r, _ in valid if r["transaction_time"] >= corrected_at]
    counts: dict[str, int] = defaultdict(int)
    for r in late_lines:
        if _version_at(versions, r["product_id"], r["transaction_time"]):
            counts[r["product_id"]] += 1
    target = max(sorted(counts), key=lambda pid: counts[pid])
    in_force = _version_at(versions, target, corrected_at)
    correction = {**in_force, "event_time": corrected_at, "price": _money(in_force["price"] + 0.25)}
    assert rules.check_product(json.dumps(correction), contract, target)[1] is None
    kit.products_after = [(target, json.dumps(correction).encode())]
    versions = [*versions, correction]

    for record, derived in valid:
        payload = json.dumps({k: x for k, x in record.items() if not k.startswith("_")}).encode()
        _, reason, _ = rules.check_purchase(payload, contract, record["_partition"], record["_offset"])
        assert reason is None, (reason, record)
        _fold(kit, record)
        version = _version_at(versions, record["product_id"], record["transaction_time"])
        if version is None:
            kit.dead_letters[(record["_partition"], record["_offset"])] = (
                contract["enrichment"]["missing_version_code"], None,
                rules.dead_letter_payload(_original(kit, record), contract),
            )
            continue
        key = (record["transaction_id"], record["line_number"])
        assert key not in kit.enriched, key
        kit.enriched[key] = enriched_row(record, version, derived)
        if version is correction:
            kit.alternatives[key] = enriched_row(
                record, _version_at(before, record["product_id"], record["transaction_time"]), derived)
    assert any(code == "no_product_version" for code, _, _ in kit.dead_letters.values())
    assert len(kit.alternatives) >= 2, "the correction must cover purchases"
    kit.late = rules.late_for_windows(_valid_times(kit), contract)
    history_ids = {str(6_000_000_000 + n * 7919) for n in range(len(history))}
    assert {(r["_partition"], r["_offset"]) for r in kit.lines if r["transaction_id"] in history_ids} == kit.late
    assert history[-1][0]["transaction_time"] < _ts(base + timedelta(minutes=20))
    assert len(repeats) >= 2, "the kit needs repeated transactions with product versions"
    return kit


def _valid_times(kit: Kit) -> list[tuple[int, int, str]]:
    """(partition, offset, transaction_time) of every valid purchase record (copies too), in order."""
    offsets = [0] * PARTITIONS
    out = []
    for partition, _key, value in kit.purchases:
        offset = offsets[partition]
        offsets[partition] += 1
        record, reason, _ = rules.check_purchase(value, kit.contract, partition, offset)
        if reason is None:
            out.append((partition, offset, record["transaction_time"]))
    return out


def _with_coordinates(record: dict[str, Any], partition: int, offset: int) -> dict[str, Any]:
    return {**record, "_partition": partition, "_offset": offset}


def _original(kit: Kit, record: dict[str, Any]) -> bytes | None:
    seen = [0] * PARTITIONS
    for partition, _key, value in kit.purchases:
        if partition == record["_partition"] and seen[partition] == record["_offset"]:
            return value
        seen[partition] += 1
    raise AssertionError("record not in the input")


def _reason_field(reason: str) -> str | None:
    code, _, detail = reason.partition(": ")
    return detail.split()[0] if code in FIELD_CODES and detail else None


def enriched_row(purchase: dict[str, Any], product: dict[str, Any], derived: bool) -> dict[str, Any]:
    """An enriched record (PRODUCT.md section 2), in ``events.PURCHASE_ENRICHED`` order."""
    moment = events.parse_timestamp(purchase["transaction_time"])
    row = {
        "transaction_time": purchase["transaction_time"],
        "transaction_timestamp": calendar.timegm(moment.utctimetuple()) * 1000 + moment.microsecond // 1000,
        "transaction_id": purchase["transaction_id"],
        "line_number": purchase["line_number"],
        "product_id": purchase["product_id"],
        "product_category": product["category"],
        "product_name": product["item"],
        "product_size": product["size"],
        "product_cogs": _money(product["cogs"]),
        "product_price": _money(product["price"]),
        "contains_fruit": product["contains_fruit"],
        "contains_veggies": product["contains_veggies"],
        "contains_nuts": product["contains_nuts"],
        "contains_caffeine": product["contains_caffeine"],
        "purchase_price": _money(purchase["price"]),
        "purchase_quantity": purchase["quantity"],
        "is_member": purchase["is_member"],
        "member_discount": _money(purchase["member_discount"]),
        "add_supplements": purchase["add_supplements"],
        "supplement_price": _money(purchase["supplement_price"]),
        "total_purchase": _money(purchase["total_purchase"]),
        "identity_derived": derived,
    }
    assert list(row) == events.field_names(events.PURCHASE_ENRICHED)
    return row


def _fold(kit: Kit, record: dict[str, Any]) -> None:
    """Add a valid purchase to the running totals and its sliding windows."""
    pid, total = record["product_id"], Decimal(str(record["total_purchase"]))
    t = kit.running_totals.setdefault(
        pid, {"event_time": "", "product_id": pid, "transactions": 0, "quantities": 0, "sales": Decimal(0)}
    )
    t["event_time"] = max(t["event_time"], record["transaction_time"])
    t["transactions"] += 1
    t["quantities"] += record["quantity"]
    t["sales"] += total
    kit.lines.append(record)
    _add_to_windows(kit.windows, record, kit.contract)


def _add_to_windows(windows: dict[tuple[str, str], dict[str, Any]], record: dict[str, Any],
                    contract: dict[str, Any]) -> None:
    """Count a valid line in each window the contract puts it in."""
    pid, total = record["product_id"], Decimal(str(record["total_purchase"]))
    size = timedelta(minutes=contract["windows"]["size_minutes"])
    moment = events.parse_timestamp(record["transaction_time"])
    for start_ms in rules.window_starts(calendar.timegm(moment.timetuple()) * 1000 + moment.microsecond // 1000,
                                        contract):
        start = datetime(1970, 1, 1) + timedelta(milliseconds=start_ms)
        w = windows.setdefault(
            (_ts(start), pid),
            {"window_start": _ts(start), "window_end": _ts(start + size), "product_id": pid,
             "transactions": 0, "drinks": 0, "sales": Decimal(0)},
        )
        w["transactions"] += 1
        w["drinks"] += record["quantity"]
        w["sales"] += total


# ------------------------------------------------------------------------------- publishing
def publish(kit: Kit, kafka_config: dict[str, Any], topics: TopicSpecs) -> None:
    """Products first (all versions), then purchases to their partitions, in order, then the correction."""
    if topics["purchases"].partitions != PARTITIONS:
        raise AssertionError(f"the kit needs {PARTITIONS} purchase partitions, topic has {topics['purchases'].partitions}")
    p = producer({**kafka_config, "linger.ms": 5, "enable.idempotence": True, "acks": "all"})
    for key, value in kit.products:
        p.produce(topics["products"].name, key=key, value=value)
    assert p.flush(30) == 0, "products not delivered"
    for partition, key, value in kit.purchases:
        p.produce(topics["purchases"].name, key=key, value=value, partition=partition)
        p.poll(0)
    assert p.flush(30) == 0, "purchases not delivered"
    for key, value in kit.products_after:
        p.produce(topics["products"].name, key=key, value=value)
    assert p.flush(30) == 0, "the correction not delivered"
    ends = end_offsets(kafka_config, topics["purchases"].name)
    expected = defaultdict(int)
    for partition, _, _ in kit.purchases:
        expected[partition] += 1
    assert ends == dict(expected), f"purchases topic must be fresh: ends {ends}, published {dict(expected)}"
    publish_aborted(kit, kafka_config, topics)


def publish_aborted(kit: Kit, kafka_config: dict[str, Any], topics: TopicSpecs) -> None:
    """An aborted transaction after the kit's records: a sale on every purchases partition and a
    product version that would re-price the first product. A transactional writer killed mid-way
    (the live generator, another engine's exactly-once sink) leaves such records in the log; an
    engine reading uncommitted records would enrich them, and the checks would see it. They come
    last, so every other record keeps the offset the expectations name."""
    sale = next(json.loads(v) for _, _, v in kit.purchases
                if v and v.startswith(b"{") and b'"line_number"' in v and b'"transaction_id"' in v)
    product = json.loads(kit.products[0][1] or b"{}")
    moment = datetime.strptime(product["event_time"], "%Y-%m-%d %H:%M:%S.%f") + timedelta(seconds=1)
    tx = producer({**kafka_config, "transactional.id": f"kit-aborted-{uuid.uuid4().hex}"})
    tx.init_transactions(30)
    tx.begin_transaction()
    for partition in range(PARTITIONS):
        line = {**sale, "transaction_id": str(9_100_000_000 + partition)}
        tx.produce(topics["purchases"].name, key=line["transaction_id"], value=json.dumps(line).encode(),
                   partition=partition)
    tx.produce(topics["products"].name, key=kit.products[0][0],
               value=json.dumps({**product, "event_time": _ts(moment), "price": _money(product["price"] + 100)}).encode())
    assert tx.flush(30) == 0, "aborted records not written"  # in the log first: an abort purges what is queued
    tx.abort_transaction(30)


def read_topic(kafka_config: dict[str, Any], topic: str, *, isolation: str = "read_committed",
               timeout: float = 60.0) -> list[dict[str, Any]]:
    """Every record of ``topic`` up to its current end (committed records only by default)."""
    return read_to_end(kafka_config, topic, isolation=isolation, timeout=timeout)


# ------------------------------------------------------------------------------ comparisons
def java_partition(key: str, partitions: int) -> int:
    """The partition Kafka's Java producer picks for a keyed record: ``murmur2(key) % n`` (positive).

    Every engine writes through a Java producer; a record on any other partition breaks Pinot's
    partition-local de-duplication of the enriched table (the same line would live on two).
    """
    data = key.encode()
    m, r, mask = 0x5BD1E995, 24, 0xFFFFFFFF
    h = (0x9747B28C ^ len(data)) & mask
    whole = len(data) - len(data) % 4
    for i in range(0, whole, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & mask
        k ^= k >> r
        k = (k * m) & mask
        h = ((h * m) & mask) ^ k
    tail = data[whole:]
    if len(tail) == 3:
        h ^= tail[2] << 16
    if len(tail) >= 2:
        h ^= tail[1] << 8
    if tail:
        h ^= tail[0]
        h = (h * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return (h & 0x7FFFFFFF) % partitions


def _same(actual: Any, want: Any) -> bool:
    """Equal in value and JSON type: a boolean is no number, an int no float, money exact to the cent.

    Python's ``True == 1 == 1.0`` and a rounded comparison would let type drift and sub-cent
    errors through; here a double must be a JSON number with a fraction (``5.0``, not ``5``) whose
    decimal text equals the expected amount exactly.
    """
    if isinstance(want, bool) or want is None or isinstance(want, str):
        return type(actual) is type(want) and actual == want
    if isinstance(want, int):
        return type(actual) is int and actual == want
    if isinstance(want, float | Decimal):
        return type(actual) is float and Decimal(repr(actual)) == Decimal(str(want))
    return actual == want


def _diff(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    out = []
    if list(actual) != list(expected):
        out.append(f"fields {list(actual)} != {list(expected)}")
    for name, want in expected.items():
        if not _same(actual.get(name), want):
            out.append(f"{name}: {actual.get(name)!r} != {want!r}")
    return out


def check_enriched(kit: Kit, records: list[dict[str, Any]], partitions: int = 0) -> None:
    """The enriched topic holds exactly the expected rows, once each (a repeated line at most twice), keyed by
    transaction_id, each on its key's partition of the topic's ``partitions`` (the producer's default)."""
    seen: dict[tuple[str, int], dict[str, Any]] = {}
    copies: set[tuple[str, int]] = set()
    problems = []
    for r in records:
        value = json.loads(r["value"])
        key = (value["transaction_id"], value["line_number"])
        if key in seen and (key not in kit.repeated or key in copies):
            problems.append(f"duplicate {key}")
        if key in seen:
            copies.add(key)
            problems += [f"{key} (second copy): {d}" for d in _diff(seen[key], value)]
        seen[key] = value
        if r["key"] != value["transaction_id"]:
            problems.append(f"{key}: record key {r['key']!r} is not the transaction_id")
        elif partitions and r["partition"] != java_partition(r["key"], partitions):
            problems.append(f"{key}: on partition {r['partition']}, not its key's "
                            f"({java_partition(r['key'], partitions)} of {partitions})")
    missing, extra = sorted(set(kit.enriched) - set(seen)), sorted(set(seen) - set(kit.enriched))
    if missing:
        problems.append(f"{len(missing)} missing, e.g. {missing[:3]}")
    if extra:
        problems.append(f"{len(extra)} unexpected, e.g. {extra[:3]}")
    for key in sorted(set(kit.enriched) & set(seen)):
        if key in kit.alternatives and not _diff(kit.alternatives[key], seen[key]):
            continue  # enriched before the correction was read: the version then in force
        for d in _diff(kit.enriched[key], seen[key]):
            problems.append(f"{key}: {d}")
    assert not problems, "enriched rows differ:\n  " + "\n  ".join(problems[:40])


def check_dead_letters(kit: Kit, records: list[dict[str, Any]], purchases_topic: str, products_topic: str) -> None:
    """One dead letter per rejected record of either topic, with the contract's code (and field) and the payload.

    The windows' ``late`` dead letters are not rejected records: :func:`check_windows` checks them.
    """
    problems = []
    seen: dict[tuple[str, int, int], dict[str, Any]] = {}
    late = {id(r) for r in late_letters(kit, records)}  # the windows' own: check_windows
    for r in records:
        if id(r) in late:
            continue
        value = json.loads(r["value"])
        if list(value) != events.field_names(events.INVALID_PURCHASE):
            problems.append(f"dead-letter fields {list(value)}")
        where = (value["source_topic"], value["source_partition"], value["source_offset"])
        if where in seen:
            problems.append(f"duplicate dead letter {where}")
        seen[where] = value
    expected = {(purchases_topic, *k): v for k, v in kit.dead_letters.items()}
    expected.update({(products_topic, *k): v for k, v in kit.product_dead_letters.items()})
    for where, (code, field_name, payload) in expected.items():
        got = seen.get(where)
        if got is None:
            problems.append(f"{where}: no dead letter (expected {code} {field_name or ''})")
            continue
        got_code = str(got["reason"]).split(":")[0]
        if got_code != code or (field_name and _reason_field(got["reason"]) != field_name):
            problems.append(f"{where}: reason {got['reason'][:200]!r}, expected {code} {field_name or ''}")
        for name, want in payload.items():
            if not _same(got.get(name), want):
                problems.append(f"{where}: {name} {str(got.get(name))[:80]!r} != {str(want)[:80]!r}")
        if not str(got.get("rejected_by") or "").strip():
            problems.append(f"{where}: no rejected_by")
    extra = sorted(set(seen) - set(expected))
    if extra:
        problems.append(f"{len(extra)} unexpected dead letters, e.g. {[seen[e]['reason'] for e in extra[:3]]}")
    assert not problems, "dead letters differ:\n  " + "\n  ".join(problems[:40])


def _latest(records: list[dict[str, Any]], key_of: Any) -> dict[Any, dict[str, Any]]:
    out: dict[Any, dict[str, Any]] = {}
    for r in sorted(records, key=lambda r: (r["partition"], r["offset"])):
        value = json.loads(r["value"])
        out[key_of(value)] = value
    return out


def _keyed_as_declared(records: list[dict[str, Any]], spec: TopicSpec) -> list[str]:
    """Every record's Kafka key is the one ``config/topics.yaml`` declares for its value."""
    problems = []
    for r in records:
        want = spec.record_key(json.loads(r["value"]))
        if r["key"] != want:
            problems.append(f"record key {r['key']!r} is not its {spec.key_label} {want!r}")
    return problems[:5]


def check_running_totals(kit: Kit, records: list[dict[str, Any]], spec: TopicSpec) -> None:
    """The latest total per product_id equals the plain sum of the valid purchases."""
    latest = _latest(records, lambda v: v["product_id"])
    problems = _keyed_as_declared(records, spec)
    if set(latest) != set(kit.running_totals):
        problems.append(f"products {sorted(latest)} != {sorted(kit.running_totals)}")
    for pid, want in kit.running_totals.items():
        if pid in latest:
            problems += [f"{pid}: {d}" for d in _diff(want, latest[pid])]
    assert not problems, "running totals differ:\n  " + "\n  ".join(problems[:40])


def late_letters(kit: Kit, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The dead letters of ``records`` (a dead-letter topic) with the windows' late code."""
    code = kit.contract["windows"]["late_code"]
    return [r for r in records if str(json.loads(r["value"])["reason"]).split(":")[0] == code]


def check_windows(kit: Kit, records: list[dict[str, Any]], spec: TopicSpec, late: list[dict[str, Any]] = (),
                  purchases_topic: str | None = None, *, exact: bool = True) -> None:
    """Each window's latest value is the plain sum of its lines that were not dead-lettered late.

    ``late``: the windows job's ``late`` dead letters (:func:`late_letters`). ``exact``: every line
    of ``kit.late`` has one (Flink, Kafka Streams); else (Spark, whose watermark moves per
    micro-batch) a line of ``kit.late`` may have one. No other line may, none twice, each with its
    payload; a line without one is in each of its windows, so a line dropped without a dead
    letter, or counted and dead-lettered, fails.
    """
    problems = _keyed_as_declared(records, spec)
    late_at: set[tuple[int, int]] = set()
    for r in late:
        letter = json.loads(r["value"])
        where = (letter["source_partition"], letter["source_offset"])
        if purchases_topic and letter["source_topic"] != purchases_topic:
            problems.append(f"late dead letter of {letter['source_topic']!r}")
        if where not in kit.late:
            problems.append(f"{where}: dead-lettered late, but it is not behind its partition: {letter['reason'][:160]!r}")
        if where in late_at:
            problems.append(f"{where}: two late dead letters")
        late_at.add(where)
        if not str(letter.get("rejected_by") or "").strip():
            problems.append(f"{where}: late dead letter without rejected_by")
        record = next((line for line in kit.lines if (line["_partition"], line["_offset"]) == where), None)
        if record is not None:
            for name, want in rules.dead_letter_payload(_original(kit, record), kit.contract).items():
                if not _same(letter.get(name), want):
                    problems.append(f"{where}: late dead letter's {name} {str(letter.get(name))[:80]!r} != {str(want)[:80]!r}")
    if exact and kit.late - late_at:
        problems.append(f"{len(kit.late - late_at)} late lines without a late dead letter, e.g. {sorted(kit.late - late_at)[:3]}")
    expected: dict[tuple[str, str], dict[str, Any]] = {}
    for line in kit.lines:
        if (line["_partition"], line["_offset"]) not in late_at:
            _add_to_windows(expected, line, kit.contract)
    latest = _latest(records, lambda v: (v["window_start"], v["product_id"]))
    missing, extra = sorted(set(expected) - set(latest)), sorted(set(latest) - set(expected))
    if missing:
        problems.append(f"{len(missing)} windows missing, e.g. {missing[:3]}")
    if extra:
        problems.append(f"{len(extra)} unexpected windows, e.g. {extra[:3]}")
    for key in sorted(set(expected) & set(latest)):
        problems += [f"{key}: {d}" for d in _diff(expected[key], latest[key])]
    assert not problems, "windows differ:\n  " + "\n  ".join(problems[:40])
