"""A bounded generator run: catalogue first, then transactions paced by the mode, then a summary.

``realistic`` pauses a random 2–5 s (settings) between transactions, divided by ``speed``;
``load`` produces as fast as the sink accepts. A run stops after ``transactions`` and/or after
``duration`` seconds, whichever comes first, and is only reported once the sink confirmed
delivery of everything (its ``close`` raises otherwise). With a transactional sink each sale
(its lines and the restocks it causes) and the catalogue are one transaction each, so a run that
dies mid-sale leaves no part of that sale visible to ``read_committed`` readers.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from streamstack.generator.catalogue import Catalogue
from streamstack.generator.config import GeneratorConfig
from streamstack.generator.errors import GeneratorError
from streamstack.generator.model import PurchaseEncoder, SalesModel, VirtualClock
from streamstack.generator.simulation import TX, Simulation
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
    #: Live chunks: sales of the chunk found already sent (by an earlier attempt), not sent again.
    skipped: int = 0
    bytes: int = 0
    elapsed_seconds: float = 0.0
    #: Simulated runs (``days``): records on demo.events, and what happened in the shop.
    shop_events: int = 0
    lost_sales: int = 0
    stockouts: int = 0
    restocks: int = 0
    price_changes: int = 0
    anomalies: list[str] = field(default_factory=list)
    simulated_days: int = 0
    profile: str | None = None
    first_event_time: str | None = None
    last_event_time: str | None = None

    @property
    def events(self) -> int:
        return self.purchases + self.products + self.inventories + self.dead_letters + self.shop_events

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


def _nothing() -> None:
    """The transaction hooks of a sink without transactions: one cheap call, bound once."""


def transaction_hooks(sink: Sink) -> tuple[Callable[[], None], Callable[[], None]]:
    """``(begin, commit)`` of ``sink``; no-ops unless it is transactional (or has no hooks at all)."""
    if getattr(sink, "transactional", False):
        return sink.begin, sink.commit
    return _nothing, _nothing


def new_seed() -> int:
    """A fresh seed for runs that did not ask for one (reported in the summary to repeat the run)."""
    return random.SystemRandom().getrandbits(63)


def build_model(
    config: GeneratorConfig, catalogue: Catalogue, seed: int | None, start_time: datetime | None = None
) -> SalesModel:
    """The model for a run; with ``start_time`` its clock is virtual (reproducible event times)."""
    clock = VirtualClock(start_time) if start_time is not None else None
    return SalesModel(config, catalogue, new_seed() if seed is None else seed, clock=clock)


def build_simulation(
    model: SalesModel, days: int, start_date: date | str | None = None, profile: str | None = None
) -> Simulation:
    """A simulated run of ``days`` days of the shop (settings: the model's ``config.shop``)."""
    if isinstance(start_date, str):
        try:
            start_date = date.fromisoformat(start_date.strip()[:10])
        except ValueError:
            raise GeneratorError(f"start date {start_date!r} is not YYYY-MM-DD") from None
    return Simulation(model, model.config.shop, days=days, start_date=start_date, profile=profile)


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
    simulation: Simulation | None = None,
    publish_catalogue: bool = True,
) -> RunSummary:
    """Publish the catalogue, then transactions until a bound is reached; flush; summarise.

    :param mode: ``realistic`` (paced) or ``load`` (no pauses).
    :param transactions: stop after this many transactions.
    :param duration: stop after this many seconds.
    :param speed: realistic pacing is divided by this factor (10 = ten times faster); in a
        simulated run, the simulated time between events is divided by it (1 = real time).
    :param progress: called with the number of transactions done, a few times a second.
    :param simulation: simulate the shop's days (``build_simulation``): the run ends with the
        last simulated day unless ``transactions`` or ``duration`` stop it first.
    :param publish_catalogue: False when the products topic already holds this catalogue
        (live chunks: not a new version of every product each minute).
    """
    if mode not in MODES:
        raise GeneratorError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    if speed <= 0:
        raise GeneratorError(f"speed must be positive, got {speed}")
    if transactions is None and duration is None and simulation is None:
        transactions = model.config.number_of_sales
    if transactions is not None and transactions < 0:
        raise GeneratorError(f"transactions must not be negative, got {transactions}")
    if duration is not None and duration <= 0:
        raise GeneratorError(f"duration must be positive, got {duration}")
    if simulation is not None and getattr(sink, "transactional", False):
        raise GeneratorError("a simulated run does not write transactionally: use a sink without transactional_id")

    summary = RunSummary(mode=mode, seed=model.seed, destination=sink.destination)
    encoder = PurchaseEncoder(model.config, model.catalogue)
    realistic = mode == "realistic"
    limit = transactions if transactions is not None else -1
    start = monotonic()
    deadline = start + duration if duration is not None else None
    next_report = start + PROGRESS_EVERY

    if publish_catalogue:
        begin, commit = transaction_hooks(sink)
        begin()
        for record in model.catalogue_events():
            sink.send_record("products", record)
        commit()
        summary.products = len(model.catalogue)

    if simulation is not None:
        return _simulate(simulation, sink, summary, limit, deadline, realistic, speed, progress, sleep, monotonic,
                         start)
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
    """The hot loop; returns (transactions, purchase lines, inventory events).

    A sale counts as done once committed: one interrupted between ``begin`` and ``commit`` is
    not counted (a transactional sink's ``close`` aborts it).
    """
    virtual = model.clock if isinstance(model.clock, VirtualClock) else None
    send_purchase, send_record, next_tx, encode = sink.send_purchase, sink.send_record, model.next_transaction, encoder.encode
    begin, commit = transaction_hooks(sink)
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
        begin()
        for value in encode(tx):
            send_purchase(tid, value)
        if tx.restocks:
            for restock in tx.restocks:
                send_record("inventories", restock)
            inventories += len(tx.restocks)
        commit()
        purchases += len(tx.lines)
        done += 1
        if progress is not None and now >= next_report:
            progress(done)
            next_report = now + PROGRESS_EVERY
    return done, purchases, inventories


def _simulate(
    sim: Simulation,
    sink: Sink,
    summary: RunSummary,
    limit: int,
    deadline: float | None,
    realistic: bool,
    speed: float,
    progress: Callable[[int], None] | None,
    sleep: Callable[[float], None],
    monotonic: Callable[[], float],
    start: float,
) -> RunSummary:
    """The simulated run: events in simulated-time order, paced by ``speed`` in realistic mode."""
    send_purchase, send_record, encode = sink.send_purchase, sink.send_record, sim.encoder.encode
    done = purchases = shop_events = inventories = products = 0
    previous = 0.0
    next_report = start + PROGRESS_EVERY
    first = last = None
    try:
        for t, kind, payload in sim.run():
            if realistic and t > previous:
                pause = (t - previous) / speed
                if deadline is not None:
                    pause = min(pause, max(0.0, deadline - monotonic()))
                sleep(pause)
            previous = t
            now = monotonic()
            if deadline is not None and now >= deadline:
                break
            if kind is TX:
                tid = payload.transaction_id
                for value in encode(payload):
                    send_purchase(tid, value)
                purchases += len(payload.lines)
                done += 1
                last = payload.transaction_time
                if first is None:
                    first = last
                if done == limit:
                    break
                if progress is not None and now >= next_report:
                    progress(done)
                    next_report = now + PROGRESS_EVERY
                continue
            send_record(kind, payload)
            if kind == "events":
                shop_events += 1
            elif kind == "inventories":
                inventories += 1
            else:
                products += 1
    except KeyboardInterrupt:
        sink.close()
        raise
    sink.close()
    summary.elapsed_seconds = monotonic() - start
    summary.transactions, summary.purchases, summary.inventories = done, purchases, inventories
    summary.products += products
    summary.shop_events = shop_events
    summary.bytes = sink.bytes_sent
    counts = sim.counts
    summary.lost_sales, summary.stockouts = counts["lost_sales"], counts["stockouts"]
    summary.restocks, summary.price_changes = counts["restocks"], counts["price_changes"]
    summary.anomalies = [f"{w.id} {sim._time(w.start)}" for w in sim.windows]
    summary.simulated_days, summary.profile = sim.days, sim.profile.name
    summary.first_event_time, summary.last_event_time = first, last
    if progress is not None:
        progress(done)
    return summary
