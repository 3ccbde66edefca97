"""Each ``demo.events`` record has a deterministic id (issue #29 item 5, review §5.12).

Pinot's ``events`` table de-duplicates on it, so the documented recovery from a failed generator
run, a rerun with the same seed, must give every event the id it had, and no two different events
(nor two identical ones of the same run) may share one.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import date
from pathlib import Path

import yaml
from support.memory_sink import MemorySink

from streamstack.events import EVENT, field_names
from streamstack.generator import build_model, build_simulation, load_catalogue, run_generator
from streamstack.generator.config import parse_config
from streamstack.generator.simulation import EVENT_ID, event_id

CONFIG_FILE = Path(__file__).resolve().parents[3] / "config" / "generator.yaml"
START = date(2026, 1, 5)  # a Monday
#: Stock that runs out: lost sales and stockouts, several per product.
SHORT = {"reorder_point": 5, "order_quantity": 20, "lead_time_hours": 36}


def _events(seed: int, days: int = 3) -> list[dict]:
    data = copy.deepcopy(yaml.safe_load(CONFIG_FILE.read_text()))
    data["shop"]["supply"] = SHORT
    config = parse_config(data, CONFIG_FILE, environ={})
    model = build_model(config, load_catalogue(config.catalogue_file), seed)
    sink = MemorySink()
    run_generator(model, sink, simulation=build_simulation(model, days, START))
    return sink.events()


def _id(event: dict) -> str:
    return json.loads(event["details"])[EVENT_ID]


def test_a_same_seed_rerun_gives_every_event_the_same_id_and_the_ids_are_unique() -> None:
    one, two = _events(42), _events(42)
    assert one == two and len(one) > 100
    ids = [_id(e) for e in one]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert len(set(ids)) == len(ids)
    kinds = {e["event_type"] for e in one}
    assert {"lost_sale", "stockout", "restock", "store_open"} <= kinds
    for event in one:
        assert list(event) == field_names(EVENT)  # the record's fields are unchanged: the id is in details


def test_another_seed_gives_other_ids_to_other_events() -> None:
    one, other = _events(42), _events(43)
    ids = {_id(e): e for e in one}
    shared = [e for e in other if _id(e) in ids]
    # Only events that say exactly the same share an id: the store opening at 07:00, the configured
    # anomalies and price changes; never the shortages, which the seed draws.
    assert all(e == ids[_id(e)] for e in shared)
    assert not [e for e in shared if e["event_type"] in ("lost_sale", "stockout", "restock")]
    assert len(shared) < len(other) / 2


def test_identical_events_of_one_run_get_different_ids() -> None:
    data = yaml.safe_load(CONFIG_FILE.read_text())
    config = parse_config(data, CONFIG_FILE, environ={})
    model = build_model(config, load_catalogue(config.catalogue_file), 1)
    sim = build_simulation(model, 1, START)
    # Two lines of one transaction missing the same product by the same quantity.
    twins = [sim.event(60.0, "lost_sale", "CS01", product_id="CS01", quantity=2, transaction_id="7", available=0)
             for _ in range(3)]
    assert twins[0]["details"] != twins[1]["details"] != twins[2]["details"]
    assert len({_id(t) for t in twins}) == 3
    # The same twins in a new run get the same three ids, in the same order.
    again = build_simulation(build_model(config, load_catalogue(config.catalogue_file), 1), 1, START)
    assert [again.event(60.0, "lost_sale", "CS01", product_id="CS01", quantity=2, transaction_id="7",
                        available=0) for _ in range(3)] == twins


def test_the_id_covers_every_field_of_the_event() -> None:
    base = dict(zip(field_names(EVENT), ("2026-01-05 08:00:00.000000", "stockout", "CS01", "CS01",
                                         "Classic Smoothies", 0, None, None, "{}"), strict=True))
    first = event_id(base, 0)
    assert event_id(dict(base), 0) == first
    assert event_id(base, 1) != first
    for name, value in (("event_time", "2026-01-05 08:00:00.000001"), ("event_type", "restock"),
                        ("subject", "CS02"), ("product_id", None), ("category", "x"), ("quantity", 1),
                        ("value", 0.0), ("previous_value", 1.0), ("details", '{"a":1}')):
        assert event_id({**base, name: value}, 0) != first, name
