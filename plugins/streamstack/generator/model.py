"""The smoothie shop as a pure model: transactions, line items, members, supplements, inventory.

No Kafka and no I/O here, so the model is unit-testable and reproducible: all randomness comes
from ``random.Random(seed)`` (transaction ids included — Python's ``hash()`` is salted per
process and would make runs unrepeatable), and time comes from an injected clock. The pacing
between transactions uses a second generator derived from the seed, so a "load" and a
"realistic" run with one seed yield the same sales.

The hot path is built for load tests: a purchase line is encoded by joining a per-transaction
prefix with a pre-serialised suffix, one per (product, quantity, member, supplements)
combination, computed once with ``json.dumps`` and ``events.total_purchase`` — the same bytes
``json.dumps`` of the record would give, at a fraction of the cost.
"""

from __future__ import annotations

import json
import random
import time
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate
from typing import Any

from streamstack.events import INVENTORY, PURCHASE, field_names, total_purchase
from streamstack.generator.catalogue import Catalogue
from streamstack.generator.config import GeneratorConfig

#: A clock returns the current time as integer microseconds since the Unix epoch (UTC).
Clock = Callable[[], int]
#: One line item: (product index in the catalogue, quantity, add_supplements).
Line = tuple[int, int, bool]

PURCHASE_FIELDS = tuple(field_names(PURCHASE))
INVENTORY_FIELDS = tuple(field_names(INVENTORY))


def wall_clock() -> int:
    """Now, in microseconds since the epoch."""
    return time.time_ns() // 1000


class VirtualClock:
    """A clock that only moves when told: reproducible event times without waiting."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        self.micros = int(start.timestamp()) * 1_000_000 + start.microsecond

    def __call__(self) -> int:
        return self.micros

    def advance(self, seconds: float) -> None:
        self.micros += round(seconds * 1_000_000)


class TimestampFormatter:
    """Epoch microseconds -> ``YYYY-MM-DD HH:MM:SS.ffffff`` (as ``events.format_timestamp``), cached per second."""

    def __init__(self) -> None:
        self._second = -1
        self._day = None
        self._date = ""
        self._prefix = ""

    def __call__(self, micros: int) -> str:
        second, fraction = divmod(micros, 1_000_000)
        if second != self._second:
            # A simulated clock moves seconds at a time: the date is cached per day, the time is arithmetic.
            self._second = second
            day, rest = divmod(second, 86400)
            if day != self._day:
                self._day = day
                self._date = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d ")
            hours, rest = divmod(rest, 3600)
            minutes, seconds = divmod(rest, 60)
            self._prefix = f"{self._date}{hours:02d}:{minutes:02d}:{seconds:02d}."
        return f"{self._prefix}{fraction:06d}"


@dataclass(slots=True)
class Transaction:
    """One sale: its lines share time, id and membership; restocks it triggered come with it."""

    transaction_time: str
    transaction_id: str
    is_member: bool
    lines: list[Line]
    restocks: list[dict[str, Any]]
    #: Per line, the discount when a promotion applies to the transaction (simulated runs), else None.
    discounts: list[float] | None = None


def _cumulative(weights: tuple[float, ...]) -> list[float]:
    """Thresholds for ``bisect``: outcome i (0-based) when ``x < thresholds[i]``; the last is implicit."""
    return list(accumulate(weights))[:-1]


class SalesModel:
    """Generates transactions one by one, with inventory state, from a seed.

    :param config: the generator settings.
    :param catalogue: the products.
    :param seed: makes the run reproducible (same seed -> same transactions, ids included).
    :param clock: source of event times (default the wall clock; ``VirtualClock`` for fixed times).
    """

    def __init__(
        self, config: GeneratorConfig, catalogue: Catalogue, seed: int, clock: Clock | None = None
    ) -> None:
        self.config = config
        self.catalogue = catalogue
        self.seed = seed
        self.clock: Clock = clock or wall_clock
        self._rng = random.Random(seed)
        # A seeded str is hashed with SHA-512 by random.seed: stable across processes.
        self._pacing = random.Random(f"{seed}/pacing")
        self._format = TimestampFormatter()
        self._pick = tuple(
            catalogue.nearest(draw)
            for draw in range(config.propensity_draw_min, config.propensity_draw_max + 1)
        )
        self._items = _cumulative(config.items_per_transaction_weights)
        self._quantities = _cumulative(config.quantity_weights)
        prefixes = config.supplement_boosted_prefixes
        self.supplement_probabilities = tuple(
            config.supplement_probability_boosted if p.product_id.startswith(prefixes) else config.supplement_probability
            for p in catalogue.products
        )
        self.inventory = [p.inventory for p in catalogue.products]

    def now(self) -> str:
        """The clock's current time as an event timestamp."""
        return self._format(self.clock())

    def draw_interval(self) -> float:
        """Seconds to the next transaction in realistic pacing (before the speed factor)."""
        return self._pacing.uniform(self.config.sale_interval_min_seconds, self.config.sale_interval_max_seconds)

    def catalogue_events(self) -> list[dict[str, Any]]:
        """The ``products`` events of the whole catalogue, with the current inventory levels."""
        now = self.now()
        return [p.event(now, level) for p, level in zip(self.catalogue.products, self.inventory, strict=True)]

    def next_transaction(self) -> Transaction:
        """Draw the next sale and apply it to the inventory."""
        rand = self._rng.random
        pick, span = self._pick, len(self._pick)
        quantities, supplements = self._quantities, self.supplement_probabilities
        inventory, floor = self.inventory, self.config.min_inventory
        transaction_time = self._format(self.clock())
        transaction_id = str(self._rng.getrandbits(63))
        is_member = rand() < self.config.member_probability
        lines: list[Line] = []
        restocks: list[dict[str, Any]] = []
        for _ in range(bisect_right(self._items, rand()) + 1):
            product = pick[int(rand() * span)]
            quantity = bisect_right(quantities, rand()) + 1
            lines.append((product, quantity, rand() < supplements[product]))
            level = inventory[product] - quantity
            if level <= floor:
                restock = self.config.restock_amount
                restocks.append(
                    dict(zip(INVENTORY_FIELDS, (transaction_time, self.catalogue.products[product].product_id,
                                                level, restock, level + restock), strict=True))
                )
                level += restock
            inventory[product] = level
        return Transaction(transaction_time, transaction_id, is_member, lines, restocks)


class PurchaseEncoder:
    """Turns transactions into ``purchases`` records (dicts) or their JSON bytes, cheaply."""

    def __init__(self, config: GeneratorConfig, catalogue: Catalogue) -> None:
        self.config = config
        self.products = list(catalogue.products)
        self._suffix: dict[bool, dict[Line, bytes]] = {True: {}, False: {}}
        #: Suffixes of promoted lines, by (is_member, line, discount), filled on first use.
        self._discounted: dict[tuple[bool, Line, float], bytes] = {}
        for index in range(len(self.products)):
            self._encode_product(index)
        self._numbers = [b""] + [f"{n},".encode() for n in range(1, len(config.items_per_transaction_weights) + 1)]

    def _encode_product(self, index: int) -> None:
        for is_member in (True, False):
            for quantity in range(1, len(self.config.quantity_weights) + 1):
                for supplements in (True, False):
                    line = (index, quantity, supplements)
                    self._suffix[is_member][line] = self._encode_line(line, is_member, None)

    def _encode_line(self, line: Line, is_member: bool, discount: float | None) -> bytes:
        text = json.dumps(self._line_fields(line, is_member, discount), ensure_ascii=False, separators=(",", ":"))
        return text[1:].encode()  # without the leading '{'

    def reprice(self, index: int, product: Any) -> None:
        """A new version of product ``index`` (a price change): its lines are encoded anew."""
        self.products[index] = product
        self._encode_product(index)
        self._discounted = {k: v for k, v in self._discounted.items() if k[1][0] != index}

    def _line_fields(self, line: Line, is_member: bool, discount: float | None = None) -> dict[str, Any]:
        index, quantity, supplements = line
        product = self.products[index]
        if discount is None:
            discount = self.config.member_discount if is_member else 0.0
        supplement_price = self.config.supplement_price if supplements else 0.0
        return {
            "product_id": product.product_id,
            "price": product.price,
            "quantity": quantity,
            "is_member": is_member,
            "member_discount": discount,
            "add_supplements": supplements,
            "supplement_price": supplement_price,
            "total_purchase": total_purchase(product.price, quantity, supplement_price, discount),
        }

    def records(self, tx: Transaction) -> list[dict[str, Any]]:
        """The transaction's ``purchases`` records, fields in ``events.PURCHASE`` order."""
        out = []
        for number, line in enumerate(tx.lines, start=1):
            discount = tx.discounts[number - 1] if tx.discounts is not None else None
            record = {"transaction_time": tx.transaction_time, "transaction_id": tx.transaction_id,
                      "line_number": number, **self._line_fields(line, tx.is_member, discount)}
            out.append(record)
        return out

    def encode(self, tx: Transaction) -> list[bytes]:
        """The records of ``records(tx)`` as compact UTF-8 JSON, one ``bytes`` per line."""
        head = f'{{"transaction_time":"{tx.transaction_time}","transaction_id":"{tx.transaction_id}","line_number":'.encode()
        suffixes, numbers = self._suffix[tx.is_member], self._numbers
        if tx.discounts is None:
            return [head + numbers[n] + suffixes[line] for n, line in enumerate(tx.lines, start=1)]
        out = []
        for n, (line, discount) in enumerate(zip(tx.lines, tx.discounts, strict=True), start=1):
            key = (tx.is_member, line, discount)
            suffix = self._discounted.get(key)
            if suffix is None:
                suffix = self._discounted[key] = self._encode_line(line, tx.is_member, discount)
            out.append(head + numbers[n] + suffix)
        return out


def dumps(record: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON of an event (the one encoding of every event the generator writes)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
