"""Trigger-form params checked again by the task, with a message naming the param.

The form enforces the JSON schema of each ``Param`` (minimum, exclusiveMinimum, enum...), but a
run can also come from the REST API, the CLI or an old run's conf; and some rules depend on the
mode (``speed`` only matters in realistic mode, ``interval`` only in continuous mode), which the
form cannot express. A bad param fails the task with ``AirflowFailException``: no retry, since
the same params would fail again.
"""

from __future__ import annotations

import re
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

GENERATOR_MODES = ("realistic", "load")
MAX_TRANSACTIONS = 10_000_000
MAX_SPEED = 1000.0
#: A simulated run's speed divides simulated time (3600 = an hour of the shop a second).
MAX_SIMULATED_SPEED = 1_000_000.0
#: Spark's processing-time trigger intervals the jobs accept ("1 second", "500 milliseconds", ...).
INTERVAL = re.compile(r"^\s*\d+(\.\d+)?\s*(ms|milliseconds?|seconds?|minutes?|hours?)\s*$")


def _blank(value: Any) -> bool:
    """Templated fields render a missing value as "None" (or "" from an emptied form field)."""
    return value is None or (isinstance(value, str) and value.strip() in ("", "None", "null"))


def _fail(name: str, value: Any, rule: str) -> AirflowFailException:
    return AirflowFailException(f"param {name}={value!r}: {rule}")


def _number(name: str, value: Any, kind: type) -> Any:
    if isinstance(value, bool) or _blank(value):
        raise _fail(name, value, f"must be a{'n integer' if kind is int else ' number'}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _fail(name, value, f"must be a{'n integer' if kind is int else ' number'}") from None
    if kind is int:
        if number != int(number):
            raise _fail(name, value, "must be a whole number")
        return int(number)
    return number


def sales_params(params: dict[str, Any] | None, *, max_speed: float = MAX_SPEED) -> dict[str, Any]:
    """The generator's keyword arguments from a trigger form (transactions, mode, seed, speed).

    Values may be rendered templates ("500", "None"). ``transactions`` may be absent (the
    generator's ``number_of_sales``, or a duration, decides); given, it is 1 to 10,000,000.
    ``speed`` is required (above 0, at most ``max_speed``) in realistic mode only; optional otherwise.
    """
    p = params or {}
    transactions = None
    if not _blank(p.get("transactions")):
        transactions = _number("transactions", p.get("transactions"), int)
        if not 1 <= transactions <= MAX_TRANSACTIONS:
            raise _fail("transactions", p.get("transactions"), f"must be between 1 and {MAX_TRANSACTIONS:,}")
    mode = str(p.get("mode") or "realistic")
    if mode not in GENERATOR_MODES:
        raise _fail("mode", mode, f"must be one of {', '.join(GENERATOR_MODES)}")
    seed = None if _blank(p.get("seed")) else _number("seed", p.get("seed"), int)
    speed = p.get("speed")
    if mode == "realistic":
        if _blank(speed):
            raise _fail("speed", speed, f"is required in realistic mode (above 0, at most {max_speed:g}; 1 = real time)")
        speed = _number("speed", speed, float)
        if not 0 < speed <= max_speed:
            raise _fail("speed", p.get("speed"), f"must be above 0 and at most {max_speed:g} (1 = real time)")
    elif _blank(speed):
        speed = 1.0  # load mode does not pause; only a simulated run's clock uses a given speed
    else:
        speed = _number("speed", speed, float)
        if not 0 < speed <= max_speed:
            raise _fail("speed", p.get("speed"), f"must be above 0 and at most {max_speed:g}")
    return {"transactions": transactions, "mode": mode, "seed": seed, "speed": speed}


def spark_interval(mode: str, interval: Any) -> str:
    """The processing-time trigger of continuous mode; required (and checked) only in that mode."""
    if mode != "continuous":
        return str(interval or "1 second")
    if interval is None or not str(interval).strip():
        raise _fail("interval", interval, "is required in continuous mode, e.g. '1 second' or '500 milliseconds'")
    if not INTERVAL.match(str(interval)):
        raise _fail("interval", interval, "must be a number and a unit, e.g. '1 second', '500 milliseconds', '2 minutes'")
    return str(interval).strip()
