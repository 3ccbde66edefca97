"""Replay: both recorded schemas, positions and reasons of bad records, dead letters, re-stamping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streamstack.events import INVALID_PURCHASE, PURCHASE, field_names
from streamstack.generator import ReplayError
from streamstack.generator.replay import read_records, replay

GOOD = {
    "transaction_time": "2022-09-14 04:36:08.334683", "transaction_id": "3982651906569181497",
    "product_id": "SF05", "price": 5.99, "quantity": 1, "is_member": True, "member_discount": 0.1,
    "add_supplements": True, "supplement_price": 1.99, "total_purchase": 7.18,
}
PRODUCTS = {"SF05", "CS01", "SF07", "CS08"}


def _purchases(sink) -> list[dict]:
    return [json.loads(v) for v in sink.of("purchases")]


def test_sample_file_replays_its_307_lines_with_line_numbers(sample_new: Path, sink) -> None:
    original = json.loads(sample_new.read_text())
    summary = replay(sample_new, sink)
    out = _purchases(sink)
    assert len(original) == 307 and len(out) == 307 == summary.purchases
    assert summary.transactions == 210 and summary.line_numbers_assigned == 307 and summary.dead_letters == 0
    for before, after in zip(original, out, strict=True):
        assert list(after) == field_names(PURCHASE)
        assert {k: v for k, v in after.items() if k != "line_number"} == before  # times kept
    numbers: dict[str, list[int]] = {}
    for line in out:
        numbers.setdefault(line["transaction_id"], []).append(line["line_number"])
    assert all(n == list(range(1, len(n) + 1)) for n in numbers.values())
    assert max(len(n) for n in numbers.values()) == 3
    assert [key for _, key, _ in sink.events] == [line["transaction_id"] for line in out]


def test_oldest_schema_gets_ids_from_its_times(sample_small: Path, sink) -> None:
    summary = replay(sample_small, sink)
    out = _purchases(sink)
    assert len(out) == 290 and summary.transaction_ids_assigned == 290 and summary.transactions == 290
    first = out[0]
    assert first["transaction_time"] == "2022-08-31 08:00:34.721802"
    assert first["transaction_id"] == "1661932834721802" and first["line_number"] == 1


def test_array_positions_point_at_the_right_lines(sample_new: Path) -> None:
    records = list(read_records(sample_new))
    assert [(r.position, r.line) for r in records[:3]] == [(1, 2), (2, 14), (3, 26)]
    assert records[-1].position == 307 and records[-1].line == 2 + 12 * 306


def _lines_file(tmp_path: Path, *records: object) -> Path:
    path = tmp_path / "recorded.jsonl"
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n")
    return path


BAD_CASES = [
    ('{"transaction_time": "2022-09-14', "invalid JSON"),
    ({**GOOD, "total_purchase": 9.99}, "total_mismatch: total_purchase 9.99, formula gives 7.18"),
    ({**GOOD, "product_id": "XX99"}, "not in the catalogue"),
    ({k: v for k, v in GOOD.items() if k != "price"}, "missing_field: price"),
    ({**GOOD, "transaction_id": "12ab"}, "mistyped_field: transaction_id '12ab' does not match"),
    ({**GOOD, "transaction_time": "2022-09-14T04:36:08"}, "mistyped_field: transaction_time is not a timestamp"),
    ({**GOOD, "quantity": 0}, "quantity_out_of_range: quantity 0"),
    ({**GOOD, "is_member": "yes"}, "mistyped_field: is_member is not a boolean"),
    ({**GOOD, "colour": "red"}, "unknown field(s) colour"),
    ({**GOOD, "is_member": False}, "discount_not_allowed: member_discount 0.1 not allowed when is_member is false"),
    ([1, 2], "must be a JSON object"),
]


@pytest.mark.parametrize(("bad", "reason"), BAD_CASES)
def test_a_bad_record_fails_the_replay_with_position_and_reason(tmp_path: Path, sink, bad: object,
                                                                reason: str) -> None:
    other = {**GOOD, "transaction_id": "1"}
    path = _lines_file(tmp_path, other, "", bad)  # the blank line is skipped, not a record
    with pytest.raises(ReplayError) as err:
        replay(path, sink, known_products=PRODUCTS)
    assert [(p.position, p.line) for p in err.value.problems] == [(2, 3)]
    assert reason in err.value.problems[0].reason
    assert "record 2 (line 3)" in str(err.value) and str(path) in str(err.value)
    assert sink.events == [] and not sink.closed  # nothing produced


def test_transaction_consistency_and_duplicate_lines(tmp_path: Path, sink) -> None:
    path = _lines_file(
        tmp_path,
        {**GOOD, "line_number": 1},
        {**GOOD, "line_number": 1},
        {**GOOD, "transaction_time": "2022-09-14 04:36:09.000000"},
    )
    with pytest.raises(ReplayError) as err:
        replay(path, sink)
    reasons = [p.reason for p in err.value.problems]
    assert "duplicate line_number 1" in reasons[0]
    assert "another transaction_time or is_member than its line at record 1" in reasons[1]


def test_line_numbers_continue_after_given_ones(tmp_path: Path, sink) -> None:
    replay(_lines_file(tmp_path, {**GOOD, "line_number": 2}, GOOD, GOOD), sink)
    assert [line["line_number"] for line in _purchases(sink)] == [2, 3, 4]


def test_broken_json_array_reports_where(tmp_path: Path, sink) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[\n  {"a": 1},\n  {"a": 2}\n  {"a": 3}\n]\n')
    with pytest.raises(ReplayError, match=r"record 2 \(line 4\): expected ',' or ']'"):
        replay(path, sink)
    path.write_text('[\n  {"a": 1},\n  {"a": tru}\n]\n')
    with pytest.raises(ReplayError, match=r"record 2 \(line 3\): invalid JSON"):
        replay(path, sink)


def test_dead_letter_option_keeps_good_records_and_explains_bad_ones(tmp_path: Path, sink) -> None:
    path = _lines_file(tmp_path, GOOD, BAD_CASES[0][0], {**GOOD, "transaction_id": "7"}, BAD_CASES[1][0])
    summary = replay(path, sink, send_dead_letters=True, known_products=PRODUCTS)
    assert (summary.records, summary.purchases, summary.dead_letters) == (4, 2, 2)
    assert [p["transaction_id"] for p in _purchases(sink)] == ["3982651906569181497", "7"]
    letters = sink.of("purchases_invalid")
    assert [list(letter) for letter in letters] == [field_names(INVALID_PURCHASE)] * 2
    assert letters[0]["source_offset"] == 2 and letters[0]["reason"].startswith("record 2 (line 2): invalid JSON")
    assert letters[0]["payload"] == BAD_CASES[0][0]
    assert "total_mismatch" in letters[1]["reason"] and json.loads(letters[1]["payload"])["total_purchase"] == 9.99
    assert letters[0]["source_topic"] == f"file:{path}" and letters[0]["rejected_by"] == "streamstack replay"
    assert sink.closed


def test_restamp_gives_each_transaction_one_new_time(sample_new: Path, sink) -> None:
    ticks = iter(range(1_800_000_000_000_000, 1_900_000_000_000_000, 1000))
    replay(sample_new, sink, restamp=True, clock=lambda: next(ticks))
    out = _purchases(sink)
    times: dict[str, set[str]] = {}
    for line in out:
        times.setdefault(line["transaction_id"], set()).add(line["transaction_time"])
    assert all(len(t) == 1 for t in times.values())
    assert len({next(iter(t)) for t in times.values()}) == 210
    assert out[0]["transaction_time"] == "2027-01-15 08:00:00.000000"


def _catalogue():
    from streamstack.generator.catalogue import load_catalogue
    from streamstack.generator.config import load_config

    return load_catalogue(load_config().catalogue_file).products


def test_a_recording_older_than_the_catalogue_gets_versions_as_of_its_first_transaction(sample_new: Path, sink) -> None:
    """The seed's 2022 recording on a topic whose catalogue was published today: every line would
    find no version. Replay publishes the catalogue as of the file's first transaction, first."""
    from streamstack import contract as rules
    from streamstack.generator.replay import earliest_versions

    catalogue = _catalogue()
    today = {p.product_id: "2026-12-07 06:00:00.000000" for p in catalogue}
    summary = replay(sample_new, sink, catalogue=catalogue, known_versions=today)
    versions = sink.of("products")
    bought = {line["product_id"] for line in _purchases(sink)}
    first = min(line["transaction_time"] for line in _purchases(sink))
    assert summary.product_versions == len(versions) == len(bought)
    assert {v["product_id"] for v in versions} == bought and {v["event_time"] for v in versions} == {first}
    assert [kind for kind, _, _ in sink.events[: len(versions)]] == ["products"] * len(versions)  # before purchases
    contract = rules.load_contract()
    for line in _purchases(sink):  # every line now has a version valid at its time
        assert rules.check_purchase(json.dumps(line), contract)[1] is None
    # A second replay onto the topic that now holds them publishes no version again.
    known = earliest_versions([(v["product_id"], json.dumps(v)) for v in versions]
                              + [(pid, json.dumps(p.event(today[pid]))) for p in catalogue for pid in [p.product_id]],
                              contract)
    again = replay(sample_new, type(sink)(), catalogue=catalogue, known_versions=known)
    assert again.product_versions == 0


def test_earliest_versions_skip_what_is_no_version(sink) -> None:
    from streamstack import contract as rules
    from streamstack.generator.replay import earliest_versions

    product = _catalogue()[0]
    good = json.dumps(product.event("2026-01-01 00:00:00.000000"))
    older_but_bad = json.dumps({**product.event("2020-01-01 00:00:00.000000"), "price": "5.99"})
    other_key = json.dumps(product.event("2019-01-01 00:00:00.000000"))
    got = earliest_versions([(product.product_id, good), (product.product_id, older_but_bad), ("XX", other_key),
                             (product.product_id, b"\xff binary"), (product.product_id, None)],
                            rules.load_contract())
    assert got == {product.product_id: "2026-01-01 00:00:00.000000"}
