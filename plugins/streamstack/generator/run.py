"""A bounded generator run: catalogue first, then transactions paced by the mode, then a summary.

``realistic`` pauses a random 2–5 s (settings) between transactions, divided by ``speed``;
``load`` produces as fast as the sink accepts. A run stops after ``transactions`` and/or after
``duration`` seconds, whichever comes first, and is only reported once the sink confirmed
delivery of everything (its ``close`` raises otherwise).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from streamstack.generator.catalogue import Catalogue
from streamstack.generator.config import GeneratorConfig
from streamstack.generator.errors import GeneratorError
from streamstack.generator.model import PurchaseEncoder, SalesModel, VirtualClock
from streamstack.generator.sinks import Sink

MODES = ("realistic", "load")
#: Progress is reported at most this often (seconds), keeping the hot loop cheap.
PROGRESS_EVERY = 0.2


@dataclass
class RunSummary:
    """What a run did; ``to_dict`` is the XCom of the Airflow task and the CLI's summary."""

    mode: str
    seed: int
    destination: str
    transactions: int = 0
    purchases: int = 0
    products: int = 0
    inventories: int = 0
    dead_letters: int = 0
    bytes: int = 0
    elapsed_seconds: float = 0.0

    @property
    def events(self) -> int:
        return self.purchases + self.products + self.inventories + self.dead_letters

    @property
    def events_per_second(self) -> float:
        return self.events / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    @property
    def megabytes_per_second(self) -> float:
        return self.bytes / 1e6 / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "events": self.events,
            "events_per_second": round(self.events_per_second, 1),
            "megabytes_per_second": round(self.megabytes_per_second, 3),
        }


def new_seed() -> int:
    """A fresh seed for runs that did not ask for one (reported in the summary to repeat the run)."""
    return random.SystemRandom().getrandbits(63)


def build_model(
    config: GeneratorConfig, catalogue: Catalogue, seed: int | None, start_time: datetime | None = None
) -> SalesModel:
    """The model for a run; with ``start_time`` its clock is virtual (reproducible event times)."""
    clock = VirtualClock(start_time) if start_time is not None else None
    return SalesModel(config, catalogue, new_seed() if seed is None else seed, clock=clock)


def run_generator(
    model: SalesModel,
    sink: Sink,
    *,
    mode: str = "load",
    transactions: int | None = None,
    duration: float | None = None,
    speed: float = 1.0,
    progress: Callable[[int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> RunSummary:
    """Publish the catalogue, then transactions until a bound is reached; flush; summarise.

    :param mode: ``realistic`` (paced) or ``load`` (no pauses).
    :param transactions: stop after this many transactions.
    :param duration: stop after this many seconds.
    :param speed: realistic pacing is divided by this factor (10 = ten times faster).
    :param progress: called with the number of transactions done, a few times a second.
    """
    if mode not in MODES:
        raise GeneratorError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    if speed <= 0:
        raise GeneratorError(f"speed must be positive, got {speed}")
    if transactions is None and duration is None:
        transactions = model.config.number_of_sales
    if transactions is not None and transactions < 0:
        raise GeneratorError(f"transactions must not be negative, got {transactions}")
    if duration is not None and duration <= 0:
        raise GeneratorError(f"duration must be positive, got {duration}")

    summary = RunSummary(mode=mode, seed=model.seed, destination=sink.destination)
    encoder = PurchaseEncoder(model.config, model.catalogue)
    realistic = mode == "realistic"
    limit = transactions if transactions is not None else -1
    start = monotonic()
    deadline = start + duration if duration is not None else None
    next_report = start + PROGRESS_EVERY

    for record in model.catalogue_events():
        sink.send_record("products", record)
    summary.products = len(model.catalogue)

    try:
        done, purchases, inventories = _loop(model, sink, encoder, limit, deadline, realistic, speed, progress,
                                             sleep, monotonic, next_report)
    except KeyboardInterrupt:
        sink.close()  # deliver what was produced before the interrupt, then stop
        raise
    sink.close()
    summary.elapsed_seconds = monotonic() - start
    summary.transactions, summary.purchases, summary.inventories = done, purchases, inventories
    summary.bytes = sink.bytes_sent
    if progress is not None:
        progress(done)
    return summary


def _loop(
    model: SalesModel,
    sink: Sink,
    encoder: PurchaseEncoder,
    limit: int,
    deadline: float | None,
    realistic: bool,
    speed: float,
    progress: Callable[[int], None] | None,
    sleep: Callable[[float], None],
    monotonic: Callable[[], float],
    next_report: float,
) -> tuple[int, int, int]:
    """The hot loop; returns (transactions, purchase lines, inventory events)."""
    virtual = model.clock if isinstance(model.clock, VirtualClock) else None
    send_purchase, send_record, next_tx, encode = sink.send_purchase, sink.send_record, model.next_transaction, encoder.encode
    done = purchases = inventories = 0
    while done != limit:
        if done:
            interval = model.draw_interval()
            if virtual is not None:
                virtual.advance(interval)
            if realistic:
                pause = interval / speed
                if deadline is not None:
                    pause = min(pause, max(0.0, deadline - monotonic()))
                sleep(pause)
        now = monotonic()
        if deadline is not None and now >= deadline:
            break
        tx = next_tx()
        tid = tx.transaction_id
        for value in encode(tx):
            send_purchase(tid, value)
        purchases += len(tx.lines)
        if tx.restocks:
            for restock in tx.restocks:
                send_record("inventories", restock)
            inventories += len(tx.restocks)
        done += 1
        if progress is not None and now >= next_report:
            progress(done)
            next_report = now + PROGRESS_EVERY
    return done, purchases, inventories
