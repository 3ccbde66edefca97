"""The shop's life, as settings: opening hours, volume profiles, supply, anomalies, price changes.

The ``shop`` section of ``config/generator.yaml`` parsed as strictly as the rest of the file: an
unknown key, a wrong type or an impossible value (a closing time before the opening, 23 hourly
weights) is a ``ConfigError`` naming the file and the dotted key (``shop.profiles.cafe.hour_weights``).
Only a simulated run (``--days``) uses these settings; without one the generator behaves as before.

Times are UTC. Dated entries (anomalies, price changes) are placed by ``day`` (0 = the run's start
date) or by an absolute ``date``, plus ``start``/``time`` as ``HH:MM``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from streamstack.errors import ConfigError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ANOMALY_KINDS = ("storm", "outage", "promotion", "supply")
RANDOM_KINDS = ("storm", "outage", "promotion")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_RANGE = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


@dataclass(frozen=True)
class Profile:
    """A week's shape: open minutes per weekday and relative volume per hour and per weekday."""

    name: str
    transactions_per_hour: float
    #: Per weekday (Monday first): (opening minute, closing minute) of the day, or None = closed.
    opening_hours: tuple[tuple[int, int] | None, ...]
    hour_weights: tuple[float, ...]
    weekday_weights: tuple[float, ...]

    def hourly_rate(self, weekday: int, hour: int) -> float:
        """Expected transactions in a full open hour ``hour`` of ``weekday`` (0 = Monday), no anomaly."""
        return self.transactions_per_hour * self.hour_weights[hour] * self.weekday_weights[weekday]


@dataclass(frozen=True)
class Anomaly:
    """A dated (or drawn) episode. ``factor`` multiplies volume (promotion: of its category only)."""

    kind: str
    start_minute: int
    hours: float
    day: int | None = None
    date: date | None = None
    factor: float = 1.0
    category: str | None = None
    discount: float = 0.0
    recovery_hours: float = 0.0
    recovery_factor: float = 1.0


@dataclass(frozen=True)
class RandomAnomaly:
    """How often an anomaly kind is drawn at random (by the run's seed) and its ranges."""

    per_week: float = 0.0
    hours: tuple[float, float] = (2.0, 6.0)
    factor: tuple[float, float] = (1.0, 1.0)
    discounts: tuple[float, ...] = ()
    recovery_hours: float = 0.0
    recovery_factor: float = 1.0


@dataclass(frozen=True)
class PriceChange:
    """A new price and/or COGS for one product or a whole category, from a moment on."""

    minute: int
    day: int | None = None
    date: date | None = None
    product_id: str | None = None
    category: str | None = None
    price: float | None = None
    cogs: float | None = None


@dataclass(frozen=True)
class Supply:
    """Reorder ``order_quantity`` when stock falls to ``reorder_point``; it arrives ``lead_time_hours`` later."""

    reorder_point: int = 12
    order_quantity: int = 40
    lead_time_hours: float = 20.0


def _default_profiles() -> dict[str, Profile]:
    return {"cafe": Profile(
        name="cafe",
        transactions_per_hour=40.0,
        opening_hours=((420, 1140),) * 5 + ((480, 1140), (540, 1020)),
        hour_weights=(0, 0, 0, 0, 0, 0, 0, 0.8, 1.6, 1.3, 1.0, 1.1, 1.8, 1.5, 1.0, 0.9, 1.1, 1.3, 0.9, 0, 0, 0, 0, 0),
        weekday_weights=(0.9, 0.9, 1.0, 1.0, 1.2, 1.4, 1.1),
    )}


@dataclass(frozen=True)
class ShopConfig:
    """The ``shop`` section: what a simulated run of ``days`` days does."""

    start_date: date = date(2026, 1, 5)
    profile: str = "cafe"
    profiles: dict[str, Profile] = field(default_factory=_default_profiles)
    supply: Supply = field(default_factory=Supply)
    anomalies: tuple[Anomaly, ...] = ()
    random_anomalies: dict[str, RandomAnomaly] = field(default_factory=dict)
    price_changes: tuple[PriceChange, ...] = ()

    def promotion_discounts(self) -> tuple[float, ...]:
        """Every discount a promotion can give (dated ones and those random ones draw from)."""
        found = [a.discount for a in self.anomalies if a.kind == "promotion"]
        promo = self.random_anomalies.get("promotion")
        if promo is not None:
            found.extend(promo.discounts)
        return tuple(sorted(set(found)))


def publishable_values(shop: ShopConfig, products: Any) -> dict[str, dict[str, set[float]]]:
    """Per product id, every price and every COGS a version of it can carry (catalogue + price changes).

    What a checker of enriched purchases compares ``product_price``/``product_cogs`` with: the
    version in force at a purchase's time is one of these, whatever the run's start date.
    """
    out = {p.product_id: {"price": {p.price}, "cogs": {p.cogs}} for p in products}
    for change in shop.price_changes:
        for p in products:
            if p.product_id == change.product_id or p.category == change.category:
                if change.price is not None:
                    out[p.product_id]["price"].add(change.price)
                if change.cogs is not None:
                    out[p.product_id]["cogs"].add(change.cogs)
    return out


def line_discount(member_discount: float, promotion: float, is_member: bool) -> float:
    """A promoted line's discount: the promotion's, or the member discount if that is larger."""
    return round(max(member_discount, promotion), 4) if is_member else round(promotion, 4)


# ------------------------------------------------------------------------------------ parsing
class _Parser:
    def __init__(self, file: Path | str) -> None:
        self.file = file

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(message, file=self.file, key=key)

    def mapping(self, raw: Any, key: str, known: set[str], required: set[str] = frozenset()) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self.fail(key, f"{raw!r} is not a mapping")
        unknown = sorted(str(k) for k in set(raw) - known)
        if unknown:
            raise self.fail(f"{key}.{unknown[0]}", f"unknown setting (known: {', '.join(sorted(known))})")
        missing = sorted(required - set(raw))
        if missing:
            raise self.fail(f"{key}.{missing[0]}", "is required")
        return raw

    def number(self, raw: Any, key: str, minimum: float = 0.0, maximum: float = math.inf,
               above: bool = False) -> float:
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            raise self.fail(key, f"{raw!r} is not a number")
        if raw < minimum or raw > maximum or (above and raw == minimum):
            bound = f"above {minimum}" if above else f"within [{minimum}, {maximum}]"
            raise self.fail(key, f"{raw} is not {bound}")
        return float(raw)

    def integer(self, raw: Any, key: str, minimum: int = 0) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise self.fail(key, f"{raw!r} is not an integer")
        if raw < minimum:
            raise self.fail(key, f"{raw} is below the minimum {minimum}")
        return raw

    def text(self, raw: Any, key: str) -> str:
        if not isinstance(raw, str) or not raw.strip():
            raise self.fail(key, f"{raw!r} is not a non-empty string")
        return raw

    def hhmm(self, raw: Any, key: str) -> int:
        match = _HHMM.match(str(raw)) if isinstance(raw, str) else None
        if not match:
            raise self.fail(key, f"{raw!r} is not a time HH:MM (00:00-23:59)")
        return int(match[1]) * 60 + int(match[2])

    def day_date(self, raw: dict[str, Any], key: str) -> tuple[int | None, date | None]:
        if ("day" in raw) == ("date" in raw):
            raise self.fail(key, "needs exactly one of `day` (0 = the start date) or `date` (YYYY-MM-DD)")
        if "day" in raw:
            return self.integer(raw["day"], f"{key}.day"), None
        value = raw["date"]
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                raise self.fail(f"{key}.date", f"{value!r} is not a date YYYY-MM-DD") from None
        if not isinstance(value, date):
            raise self.fail(f"{key}.date", f"{value!r} is not a date YYYY-MM-DD")
        return None, value

    def pair(self, raw: Any, key: str, minimum: float = 0.0, above: bool = False) -> tuple[float, float]:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            raw = [raw, raw]
        if not isinstance(raw, list) or len(raw) != 2:
            raise self.fail(key, f"{raw!r} is not a [min, max] pair")
        low = self.number(raw[0], f"{key}[0]", minimum, above=above)
        high = self.number(raw[1], f"{key}[1]", minimum, above=above)
        if low > high:
            raise self.fail(key, f"{low} is above {high}")
        return low, high

    # -- sections
    def profile(self, name: str, raw: Any, key: str) -> Profile:
        m = self.mapping(raw, key, {"transactions_per_hour", "opening_hours", "hour_weights", "weekday_weights"},
                         {"transactions_per_hour", "opening_hours", "hour_weights"})
        hours_raw = self.mapping(m["opening_hours"], f"{key}.opening_hours", set(WEEKDAYS), set(WEEKDAYS))
        opening: list[tuple[int, int] | None] = []
        for day in WEEKDAYS:
            value = hours_raw[day]
            k = f"{key}.opening_hours.{day}"
            if value is None or value == "closed":
                opening.append(None)
                continue
            match = _RANGE.match(value) if isinstance(value, str) else None
            if not match:
                raise self.fail(k, f"{value!r} is not HH:MM-HH:MM or closed")
            begin, end = int(match[1]) * 60 + int(match[2]), int(match[3]) * 60 + int(match[4])
            if end > 1440 or begin >= end:
                raise self.fail(k, f"{value!r}: the shop must open before it closes, within the day")
            opening.append((begin, end))
        weights = m["hour_weights"]
        if not isinstance(weights, list) or len(weights) != 24:
            raise self.fail(f"{key}.hour_weights", "needs 24 relative weights, hour 0 to 23")
        hour_weights = tuple(self.number(w, f"{key}.hour_weights[{i}]") for i, w in enumerate(weights))
        weekday_raw = self.mapping(m.get("weekday_weights", {d: 1.0 for d in WEEKDAYS}), f"{key}.weekday_weights",
                                   set(WEEKDAYS))
        weekday = tuple(self.number(weekday_raw.get(d, 1.0), f"{key}.weekday_weights.{d}") for d in WEEKDAYS)
        return Profile(name, self.number(m["transactions_per_hour"], f"{key}.transactions_per_hour", above=True),
                       tuple(opening), hour_weights, weekday)

    def anomaly(self, raw: Any, key: str) -> Anomaly:
        m = self.mapping(raw, key, {"kind", "day", "date", "start", "hours", "factor", "category", "discount",
                                    "recovery_hours", "recovery_factor"}, {"kind", "start", "hours"})
        kind = m["kind"]
        if kind not in ANOMALY_KINDS:
            raise self.fail(f"{key}.kind", f"{kind!r} is not one of {', '.join(ANOMALY_KINDS)}")
        day, when = self.day_date(m, key)
        allowed = {"storm": {"factor"}, "outage": {"recovery_hours", "recovery_factor"},
                   "promotion": {"factor", "category", "discount"}, "supply": {"category"}}[kind]
        extra = sorted(set(m) - allowed - {"kind", "day", "date", "start", "hours"})
        if extra:
            raise self.fail(f"{key}.{extra[0]}", f"is not a setting of a {kind} anomaly")
        if kind in ("promotion", "supply") and "category" not in m:
            raise self.fail(f"{key}.category", f"a {kind} anomaly needs a product category")
        if kind == "promotion" and "discount" not in m:
            raise self.fail(f"{key}.discount", "a promotion needs a discount (0 = none)")
        factor = 1.0
        if "factor" in m:
            factor = self.number(m["factor"], f"{key}.factor", 0.0, 1.0 if kind == "storm" else math.inf)
            if kind == "promotion" and factor < 1.0:
                raise self.fail(f"{key}.factor", f"{factor} is below 1: a promotion raises volume")
        return Anomaly(
            kind=kind, start_minute=self.hhmm(m["start"], f"{key}.start"),
            hours=self.number(m["hours"], f"{key}.hours", above=True), day=day, date=when, factor=factor,
            category=self.text(m["category"], f"{key}.category") if "category" in m else None,
            discount=self.number(m.get("discount", 0.0), f"{key}.discount", 0.0, 0.99),
            recovery_hours=self.number(m.get("recovery_hours", 0.0), f"{key}.recovery_hours"),
            recovery_factor=self.number(m.get("recovery_factor", 1.0), f"{key}.recovery_factor", 1.0),
        )

    def random_anomaly(self, kind: str, raw: Any, key: str) -> RandomAnomaly:
        known = {"per_week", "hours", "factor", "discounts", "recovery_hours", "recovery_factor"}
        allowed = {"storm": {"per_week", "hours", "factor"}, "outage": {"per_week", "hours", "recovery_hours",
                   "recovery_factor"}, "promotion": {"per_week", "hours", "factor", "discounts"}}[kind]
        m = self.mapping(raw, key, known, {"per_week"})
        extra = sorted(set(m) - allowed)
        if extra:
            raise self.fail(f"{key}.{extra[0]}", f"is not a setting of a random {kind}")
        factor = self.pair(m.get("factor", [1.0, 1.0]), f"{key}.factor")
        if kind == "storm" and factor[1] > 1.0:
            raise self.fail(f"{key}.factor", "a storm's factor is at most 1")
        if kind == "promotion" and factor[0] < 1.0:
            raise self.fail(f"{key}.factor", "a promotion's factor is at least 1")
        discounts = m.get("discounts", [])
        if kind == "promotion" and (not isinstance(discounts, list) or not discounts):
            raise self.fail(f"{key}.discounts", "a random promotion needs a list of discounts to draw from")
        return RandomAnomaly(
            per_week=self.number(m["per_week"], f"{key}.per_week", 0.0, 7.0),
            hours=self.pair(m.get("hours", [2.0, 6.0]), f"{key}.hours", above=True), factor=factor,
            discounts=tuple(self.number(d, f"{key}.discounts[{i}]", 0.0, 0.99) for i, d in enumerate(discounts)),
            recovery_hours=self.number(m.get("recovery_hours", 0.0), f"{key}.recovery_hours"),
            recovery_factor=self.number(m.get("recovery_factor", 1.0), f"{key}.recovery_factor", 1.0),
        )

    def price_change(self, raw: Any, key: str) -> PriceChange:
        m = self.mapping(raw, key, {"day", "date", "time", "product_id", "category", "price", "cogs"}, {"time"})
        day, when = self.day_date(m, key)
        if ("product_id" in m) == ("category" in m):
            raise self.fail(key, "needs exactly one of `product_id` or `category`")
        if "price" not in m and "cogs" not in m:
            raise self.fail(key, "needs a new `price`, a new `cogs` or both")
        return PriceChange(
            minute=self.hhmm(m["time"], f"{key}.time"), day=day, date=when,
            product_id=self.text(m["product_id"], f"{key}.product_id") if "product_id" in m else None,
            category=self.text(m["category"], f"{key}.category") if "category" in m else None,
            price=self.number(m["price"], f"{key}.price", above=True) if "price" in m else None,
            cogs=self.number(m["cogs"], f"{key}.cogs", above=True) if "cogs" in m else None,
        )

    def shop(self, raw: Any) -> ShopConfig:
        key = "shop"
        m = self.mapping(raw, key, {"start_date", "profile", "profiles", "supply", "anomalies", "random_anomalies",
                                    "price_changes"})
        out: dict[str, Any] = {}
        if "start_date" in m:
            _, out["start_date"] = self.day_date({"date": m["start_date"]}, key)
            out["start_date"] = out["start_date"] or ShopConfig.start_date
        if "profiles" in m:
            profiles = self.mapping(m["profiles"], f"{key}.profiles", set(m["profiles"] or {}))
            if not profiles:
                raise self.fail(f"{key}.profiles", "needs at least one profile")
            out["profiles"] = {str(n): self.profile(str(n), p, f"{key}.profiles.{n}") for n, p in profiles.items()}
        profile = m.get("profile", ShopConfig.profile)
        names = out.get("profiles") or _default_profiles()
        if profile not in names:
            raise self.fail(f"{key}.profile", f"{profile!r} is not a profile (known: {', '.join(names)})")
        out["profile"] = profile
        if "supply" in m:
            s = self.mapping(m["supply"], f"{key}.supply", {"reorder_point", "order_quantity", "lead_time_hours"})
            out["supply"] = Supply(
                reorder_point=self.integer(s.get("reorder_point", Supply.reorder_point), f"{key}.supply.reorder_point"),
                order_quantity=self.integer(s.get("order_quantity", Supply.order_quantity),
                                            f"{key}.supply.order_quantity", 1),
                lead_time_hours=self.number(s.get("lead_time_hours", Supply.lead_time_hours),
                                            f"{key}.supply.lead_time_hours"),
            )
        anomalies = m.get("anomalies") or []
        if not isinstance(anomalies, list):
            raise self.fail(f"{key}.anomalies", "must be a list")
        out["anomalies"] = tuple(self.anomaly(a, f"{key}.anomalies[{i}]") for i, a in enumerate(anomalies))
        randoms = self.mapping(m.get("random_anomalies") or {}, f"{key}.random_anomalies", set(RANDOM_KINDS))
        out["random_anomalies"] = {k: self.random_anomaly(k, v, f"{key}.random_anomalies.{k}")
                                   for k, v in randoms.items()}
        changes = m.get("price_changes") or []
        if not isinstance(changes, list):
            raise self.fail(f"{key}.price_changes", "must be a list")
        out["price_changes"] = tuple(self.price_change(c, f"{key}.price_changes[{i}]") for i, c in enumerate(changes))
        return ShopConfig(**out)


def parse_shop(raw: Any, file: Path | str) -> ShopConfig:
    """Validate the ``shop`` section read from ``file``."""
    return _Parser(file).shop(raw if raw is not None else {})
