"""The kit's own checks fail on a wrong output (no services: the expectation fed back, then altered)."""

from __future__ import annotations

import copy
import json

import pytest
from support import kit as ck

from streamstack import contract as rules
from streamstack.topics import load_topics

TOPICS = load_topics()


def _records(rows: list[dict], key: str) -> list[dict]:
    return [{"key": str(r[key]), "value": json.dumps(r), "partition": 0, "offset": i} for i, r in enumerate(rows)]


def _windows(rows: list[dict]) -> list[dict]:
    """Window records keyed as config/topics.yaml declares (the window's identity)."""
    return [{"key": TOPICS["sales_windows"].record_key(r), "value": json.dumps(r), "partition": 0, "offset": i}
            for i, r in enumerate(rows)]


def test_expectation_passes_its_own_checks_and_fails_when_altered(kit: ck.Kit) -> None:
    rows = list(kit.enriched.values())
    ck.check_enriched(kit, _records(rows, "transaction_id"))
    with pytest.raises(AssertionError, match="missing"):
        ck.check_enriched(kit, _records(rows[1:], "transaction_id"))
    changed = copy.deepcopy(rows)
    changed[0]["product_price"] += 0.01
    with pytest.raises(AssertionError, match="product_price"):
        ck.check_enriched(kit, _records(changed, "transaction_id"))
    with pytest.raises(AssertionError, match="duplicate"):
        ck.check_enriched(kit, _records([*rows, rows[0]], "transaction_id"))


def test_repeated_lines_are_published_twice_and_counted_once(kit: ck.Kit) -> None:
    copies: dict[bytes, int] = {}
    for _, _, value in kit.purchases:
        if value is not None:
            copies[value] = copies.get(value, 0) + 1
    copied = [json.loads(v) for v, n in copies.items() if n > 1]
    assert all(copies[v] <= 2 for v in copies)
    assert kit.repeated and {(r["transaction_id"], r["line_number"]) for r in copied} == kit.repeated
    assert sum(t["transactions"] for t in kit.running_totals.values()) == len(kit.enriched) + sum(
        1 for code, _, _ in kit.dead_letters.values() if code == "no_product_version")
    rows = list(kit.enriched.values())
    twice = [r for r in rows if (r["transaction_id"], r["line_number"]) in kit.repeated]
    ck.check_enriched(kit, _records([*rows, *twice], "transaction_id"))  # a copy of a repeat: allowed
    with pytest.raises(AssertionError, match="duplicate"):
        ck.check_enriched(kit, _records([*rows, *twice, twice[0]], "transaction_id"))  # a third copy
    changed = {**twice[0], "product_price": twice[0]["product_price"] + 1}
    with pytest.raises(AssertionError, match="second copy"):
        ck.check_enriched(kit, _records([*rows, changed], "transaction_id"))


def test_totals_and_windows_checks_fail_on_a_wrong_sum(kit: ck.Kit) -> None:
    totals = [{**t, "sales": float(t["sales"])} for t in kit.running_totals.values()]
    ck.check_running_totals(kit, _records(totals, "product_id"), TOPICS["running_totals"])
    totals[0]["quantities"] += 1
    with pytest.raises(AssertionError, match="quantities"):
        ck.check_running_totals(kit, _records(totals, "product_id"), TOPICS["running_totals"])
    windows = [{**w, "sales": float(w["sales"])} for w in kit.windows.values()]
    ck.check_windows(kit, _windows(windows), TOPICS["sales_windows"], exact=False)  # every line counted
    with pytest.raises(AssertionError, match="missing"):
        ck.check_windows(kit, _windows(windows[:-1]), TOPICS["sales_windows"], exact=False)
    windows[0]["drinks"] += 1
    with pytest.raises(AssertionError, match="drinks"):
        ck.check_windows(kit, _windows(windows), TOPICS["sales_windows"], exact=False)


def _late_letter(kit: ck.Kit, line: dict, n: int, **change: object) -> dict:
    """The windows job's late dead letter of ``line``, as an engine writes it."""
    letter = {"source_topic": "p", "source_partition": line["_partition"], "source_offset": line["_offset"],
              "rejected_at": "", "rejected_by": "x", "reason": "late: transaction_time t is behind the windows' watermark w",
              **rules.dead_letter_payload(ck._original(kit, line), kit.contract), **change}
    return {"key": None, "value": json.dumps(letter), "partition": 0, "offset": n}


def _windows_without(kit: ck.Kit, left_out: list[dict]) -> list[dict]:
    """The windows an engine writes when ``left_out`` lines are counted in none."""
    windows: dict = {}
    gone = {(line["_partition"], line["_offset"]) for line in left_out}
    for line in kit.lines:
        if (line["_partition"], line["_offset"]) not in gone:
            ck._add_to_windows(windows, line, kit.contract)
    return _windows([{**w, "sales": float(w["sales"])} for w in windows.values()])


def test_late_lines_are_dead_lettered_never_dropped(kit: ck.Kit) -> None:
    """The history lines are late for the windows: each has one dead letter and is in no window
    (for Spark: may have). Dropped without a letter, counted and lettered, another line lettered
    late, or (exact) a late line counted: refused."""
    history = [line for line in kit.lines if (line["_partition"], line["_offset"]) in kit.late]
    assert len(history) >= 12 and all(line["transaction_id"].startswith("6") for line in history)
    letters = [_late_letter(kit, line, n) for n, line in enumerate(history)]
    late_windows = _windows_without(kit, history)
    ck.check_windows(kit, late_windows, TOPICS["sales_windows"], letters, "p")
    ck.check_windows(kit, _windows_without(kit, history[:1]), TOPICS["sales_windows"], letters[:1], "p", exact=False)
    counted = _windows_without(kit, [])
    ck.check_windows(kit, counted, TOPICS["sales_windows"], [], "p", exact=False)
    with pytest.raises(AssertionError, match="late lines without a late dead letter"):
        ck.check_windows(kit, counted, TOPICS["sales_windows"], [], "p")
    with pytest.raises(AssertionError, match="late lines without a late dead letter"):
        ck.check_windows(kit, _windows_without(kit, history[:1]), TOPICS["sales_windows"], letters[:1], "p")
    with pytest.raises(AssertionError, match="windows differ"):  # dropped unseen
        ck.check_windows(kit, late_windows, TOPICS["sales_windows"], letters[1:], "p", exact=False)
    with pytest.raises(AssertionError, match="windows differ"):  # counted and dead-lettered
        ck.check_windows(kit, _windows_without(kit, []), TOPICS["sales_windows"], letters, "p")
    on_time = next(line for line in kit.lines if (line["_partition"], line["_offset"]) not in kit.late)
    with pytest.raises(AssertionError, match="not behind its partition"):
        ck.check_windows(kit, _windows_without(kit, [on_time]), TOPICS["sales_windows"],
                         [_late_letter(kit, on_time, 0)], "p")
    with pytest.raises(AssertionError, match="two late dead letters"):
        ck.check_windows(kit, late_windows, TOPICS["sales_windows"], [*letters, letters[0]], "p")
    with pytest.raises(AssertionError, match="payload_sha256"):
        ck.check_windows(kit, _windows_without(kit, history[:1]), TOPICS["sales_windows"],
                         [_late_letter(kit, history[0], 0, payload_sha256="0" * 64)], "p")
    # The dead-letter check leaves them to the windows' check.
    ck.check_dead_letters(kit, [*_letters(kit, "q"), *letters], "p", "q")


def test_a_window_keyed_by_its_product_alone_fails(kit: ck.Kit) -> None:
    """Keyed by product_id (Spark's key before the window's identity was declared): refused."""
    windows = [{**w, "sales": float(w["sales"])} for w in kit.windows.values()]
    with pytest.raises(AssertionError, match="is not its window_start\\+product_id"):
        ck.check_windows(kit, _records(windows, "product_id"), TOPICS["sales_windows"], exact=False)


def test_history_after_live_data_is_enriched_and_totalled(kit: ck.Kit) -> None:
    """History published last (hours behind every watermark) is in the expectation: enriched, or
    dead-lettered no_product_version where no version existed yet; never absent."""
    history = {key: row for key, row in kit.enriched.items() if key[0].startswith("6")}
    assert len(history) >= 12
    rows = [row for key, row in kit.enriched.items() if key not in history]
    with pytest.raises(AssertionError, match="missing"):
        ck.check_enriched(kit, _records(rows, "transaction_id"))
    partitions = {p for p, key, _ in kit.purchases if key and key.startswith("6")}
    assert partitions == set(range(ck.PARTITIONS))
    where: dict[tuple, set[int]] = {}
    for partition, _key, value in kit.purchases:
        try:
            line = json.loads(value or b"")
        except ValueError:
            continue
        if isinstance(line, dict) and (line.get("transaction_id"), line.get("line_number")) in kit.repeated:
            where.setdefault((line["transaction_id"], line["line_number"]), set()).add(partition)
    assert any(len(ps) == 2 for ps in where.values()), "the same line on two partitions"


def test_every_reason_code_of_the_contract_is_exercised(kit: ck.Kit) -> None:
    codes = {code for code, _, _ in [*kit.dead_letters.values(), *kit.product_dead_letters.values()]}
    if kit.late:  # the windows' own: the history lines, hours behind their partitions
        codes.add(kit.contract["windows"]["late_code"])
    assert codes == set(kit.contract["reasons"]), set(kit.contract["reasons"]) - codes
    assert any(r["identity_derived"] for r in kit.enriched.values())
    assert len({r["product_price"] for r in kit.enriched.values() if r["product_id"] == "CS01"}) == 2


def _letters(kit: ck.Kit, product_topic: str, drop: int | None = None, code: str | None = None,
             change: dict | None = None) -> list[dict]:
    """The kit's expected dead letters as an engine would write them; ``change`` alters the first purchase one."""
    rows = []
    for n, ((partition, offset), (want, field_name, payload)) in enumerate(kit.dead_letters.items()):
        rows.append({"source_topic": "p", "source_partition": partition, "source_offset": offset,
                     "rejected_at": "", "rejected_by": "x", "reason": f"{want}: {field_name or ''} x",
                     **payload, **(change if change and n == 0 else {})})
    for n, ((partition, offset), (want, field_name, payload)) in enumerate(kit.product_dead_letters.items()):
        if n != drop:
            rows.append({"source_topic": product_topic, "source_partition": partition, "source_offset": offset,
                         "rejected_at": "", "rejected_by": "x",
                         "reason": f"{code if code and n == 0 else want}: {field_name or ''} x", **payload})
    return [{"key": None, "value": json.dumps(r), "partition": 0, "offset": i} for i, r in enumerate(rows)]


def test_dead_letter_check_covers_the_products_topic(kit: ck.Kit) -> None:
    """A missing, a re-coded or a misplaced product dead letter fails the check."""
    ck.check_dead_letters(kit, _letters(kit, "q"), "p", "q")
    with pytest.raises(AssertionError, match="no dead letter"):
        ck.check_dead_letters(kit, _letters(kit, "q", drop=3), "p", "q")
    with pytest.raises(AssertionError, match="reason"):
        ck.check_dead_letters(kit, _letters(kit, "q", code="not_json"), "p", "q")
    with pytest.raises(AssertionError, match="no dead letter"):
        ck.check_dead_letters(kit, _letters(kit, "p"), "p", "q")


def test_dead_letters_are_bounded_and_carry_size_hash_and_encoding(kit: ck.Kit) -> None:
    """The oversized, binary and empty records are in the input; a whole, unhashed or re-encoded copy fails."""
    letters = {code_payload[2]["payload_encoding"]: code_payload for code_payload in kit.dead_letters.values()
               if code_payload[2]["payload"] is not None}
    assert set(letters) == {"utf-8", "base64"}
    limit = kit.contract["dead_letters"]["payload_max_chars"]
    first = next(iter(kit.dead_letters.values()))[2]
    assert any(p["payload_truncated"] and len(p["payload"]) == limit for _, _, p in kit.dead_letters.values())
    assert any(p["payload_bytes"] == 0 for _, _, p in kit.dead_letters.values())
    assert any(code == "too_large" and p["payload_bytes"] >= 600_000 for code, _, p in kit.dead_letters.values())
    assert any(code == "product_too_large" for code, _, _ in kit.product_dead_letters.values())
    for change in ({"payload_sha256": None}, {"payload_truncated": 0}, {"payload_bytes": float(first["payload_bytes"])},
                   {"payload_encoding": "base64"}, {"payload": first["payload"] + "x"}, {"rejected_by": ""}):
        with pytest.raises(AssertionError, match=next(iter(change))):
            ck.check_dead_letters(kit, _letters(kit, "q", change=change), "p", "q")


def test_comparisons_are_strict_about_json_types_and_cents(kit: ck.Kit) -> None:
    """``True == 1 == 1.0`` and rounding no longer hide type drift or a sub-cent error."""
    rows = list(kit.enriched.values())
    for field_name, wrong in (("contains_fruit", int(rows[0]["contains_fruit"])),
                              ("purchase_quantity", float(rows[0]["purchase_quantity"])),
                              ("product_price", rows[0]["product_price"] + 0.004),
                              ("transaction_timestamp", str(rows[0]["transaction_timestamp"]))):
        changed = copy.deepcopy(rows)
        changed[0][field_name] = wrong
        with pytest.raises(AssertionError, match=field_name):
            ck.check_enriched(kit, _records(changed, "transaction_id"))


def test_a_line_the_correction_covers_may_carry_either_version_and_no_other(kit: ck.Kit) -> None:
    """The correction arrives after the purchases it covers: the version before it is allowed, a third is not."""
    assert kit.products_after and kit.alternatives
    rows = dict(kit.enriched)
    key = next(iter(kit.alternatives))
    assert rows[key]["product_price"] != kit.alternatives[key]["product_price"]
    rows[key] = kit.alternatives[key]
    ck.check_enriched(kit, _records(list(rows.values()), "transaction_id"))
    rows[key] = {**kit.alternatives[key], "product_price": kit.alternatives[key]["product_price"] + 1.0}
    with pytest.raises(AssertionError, match="product_price"):
        ck.check_enriched(kit, _records(list(rows.values()), "transaction_id"))


def test_java_partition_is_kafkas_murmur2() -> None:
    """Kafka's own murmur2 vectors (clients' UtilsTest), as the Java producer turns them into partitions."""
    vectors = {"21": -973932308, "foobar": -790332482, "a-little-bit-long-string": -985981536,
               "a-little-bit-longer-string": -1486304829, "abc": 479470107}
    for key, signed in vectors.items():
        assert ck.java_partition(key, 1 << 31) == (signed & 0x7FFFFFFF), key
        assert ck.java_partition(key, 3) == (signed & 0x7FFFFFFF) % 3, key


def test_an_enriched_row_off_its_keys_partition_fails(kit: ck.Kit) -> None:
    rows = list(kit.enriched.values())
    placed = [{**r, "partition": ck.java_partition(r["key"], 3)} for r in _records(rows, "transaction_id")]
    ck.check_enriched(kit, placed, partitions=3)
    moved = copy.deepcopy(placed)
    moved[0]["partition"] = (moved[0]["partition"] + 1) % 3
    with pytest.raises(AssertionError, match="not its key's"):
        ck.check_enriched(kit, moved, partitions=3)


def test_a_running_total_keyed_by_another_product_fails(kit: ck.Kit) -> None:
    rows = [{**t, "sales": float(t["sales"])} for t in kit.running_totals.values()]
    ck.check_running_totals(kit, _records(rows, "product_id"), TOPICS["running_totals"])
    keyed = _records(rows, "product_id")
    keyed[0]["key"] = rows[1]["product_id"]
    with pytest.raises(AssertionError, match="is not its product_id"):
        ck.check_running_totals(kit, keyed, TOPICS["running_totals"])
