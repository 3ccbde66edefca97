"""Event schemas only change compatibly: records already on the topics and in Pinot stay valid.

``config/schemas.lock.json`` records the schemas as released. An edit of ``streamstack/events.py``
that is compatible (a new field at the end that is nullable or declares a default) passes once the
lock is regenerated; an incompatible one (a field removed, renamed, retyped, moved, or a new
required field) fails here, whatever the lock says.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from streamstack import events

LOCK = Path(__file__).resolve().parents[2] / "config" / "schemas.lock.json"


def _current() -> dict[str, list[dict]]:
    return {name: events.describe(schema) for name, schema in events.SCHEMAS.items()}


def test_the_schemas_are_compatible_with_the_lock_and_recorded_in_it() -> None:
    lock = json.loads(LOCK.read_text(encoding="utf-8"))
    current = _current()
    assert set(lock) <= set(current), f"event schemas removed: {set(lock) - set(current)}"
    for name, old in lock.items():
        assert events.incompatible_changes(old, current[name]) == [], name
    assert lock == current, ("a compatible schema change is not recorded: regenerate config/schemas.lock.json "
                             "from streamstack.events.describe")


@pytest.mark.parametrize(("edit", "why"), [
    (lambda s: s.pop(2), "removed, renamed or moved"),
    (lambda s: s[1].update(name="txn_id"), "removed, renamed or moved"),
    (lambda s: s[2].update(type="long"), "changed type"),
    (lambda s: s.insert(0, {"name": "store_id", "type": "string", "nullable": True}), "removed, renamed or moved"),
    (lambda s: s.append({"name": "store_id", "type": "string", "nullable": False}), "is required"),
])
def test_incompatible_edits_are_refused(edit, why: str) -> None:
    old = _current()["purchases"]
    new = copy.deepcopy(old)
    edit(new)
    problems = events.incompatible_changes(old, new)
    assert problems and why in problems[0], problems


def test_compatible_edits_pass() -> None:
    old = _current()["purchases_enriched"]
    without = [f for f in old if f["name"] != "identity_derived"]
    assert events.incompatible_changes(without, old) == []  # identity_derived was added with a default
    assert events.incompatible_changes(old, [*old, {"name": "store_id", "type": "string", "nullable": True}]) == []
    assert events.incompatible_changes(old, [*old[:-1], {**old[-1], "nullable": True}]) == []
    required = [*without, {"name": "identity_derived", "type": "boolean", "nullable": False}]
    assert events.incompatible_changes(without, required)  # the same field without its default is refused
