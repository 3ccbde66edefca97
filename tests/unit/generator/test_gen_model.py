"""The shop model: distributions of PRODUCT.md section 3, the formula, restocking, reproducibility.

Expected values are computed here independently of the model (the spec's numbers and a
brute-force nearest-propensity table); statistical checks allow 5 standard errors over a
large seeded run, so they fail on a real bias but not by chance (p < 1e-6 per check).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from streamstack.events import PURCHASE, field_names, format_timestamp
from streamstack.generator import Catalogue, GeneratorConfig, PurchaseEncoder, SalesModel, VirtualClock
from streamstack.generator.model import TimestampFormatter

N_TRANSACTIONS = 200_000
START = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def _model(config: GeneratorConfig, catalogue: Catalogue, seed: int = 2024) -> SalesModel:
    return SalesModel(config, catalogue, seed, clock=VirtualClock(START))


@pytest.fixture(scope="module")
def big_run(config: GeneratorConfig, catalogue: Catalogue) -> tuple[list, list[dict]]:
    model = _model(config, catalogue)
    encoder = PurchaseEncoder(config, catalogue)
    transactions = [model.next_transaction() for _ in range(N_TRANSACTIONS)]
    lines = [record for tx in transactions for record in encoder.records(tx)]
    return transactions, lines


def assert_rate(observed: int, n: int, p: float, what: str) -> None:
    se = math.sqrt(p * (1 - p) / n)
    assert abs(observed / n - p) <= 5 * se, f"{what}: {observed / n:.5f} vs expected {p} (5 se = {5 * se:.5f})"


def test_member_rate(big_run: tuple) -> None:
    transactions, _ = big_run
    assert_rate(sum(tx.is_member for tx in transactions), len(transactions), 0.3, "members")


def test_items_per_transaction(big_run: tuple) -> None:
    transactions, _ = big_run
    counts = Counter(len(tx.lines) for tx in transactions)
    assert set(counts) == {1, 2, 3}
    for items, p in ((1, 0.65), (2, 0.25), (3, 0.10)):
        assert_rate(counts[items], len(transactions), p, f"{items} items")


def test_quantities(big_run: tuple) -> None:
    _, lines = big_run
    counts = Counter(line["quantity"] for line in lines)
    assert set(counts) == {1, 2, 3}
    for quantity, p in ((1, 0.80), (2, 0.167), (3, 0.033)):
        assert_rate(counts[quantity], len(lines), p, f"quantity {quantity}")


def test_supplement_rates_by_category(big_run: tuple) -> None:
    _, lines = big_run
    boosted = [line for line in lines if line["product_id"][:2] in ("SF", "SC")]
    others = [line for line in lines if line["product_id"][:2] in ("CS", "IS")]
    assert len(boosted) + len(others) == len(lines)
    assert_rate(sum(line["add_supplements"] for line in boosted), len(boosted), 0.5, "SF/SC supplements")
    assert_rate(sum(line["add_supplements"] for line in others), len(others), 0.2, "other supplements")
    for line in lines:
        assert line["supplement_price"] == (1.99 if line["add_supplements"] else 0.0)


def test_product_shares_follow_the_nearest_propensity_draw(big_run: tuple, catalogue: Catalogue) -> None:
    _, lines = big_run
    # Brute force: each integer of [3, 200] goes to the nearest propensity, the lower one on a tie.
    expected: Counter[str] = Counter()
    for draw in range(3, 201):
        nearest = min(catalogue.products, key=lambda p: (abs(p.propensity_to_buy - draw), p.propensity_to_buy))
        expected[nearest.product_id] += 1
    assert expected["CS01"] == 2 and expected["IS04"] == 4  # 3,4 -> CS01; 197..200 -> IS04 (196 ties to IS03)
    observed = Counter(line["product_id"] for line in lines)
    assert set(observed) == set(expected)
    for product_id, draws in expected.items():
        assert_rate(observed[product_id], len(lines), draws / 198, product_id)


def test_total_purchase_formula(big_run: tuple) -> None:
    _, lines = big_run
    for line in lines:
        discount = 0.10 if line["is_member"] else 0.0
        assert line["member_discount"] == discount
        raw = line["quantity"] * (line["price"] + line["supplement_price"]) * (1 - discount)
        assert line["total_purchase"] == round(raw, 2)
    # Hand-checked lines of the recorded sample (tests/data/sample_date_new.json).
    samples = {(r["product_id"], r["quantity"], r["is_member"], r["add_supplements"]): r["total_purchase"] for r in lines}
    assert samples[("SF05", 1, True, True)] == 7.18
    assert samples[("SF07", 1, False, True)] == 7.98
    assert samples[("CS08", 3, True, False)] == 13.47  # 3 * 4.99 * 0.9 = 13.473


def test_lines_of_a_transaction_share_time_id_and_membership(big_run: tuple) -> None:
    transactions, lines = big_run
    by_id: dict[str, list[dict]] = {}
    for line in lines:
        by_id.setdefault(line["transaction_id"], []).append(line)
    assert len(by_id) == len(transactions)  # ids are unique per transaction
    for tx_lines in by_id.values():
        assert [line["line_number"] for line in tx_lines] == list(range(1, len(tx_lines) + 1))
        assert len({(line["transaction_time"], line["is_member"]) for line in tx_lines}) == 1
        assert tx_lines[0]["transaction_id"].isdigit()


def _simulate_restocks(catalogue: Catalogue, transactions: list, floor: int, amount: int) -> list[tuple]:
    levels = {p.product_id: p.inventory for p in catalogue.products}
    events = []
    for tx in transactions:
        for index, quantity, _ in tx.lines:
            product_id = catalogue.products[index].product_id
            levels[product_id] -= quantity
            if levels[product_id] <= floor:
                events.append((tx.transaction_time, product_id, levels[product_id], amount, levels[product_id] + amount))
                levels[product_id] += amount
    return events


@pytest.mark.parametrize(("floor", "amount"), [(10, 15), (30, 4)])
def test_inventory_falls_by_quantity_and_restocks(config: GeneratorConfig, catalogue: Catalogue, floor: int,
                                                 amount: int) -> None:
    model = _model(replace(config, min_inventory=floor, restock_amount=amount), catalogue, seed=5)
    transactions = [model.next_transaction() for _ in range(5_000)]
    emitted = [tuple(r.values()) for tx in transactions for r in tx.restocks]
    assert emitted == _simulate_restocks(catalogue, transactions, floor, amount)
    assert len(emitted) > 100
    for event in emitted:
        assert event[2] <= floor and event[4] == event[2] + amount
    assert all(level > floor for level in model.inventory)
    # The catalogue published later carries the current levels.
    assert [e["inventory_level"] for e in model.catalogue_events()] == model.inventory


def test_restock_event_schema(config: GeneratorConfig, catalogue: Catalogue) -> None:
    model = _model(config, catalogue)
    restock = next(r for _ in range(10_000) for r in model.next_transaction().restocks)
    assert list(restock) == ["event_time", "product_id", "existing_level", "stock_quantity", "new_level"]


def test_encoded_lines_are_the_records_as_json(config: GeneratorConfig, catalogue: Catalogue) -> None:
    model, encoder = _model(config, catalogue), PurchaseEncoder(config, catalogue)
    for _ in range(3_000):
        tx = model.next_transaction()
        records = encoder.records(tx)
        encoded = encoder.encode(tx)
        assert encoded == [json.dumps(r, separators=(",", ":")).encode() for r in records]
        assert all(list(json.loads(value)) == field_names(PURCHASE) for value in encoded)


def _fingerprint(config: GeneratorConfig, catalogue: Catalogue, seed: int) -> list[bytes]:
    model, encoder = _model(config, catalogue, seed), PurchaseEncoder(config, catalogue)
    out = []
    for _ in range(500):
        model.clock.advance(model.draw_interval())
        out.extend(encoder.encode(model.next_transaction()))
    return out


def test_same_seed_same_sales_different_seed_different_sales(config: GeneratorConfig, catalogue: Catalogue) -> None:
    first = _fingerprint(config, catalogue, 99)
    assert first == _fingerprint(config, catalogue, 99)
    assert first != _fingerprint(config, catalogue, 100)


def test_same_seed_same_ids_in_another_process(config: GeneratorConfig, catalogue: Catalogue) -> None:
    """Transaction ids come from the seeded RNG, not from hash() (salted per process)."""
    code = (
        "from datetime import datetime, UTC\n"
        "from streamstack.generator import *\n"
        "c = load_config(environ={}); cat = load_catalogue(c.catalogue_file)\n"
        "m = SalesModel(c, cat, 99, clock=VirtualClock(datetime(2024, 3, 1, 9, 0, tzinfo=UTC)))\n"
        "print(','.join(m.next_transaction().transaction_id for _ in range(50)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"})
    model = _model(config, catalogue, 99)
    assert out.stdout.strip().split(",") == [model.next_transaction().transaction_id for _ in range(50)]


def test_timestamp_formatter_matches_the_events_format() -> None:
    fmt = TimestampFormatter()
    for micros in (0, 1_700_000_000_000_001, 1_700_000_000_999_999, 1_700_000_001_000_000, 1_709_283_600_123_456):
        moment = datetime.fromtimestamp(micros // 1_000_000, UTC).replace(microsecond=micros % 1_000_000)
        assert fmt(micros) == format_timestamp(moment)
    assert len(fmt(1_700_000_000_000_000)) == 26
