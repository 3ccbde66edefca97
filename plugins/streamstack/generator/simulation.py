"""A shop with a life: simulated days of opening hours, daily rhythm, anomalies, shortages and price changes.

``Simulation.run()`` yields the events of ``days`` days in event-time order, on a simulated clock
that starts at 00:00 UTC of the start date: a week takes seconds in load mode, or is paced by the
runner (simulated gaps divided by ``speed``). Everything is drawn from the run's seed.

* **Volume** is a Poisson process whose rate is piecewise constant: the profile's
  ``transactions_per_hour`` × the hour's weight × the weekday's weight while the shop is open,
  times the anomalies in force (storm: ``factor``; outage: 0, then ``recovery_factor`` for
  ``recovery_hours``). The timeline is cut at every hour, opening, closing, anomaly and price
  change, and arrivals are drawn with one exponential per transaction within each piece.
* **Promotions** multiply their category's volume by ``factor`` and give ``discount`` on its
  lines (members get the larger of their discount and the promotion's): the other categories'
  volume is unchanged, because the extra transactions only pick promoted products.
* **Supply**: a line takes what is in stock; the missing quantity is a ``lost_sale`` event, and a
  line with nothing left is no purchase at all. Stock reaching 0 is a ``stockout`` event. At the
  reorder point an order of ``order_quantity`` goes out (one per product at a time) and arrives
  ``lead_time_hours`` later as a ``restock`` event (and the compatible ``demo.inventories`` record);
  a ``supply`` anomaly holds its category's deliveries until it ends.
* **Price and COGS changes** publish a new product version on ``demo.products`` with the change's
  event time, and a ``price_change``/``cogs_change`` event; later purchases carry the new price.

Every ``demo.events`` record carries an ``event_id`` in its ``details`` (:func:`event_id`): a hash of
what the event says and of how many identical events came before it in the run. A rerun with the
same seed and settings gives the same ids (Pinot's ``events`` table de-duplicates on it); a
different event never shares one.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import random
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from streamstack.errors import ConfigError
from streamstack.events import EVENT, INVENTORY, field_names
from streamstack.generator.model import PurchaseEncoder, SalesModel, Transaction, VirtualClock
from streamstack.generator.shop import RANDOM_KINDS, Anomaly, PriceChange, Profile, ShopConfig, line_discount

EVENT_FIELDS = tuple(field_names(EVENT))
INVENTORY_FIELDS = tuple(field_names(INVENTORY))
#: What ``Simulation.run`` yields a transaction as (other items are record kinds: events, products...).
TX = "transaction"
HOUR = 3600.0
DAY = 86400.0


@dataclass(frozen=True)
class Window:
    """An anomaly placed on the simulated timeline (seconds since the start)."""

    id: str
    anomaly: Anomaly
    start: float
    end: float
    #: End of the outage's recovery bump (= ``end`` for other kinds).
    recovery_end: float


@dataclass
class Segment:
    """A piece of the timeline with one transaction rate (per second) and one set of promotions."""

    start: float
    end: float
    rate: float
    #: Cumulative pick weights over product groups, or None for the catalogue's plain pick.
    groups: list[float] | None = None
    group_picks: list[tuple[int, ...]] = field(default_factory=list)
    #: Product index -> promotion discount, for lines of promoted products.
    discounts: dict[int, float] = field(default_factory=dict)


def start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


#: The key of the event id in an event's ``details``.
EVENT_ID = "event_id"


def event_id(record: dict[str, Any], occurrence: int) -> str:
    """The id of a ``demo.events`` record: SHA-256 (first 32 hex digits) of its fields and ``occurrence``.

    ``record`` is the event without its id; ``occurrence`` counts the identical events before it in
    the run (two lines of one transaction can miss the same product by the same quantity). The id
    depends on nothing else (no clock, no counter of other events), so a same-seed rerun gives every
    event the id it had, and an event that differs in any field gets another one.
    """
    text = json.dumps([[name, record[name]] for name in EVENT_FIELDS] + [["occurrence", occurrence]],
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class Simulation:
    """The shop's ``days`` from ``start_date`` (00:00 UTC), drawn from the model's seed.

    :param model: the sales model (its RNG draws baskets, its inventory is the stock).
    :param shop: the ``shop`` settings.
    :param start_date: first simulated day (default ``shop.start_date``).
    :param days: how many days to simulate.
    :param profile: the volume profile's name (default ``shop.profile``).
    """

    def __init__(self, model: SalesModel, shop: ShopConfig, *, days: int, start_date: date | None = None,
                 profile: str | None = None) -> None:
        source = model.config.source
        if days < 1:
            raise ConfigError(f"days must be at least 1, got {days}", key="days")
        name = profile or shop.profile
        if name not in shop.profiles:
            raise ConfigError(f"profile {name!r} is not one of {', '.join(shop.profiles)}", file=source,
                              key="shop.profiles")
        self.model, self.shop, self.days = model, shop, days
        self.profile: Profile = shop.profiles[name]
        self.start_date = start_date or shop.start_date
        self.start = start_of(self.start_date)
        self.horizon = days * DAY
        if not isinstance(model.clock, VirtualClock):
            model.clock = VirtualClock(self.start)
        self.clock: VirtualClock = model.clock
        self.clock.micros = int(self.start.timestamp()) * 1_000_000
        self._start_us = self.clock.micros
        self.encoder = PurchaseEncoder(model.config, model.catalogue)
        self.products = list(model.catalogue.products)
        self.categories = sorted({p.category for p in self.products})
        self._check_references(source)
        self.windows = self._place_anomalies()
        self.changes = self._place_price_changes()
        self.segments = self._segments()
        self._arrivals = random.Random(f"{model.seed}/arrivals")
        self._pending: list[tuple[float, int, int, float]] = []  # (arrival, seq, product index, ordered at)
        self._ordered = [False] * len(self.products)
        self._seq = 0
        self._occurrences: dict[str, int] = {}
        self.counts = {"lost_sales": 0, "stockouts": 0, "restocks": 0, "price_changes": 0, "product_versions": 0}

    # -------------------------------------------------------------------------------- set-up
    def _check_references(self, source: str) -> None:
        for i, a in enumerate(self.shop.anomalies):
            if a.category is not None and a.category not in self.categories:
                raise ConfigError(f"{a.category!r} is not a category of the catalogue ({', '.join(self.categories)})",
                                  file=source, key=f"shop.anomalies[{i}].category")
        ids = {p.product_id for p in self.products}
        for i, c in enumerate(self.shop.price_changes):
            if c.product_id is not None and c.product_id not in ids:
                raise ConfigError(f"{c.product_id!r} is not in the catalogue", file=source,
                                  key=f"shop.price_changes[{i}].product_id")
            if c.category is not None and c.category not in self.categories:
                raise ConfigError(f"{c.category!r} is not a category of the catalogue", file=source,
                                  key=f"shop.price_changes[{i}].category")

    def _offset(self, day: int | None, when: date | None, minute: int) -> float:
        days = day if day is not None else (when - self.start_date).days  # type: ignore[operator]
        return days * DAY + minute * 60.0

    def _place_anomalies(self) -> list[Window]:
        placed: list[tuple[float, Anomaly]] = []
        for a in self.shop.anomalies:
            placed.append((self._offset(a.day, a.date, a.start_minute), a))
        rng = random.Random(f"{self.model.seed}/anomalies")
        for day in range(self.days):
            opening = self.profile.opening_hours[(self.start_date + timedelta(days=day)).weekday()]
            for kind in RANDOM_KINDS:
                spec = self.shop.random_anomalies.get(kind)
                if spec is None or spec.per_week <= 0 or rng.random() >= spec.per_week / 7.0 or opening is None:
                    continue
                minute = int(rng.uniform(opening[0], opening[1]))
                hours = round(rng.uniform(*spec.hours), 2)
                factor = round(rng.uniform(*spec.factor), 3)
                category = rng.choice(self.categories) if kind == "promotion" else None
                discount = rng.choice(spec.discounts) if kind == "promotion" else 0.0
                placed.append((day * DAY + minute * 60.0, Anomaly(
                    kind=kind, start_minute=minute, hours=hours, day=day, factor=factor, category=category,
                    discount=discount, recovery_hours=spec.recovery_hours, recovery_factor=spec.recovery_factor)))
        placed.sort(key=lambda p: (p[0], p[1].kind))
        windows, numbers = [], dict.fromkeys(("storm", "outage", "promotion", "supply"), 0)
        for start, a in placed:
            if start >= self.horizon or start + a.hours * HOUR <= 0:
                continue
            numbers[a.kind] += 1
            end = start + a.hours * HOUR
            recovery = end + a.recovery_hours * HOUR if a.kind == "outage" else end
            windows.append(Window(f"{a.kind}-{numbers[a.kind]}", a, start, end, recovery))
        return windows

    def _place_price_changes(self) -> list[tuple[float, PriceChange]]:
        out = [(self._offset(c.day, c.date, c.minute), c) for c in self.shop.price_changes]
        return sorted((o for o in out if 0 <= o[0] < self.horizon), key=lambda o: o[0])

    def is_open(self, t: float) -> bool:
        """Whether the shop is open at ``t`` seconds after the start."""
        day, second = divmod(t, DAY)
        opening = self.profile.opening_hours[(self.start_date + timedelta(days=int(day))).weekday()]
        return opening is not None and opening[0] * 60 <= second < opening[1] * 60

    def _opening_times(self) -> list[tuple[float, float]]:
        out = []
        for day in range(self.days):
            opening = self.profile.opening_hours[(self.start_date + timedelta(days=day)).weekday()]
            if opening is not None:
                out.append((day * DAY + opening[0] * 60.0, day * DAY + opening[1] * 60.0))
        return out

    def _segments(self) -> list[Segment]:
        cuts = {float(h) * HOUR for h in range(self.days * 24 + 1)}
        for open_, close in self._opening_times():
            cuts.update((open_, close))
        for w in self.windows:
            cuts.update((w.start, w.end, w.recovery_end))
        cuts.update(t for t, _ in self.changes)
        points = sorted(c for c in cuts if 0 <= c <= self.horizon)
        picks = self.model._pick
        share = {c: sum(1 for i in picks if self.products[i].category == c) / len(picks) for c in self.categories}
        segments = []
        for a, b in zip(points, points[1:], strict=False):
            seg = Segment(a, b, 0.0)
            if self.is_open(a):
                moment = self.start + timedelta(seconds=a)
                rate = self.profile.hourly_rate(moment.weekday(), moment.hour) / HOUR
                factors: dict[str, float] = {}
                for w in self.windows:
                    kind = w.anomaly.kind
                    if kind == "storm" and w.start <= a < w.end:
                        rate *= w.anomaly.factor
                    elif kind == "outage" and w.start <= a < w.end:
                        rate = 0.0
                    elif kind == "outage" and w.end <= a < w.recovery_end:
                        rate *= w.anomaly.recovery_factor
                    elif kind == "promotion" and w.start <= a < w.end:
                        c = w.anomaly.category or ""
                        factors[c] = max(factors.get(c, 1.0), w.anomaly.factor)
                        for index, p in enumerate(self.products):
                            if p.category == c:
                                seg.discounts[index] = max(seg.discounts.get(index, 0.0), w.anomaly.discount)
                if factors and rate > 0:
                    weights = [share[c] * factors.get(c, 1.0) for c in self.categories]
                    total = sum(weights)
                    rate *= total
                    cumulative, running = [], 0.0
                    for weight in weights[:-1]:
                        running += weight / total
                        cumulative.append(running)
                    seg.groups = cumulative
                    seg.group_picks = [tuple(i for i in picks if self.products[i].category == c) or picks
                                       for c in self.categories]
                seg.rate = rate
            segments.append(seg)
        return segments

    # ---------------------------------------------------------------------------------- events
    def _time(self, t: float) -> str:
        self.clock.micros = self._start_us + round(t * 1_000_000)
        return self.model.now()

    def event(self, t: float, event_type: str, subject: str, *, product_id: str | None = None,
              category: str | None = None, quantity: int | None = None, value: float | None = None,
              previous_value: float | None = None, **details: Any) -> dict[str, Any]:
        """A ``demo.events`` record at ``t`` seconds after the start, its :func:`event_id` in ``details``."""
        if EVENT_ID in details:
            raise ValueError(f"{EVENT_ID!r} is set by the simulation, not passed in details")
        text = json.dumps(details, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        record = dict(zip(EVENT_FIELDS, (self._time(t), event_type, subject, product_id, category, quantity, value,
                                         previous_value, text), strict=True))
        content = event_id(record, 0)
        occurrence = self._occurrences.get(content, 0)
        self._occurrences[content] = occurrence + 1
        details[EVENT_ID] = content if occurrence == 0 else event_id(record, occurrence)
        record["details"] = json.dumps(details, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return record

    def _static(self) -> list[tuple[float, int, list[tuple[str, dict[str, Any]]]]]:
        """Store hours and anomaly boundaries, as (time, order, records) built lazily at that time."""
        items: list[tuple[float, int, str, Any]] = []
        for open_, close in self._opening_times():
            items.append((open_, 1, "store_open", None))
            items.append((close, 0, "store_close", None))
        for w in self.windows:
            items.append((w.start, 2, "start", w))
            items.append((w.recovery_end if w.anomaly.kind == "outage" else w.end, 0, "end", w))
        for t, change in self.changes:
            items.append((t, 3, "change", change))
        return sorted((i for i in items if i[0] <= self.horizon), key=lambda i: (i[0], i[1]))

    def _static_records(self, t: float, what: str, item: Any) -> list[tuple[str, dict[str, Any]]]:
        if what in ("store_open", "store_close"):
            day = (self.start + timedelta(seconds=t)).strftime("%A").lower()
            return [("events", self.event(t, what, "store", profile=self.profile.name, weekday=day))]
        if what in ("start", "end"):
            w: Window = item
            a = w.anomaly
            kind = "promotion" if a.kind == "promotion" else "anomaly"
            details = {"kind": a.kind, "starts": self._time(w.start), "ends": self._time(w.end), "hours": a.hours}
            if a.kind in ("storm", "promotion"):
                details["factor"] = a.factor
            if a.kind == "outage":
                details.update(recovery_hours=a.recovery_hours, recovery_factor=a.recovery_factor,
                               recovery_ends=self._time(w.recovery_end))
            if a.kind == "promotion":
                details["discount"] = a.discount
            return [("events", self.event(t, f"{kind}_{what}", w.id, category=a.category,
                                          value=a.discount if a.kind == "promotion" else a.factor, **details))]
        return self._apply_change(t, item)

    def _apply_change(self, t: float, change: PriceChange) -> list[tuple[str, dict[str, Any]]]:
        out: list[tuple[str, dict[str, Any]]] = []
        for index, product in enumerate(self.products):
            if product.product_id != change.product_id and product.category != change.category:
                continue
            new = replace(product, price=change.price if change.price is not None else product.price,
                          cogs=change.cogs if change.cogs is not None else product.cogs)
            if new == product:
                continue
            for name, old_value, new_value in (("price", product.price, new.price), ("cogs", product.cogs, new.cogs)):
                if old_value != new_value:
                    out.append(("events", self.event(t, f"{name}_change", product.product_id,
                                                     product_id=product.product_id, category=product.category,
                                                     value=new_value, previous_value=old_value)))
                    self.counts["price_changes"] += 1
            self.products[index] = new
            self.encoder.reprice(index, new)
            out.append(("products", new.event(self._time(t), self.model.inventory[index])))
            self.counts["product_versions"] += 1
        return out

    def _held_until(self, index: int, t: float) -> float | None:
        category = self.products[index].category
        for w in self.windows:
            if w.anomaly.kind == "supply" and w.anomaly.category == category and w.start <= t < w.end:
                return w.end
        return None

    def _deliveries(self, until: float, inclusive: bool) -> Iterator[tuple[float, str, dict[str, Any]]]:
        pending = self._pending
        while pending and (pending[0][0] <= until if inclusive else pending[0][0] < until):
            t, _, index, ordered = heapq.heappop(pending)
            held = self._held_until(index, t)
            if held is not None:
                self._seq += 1
                heapq.heappush(pending, (held, self._seq, index, ordered))
                continue
            product = self.products[index]
            quantity = self.shop.supply.order_quantity
            level = self.model.inventory[index]
            self.model.inventory[index] = level + quantity
            self._ordered[index] = False
            self.counts["restocks"] += 1
            record = self.event(t, "restock", product.product_id, product_id=product.product_id,
                                category=product.category, quantity=quantity, existing_level=level,
                                new_level=level + quantity, ordered_at=self._time(ordered))
            yield t, "events", record
            yield t, "inventories", dict(zip(INVENTORY_FIELDS, (record["event_time"], product.product_id, level,
                                                                quantity, level + quantity), strict=True))

    def _order(self, index: int, t: float) -> None:
        self._ordered[index] = True
        self._seq += 1
        heapq.heappush(self._pending, (t + self.shop.supply.lead_time_hours * HOUR, self._seq, index, t))

    # ---------------------------------------------------------------------------- transactions
    def _transaction(self, t: float, seg: Segment) -> tuple[Transaction, list[dict[str, Any]]]:
        model = self.model
        rng = model._rng
        rand = rng.random
        pick, span = model._pick, len(model._pick)
        quantities, supplements = model._quantities, model.supplement_probabilities
        inventory, reorder = model.inventory, self.shop.supply.reorder_point
        transaction_time = self._time(t)
        transaction_id = str(rng.getrandbits(63))
        is_member = rand() < model.config.member_probability
        groups, discounts = seg.groups, seg.discounts
        lines, line_discounts, events = [], [], []
        promoted = False
        for _ in range(bisect_right(model._items, rand()) + 1):
            if groups is None:
                product = pick[int(rand() * span)]
            else:
                group = seg.group_picks[bisect_right(groups, rand())]
                product = group[int(rand() * len(group))]
            quantity = bisect_right(quantities, rand()) + 1
            supplement = rand() < supplements[product]
            level = inventory[product]
            sold = quantity if level >= quantity else level
            if sold < quantity:
                p = self.products[product]
                self.counts["lost_sales"] += 1
                events.append(self.event(t, "lost_sale", p.product_id, product_id=p.product_id, category=p.category,
                                         quantity=quantity - sold, value=round((quantity - sold) * p.price, 2),
                                         transaction_id=transaction_id, requested=quantity, available=level))
            if sold:
                level -= sold
                inventory[product] = level
                lines.append((product, sold, supplement))
                if product in discounts:
                    promoted = True
                    line_discounts.append(line_discount(model.config.member_discount, discounts[product], is_member))
                else:
                    line_discounts.append(model.config.member_discount if is_member else 0.0)
                if level == 0:
                    p = self.products[product]
                    self.counts["stockouts"] += 1
                    events.append(self.event(t, "stockout", p.product_id, product_id=p.product_id,
                                             category=p.category, quantity=0))
            if level <= reorder and not self._ordered[product]:
                self._order(product, t)
        tx = Transaction(transaction_time, transaction_id, is_member, lines, [],
                         line_discounts if promoted else None)
        return tx, events

    def run(self) -> Iterator[tuple[float, str, Any]]:
        """Yield ``(seconds since the start, kind, payload)`` in time order; ``kind`` is ``TX`` or a record kind."""
        static = self._static()
        next_static = 0
        expovariate = self._arrivals.expovariate
        for seg in self.segments:
            yield from self._deliveries(seg.start, inclusive=False)
            while next_static < len(static) and static[next_static][0] <= seg.start:
                t, _, what, item = static[next_static]
                next_static += 1
                for kind, record in self._static_records(t, what, item):
                    yield t, kind, record
            if seg.rate <= 0:
                continue
            t = seg.start
            while True:
                t += expovariate(seg.rate)
                if t >= seg.end:
                    break
                if self._pending and self._pending[0][0] <= t:
                    yield from self._deliveries(t, inclusive=True)
                tx, events = self._transaction(t, seg)
                for record in events:
                    yield t, "events", record
                if tx.lines:
                    yield t, TX, tx
        yield from self._deliveries(self.horizon, inclusive=False)
        for t, _, what, item in static[next_static:]:
            for kind, record in self._static_records(t, what, item):
                yield t, kind, record
