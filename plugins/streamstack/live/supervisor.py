"""Supervision of the live pipeline: each job's health and lag, Pinot's freshness, the dead-letter rate.

One check (the ``live_supervisor`` DAG runs it every minute; ``streamstack live status`` shows the
same numbers):

- a job that is not running while the pipeline is live (failed, stopped, finished, never
  started) is submitted again, continuous, from its checkpoint or savepoint (``resume``);
- a job restarted again within ``bounds.crash_loop_minutes`` of its previous restart, or whose
  engine restarted it since the last check (Flink's own restart strategy: the ``restarts`` counter
  grew), is in a **crash loop**: a failure, reported at the check that restarts it;
- a job's lag above ``bounds.lag_records``, Pinot's newest enriched purchase older than
  ``bounds.freshness_seconds``, a Pinot table not consuming, or more dead letters per purchase
  line than ``bounds.dead_letter_rate`` over the last ``bounds.window_minutes``: failures.

What the previous check saw (restarts, counters) is kept in the state store, so a check on any
worker continues where the last one left off. Whether the pipeline is live at all is a record
there too, written by ``streamstack live start|stop``: a stopped pipeline is not restarted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from streamstack.engines.protocol import JobStatus, Mode, State, StreamEngine
from streamstack.engines.store import StateStore
from streamstack.errors import StreamstackError
from streamstack.live.config import LiveConfig
from streamstack.pinot.client import PinotClient
from streamstack.pinot.ingestion import TableIngestion, measure
from streamstack.pinot.tables import TableSpec

#: The state store's record of the live pipeline (``streamstack live start|stop``).
LIVE_KEY = "live/pipeline"


class LiveUnhealthy(StreamstackError):
    """A check of the live pipeline passed a bound; the message lists every reason."""


@dataclass
class Finding:
    """One line of a check: a stage, whether it is within bounds, what was seen."""

    stage: str
    ok: bool
    text: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.stage}: {self.text}"


@dataclass
class Supervision:
    """What one check saw and did."""

    engine: str
    findings: list[Finding] = field(default_factory=list)
    restarted: list[str] = field(default_factory=list)
    jobs: dict[str, JobStatus] = field(default_factory=dict)
    tables: dict[str, TableIngestion] = field(default_factory=dict)

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if not f.ok]

    def lines(self) -> list[str]:
        return [f.line() for f in self.findings]

    def raise_if_unhealthy(self) -> None:
        if self.failures:
            raise LiveUnhealthy(f"live pipeline ({self.engine}) unhealthy: "
                                + "; ".join(f"{f.stage}: {f.text}" for f in self.failures))


def default_store() -> StateStore:
    """The state store every worker and the CLI share (``STREAMSTACK_STATE_STORE``, else the stack's)."""
    from streamstack.settings import Settings

    return StateStore.default(Settings.from_env().state_dir)


def default_config() -> LiveConfig:
    """``config/live.yaml`` of the project."""
    from streamstack.live.config import load_live_config
    from streamstack.settings import Settings

    return load_live_config(Settings.from_env().config_dir / "live.yaml")


def table_specs(kafka_config: Mapping[str, Any]) -> dict[str, TableSpec]:
    """The Pinot tables the supervisor measures, as ``config/pinot`` declares them."""
    from streamstack.pinot.tables import local_specs

    return {s.name: s for s in local_specs(None, ["purchasesEnriched"], kafka_config=kafka_config)}


def live_record(store: StateStore) -> dict[str, Any] | None:
    """The live pipeline's record (engine, since) while it is live, else None."""
    record = store.get(LIVE_KEY)
    return record if record and record.get("live") else None


def live_since(record: Mapping[str, Any]) -> float | None:
    """When the pipeline went live (epoch seconds), from its record."""
    from datetime import datetime

    since = record.get("since")
    return datetime.fromisoformat(since).timestamp() if since else None


def _job(engine: StreamEngine, job: str, config: LiveConfig, store: StateStore, now: float, restart: bool,
         remember: bool, live_since: float | None, out: Supervision) -> None:
    key = f"live/jobs/{engine.name}/{job}"
    memory = store.get(key) or {}
    status = engine.status(job)
    restarts = status.detail.get("restarts")
    grew = isinstance(restarts, int) and isinstance(memory.get("restarts"), int) and restarts > memory["restarts"]
    running = status.state in (State.RUNNING, State.STARTING) and status.mode != Mode.BOUNDED
    stage = f"{engine.name} {job}"
    restarted_now = False
    error = status.error
    if not running and restart:
        was = f"{status.state}{': ' + status.error if status.error else ''}"
        engine.submit([job], Mode.CONTINUOUS, resume=True)
        out.restarted.append(job)
        restarted_now = True
        status = engine.status(job)
        out.findings.append(Finding(stage, True, f"restarted from its checkpoint (was {was})"))
    elif not running:
        out.findings.append(Finding(stage, False, f"{status.state}, not running"))
    # Restarted again soon after the last restart, whichever checks (scheduled or triggered) saw it
    # in between: the job does not stay up. A restart before the pipeline last went live is history.
    window = config.bounds.crash_loop_minutes * 60
    last = memory.get("restarted_at")
    loop = restarted_now and last is not None and now - last <= window and last >= (live_since or 0)
    if loop or grew:
        why = (f"the engine restarted it {restarts - memory['restarts']} time(s) since the last check" if grew
               else f"restarted again {now - last:.0f} s after its previous restart "
                    f"(bound: {config.bounds.crash_loop_minutes} min)")
        out.findings.append(Finding(stage, False, f"crash loop: {why}; last error: {error or 'none reported'}"))
    elif status.failed and not restarted_now:
        out.findings.append(Finding(stage, False, status.line()))
    if status.lag.total > config.bounds.lag_records:
        out.findings.append(Finding(stage, False, f"lag {status.lag.total:,} records > bound "
                                                  f"{config.bounds.lag_records:,}"))
    elif running and not loop and not grew and not status.failed:
        out.findings.append(Finding(stage, True, f"{status.state}, lag {status.lag.total:,}"))
    out.jobs[job] = status
    if remember:
        store.put(key, {"restarts": restarts if isinstance(restarts, int) else memory.get("restarts"),
                        "restarted_at": now if restarted_now else memory.get("restarted_at"), "checked_at": now})


def _pinot(pinot: PinotClient, specs: Mapping[str, TableSpec], kafka_config: Mapping[str, Any],
           config: LiveConfig, now: float, live_since: float | None, out: Supervision) -> None:
    engine_name = out.engine
    bounds = config.bounds
    (minute,) = pinot.query(f"SELECT COUNT(*) AS n FROM purchases WHERE transaction_time > {int((now - 60) * 1000)}")
    out.findings.append(Finding("generator", True, f"{int(minute['n'])} purchase lines in the last minute "
                                                   f"({int(minute['n']) / 60:.1f}/s)"))
    for name in ("purchasesEnriched",):
        state = measure(pinot, specs[name], kafka_config)
        out.tables[name] = state
        fresh = None if state.newest_ms is None else max(0.0, now - state.newest_ms / 1000.0)
        problems = []
        if state.not_consuming:
            problems.append(f"not consuming partitions {state.not_consuming}")
        if state.beyond_end:
            problems.append(state.beyond_end_error())
        # The first sales of a pipeline that just went live take a moment to arrive.
        starting = live_since is not None and now - live_since < bounds.freshness_seconds
        if (fresh is None or fresh > bounds.freshness_seconds) and not starting:
            shown = "no rows" if fresh is None else f"newest purchase {fresh:.1f} s old"
            problems.append(f"{shown} > bound {bounds.freshness_seconds:g} s")
        shown = "no rows" if fresh is None else f"newest purchase {fresh:.1f} s old"
        text = "; ".join(problems) if problems else (
            f"{shown}, lag {state.lag} offsets" + (f" (live for {now - live_since:.0f} s only)" if starting else ""))
        out.findings.append(Finding(f"pinot {name}", not problems, text))
    since = int((now - bounds.window_minutes * 60) * 1000)
    (lines,) = pinot.query(f"SELECT COUNT(*) AS n FROM purchases WHERE transaction_time > {since}")
    # The enrichment sees every purchase line once (enriched or dead-lettered); the windows job
    # dead-letters the same bad line again, so only the enrichment's dead letters are counted.
    (dead,) = pinot.query(f"SELECT COUNT(*) AS n FROM deadLetters WHERE rejected_at > {since} "
                          f"AND rejected_by = '{engine_name}.purchases_enrichment'")
    n_lines, n_dead = int(lines["n"]), int(dead["n"])
    rate = n_dead / n_lines if n_lines else (1.0 if n_dead else 0.0)
    text = (f"{n_dead} dead letters / {n_lines} purchase lines in {bounds.window_minutes} min = {rate:.1%}"
            + ("" if rate <= bounds.dead_letter_rate else f" > bound {bounds.dead_letter_rate:.1%}"))
    # Purchase lines counted at the source, dead letters by the enrichment: both over one window.
    out.findings.append(Finding("dead letters", rate <= bounds.dead_letter_rate, text))


def supervise(engine: StreamEngine, pinot: PinotClient, specs: Mapping[str, TableSpec], config: LiveConfig,
              store: StateStore, *, restart: bool = True, remember: bool = True, jobs: Sequence[str] | None = None,
              live_since: float | None = None, clock: Callable[[], float] = time.time) -> Supervision:
    """One check of the live pipeline (see the module docstring); restarts what stopped when ``restart``.

    :param remember: keep what this check saw for the next one (crash loops are told from the
        restarts it remembers); off for a look that is not a check (``streamstack live status``).
    :param live_since: when the pipeline went live (epoch s): freshness is not failed within its
        bound of that moment, before the first sales can have arrived, and a restart before it
        (an earlier live session's) makes no crash loop.
    """
    out = Supervision(engine.name)
    now = clock()
    for job in jobs or config.jobs:
        _job(engine, job, config, store, now, restart, remember, live_since, out)
    _pinot(pinot, specs, engine.kafka_config, config, now, live_since, out)
    return out
