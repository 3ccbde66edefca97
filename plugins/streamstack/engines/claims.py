"""Claims: two engines never write one output topic at once.

Two engines must never write one topic at once, so each engine's job control *claims*
a job's output topics when it starts the job (bounded or continuous, from the CLI or Airflow)
and releases them when it stops it. A claim records how to ask the engine whether the job still
runs (its *handle*: Spark's checkpoint lock, Flink's job id, a Kafka Streams pid), so a job that
ended or died never blocks another engine: only a live holder refuses, naming itself, the
command that stops it and ``streamstack engine release`` for a holder nobody can reach. Claims
live in the state store (:mod:`streamstack.engines.store`), so every worker sees them. A fourth
engine adds a probe to ``PROBES``.
"""

from __future__ import annotations

import importlib
import os
import socket
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from streamstack.engines.choice import command, engine
from streamstack.engines.store import StateStore
from streamstack.errors import StreamstackError

#: Where claims live in the state store.
PREFIX = "engine-claims"
#: engine -> ``module:function(handle) -> bool``: does the job behind a claim's handle still run?
PROBES = {
    "spark": "streamstack.spark.lock:lock_is_held",
    "flink": "streamstack.flink.control:job_is_alive",
    "kstreams": "streamstack.kstreams.control:process_is_alive",
}


class TopicClaimed(StreamstackError):
    """An output topic is being written by another engine."""


@dataclass(frozen=True)
class Claim:
    """One engine's job writing one topic, and how to ask whether it still does."""

    topic: str
    engine: str
    job: str
    handle: dict[str, Any] = field(default_factory=dict)
    at: float = 0.0

    def alive(self) -> bool:
        """Ask the engine (``PROBES``); a probe that cannot answer raises, never guesses "ended".

        A claim taken by a process that waits for its job (a bounded run, before the job has
        anything to show) is alive while that process is.
        """
        if _waiter_alive(self.handle.get("waiter")):
            return True
        module, _, name = PROBES[self.engine].partition(":")
        return bool(getattr(importlib.import_module(module), name)(self.handle))

    def stop_command(self) -> str:
        return command("stop", self.engine, self.job)


def this_process() -> dict[str, Any]:
    """A handle's ``waiter``: this process, for a claim held while it waits for a bounded run."""
    from streamstack.runtime.process import start_ticks

    return {"host": socket.gethostname(), "pid": os.getpid(), "started": start_ticks(os.getpid())}


def _waiter_alive(waiter: dict[str, Any] | None) -> bool:
    from streamstack.runtime.process import pid_alive, start_ticks

    if not waiter or waiter.get("host") != socket.gethostname():
        return False
    pid = int(waiter["pid"])
    return pid_alive(pid) and start_ticks(pid) == waiter.get("started")


def _key(topic: str, engine_name: str, job: str) -> str:
    return f"{PREFIX}/{topic}/{engine_name}.{job}"


def claims(store: StateStore, topics: list[str] | None = None) -> list[Claim]:
    """Every recorded claim (of ``topics`` when given), live or not."""
    found = []
    for key in store.keys(PREFIX):
        if topics is not None and key.split("/")[-2] not in topics:
            continue
        doc = store.get(key)
        if doc is not None:
            found.append(Claim(**doc))
    return found


def _refusal(engine_name: str, held: list[Claim], reason: str = "") -> TopicClaimed:
    detail = "; ".join(
        f"{c.topic} is written by {c.engine} job {c.job} (since {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(c.at))})"
        for c in held
    )
    stops = ", ".join(sorted({f"`{c.stop_command()}`" for c in held}))
    topics = " ".join(sorted({c.topic for c in held}))
    return TopicClaimed(
        f"{engine_name} cannot write {detail}{reason}. Two engines never write one topic: stop it first ({stops}); "
        f"if it no longer runs anywhere, `streamstack engine release {topics}`"
    )


def claim(store: StateStore, topics: list[str], engine_name: str, job: str, handle: dict[str, Any] | None = None) -> None:
    """Claim ``topics`` for ``engine_name``'s ``job``, all or none.

    Another engine's claim whose job has ended is dropped; a live one refuses. Claims of the same
    engine (its other jobs share the dead-letter topic) never conflict. Re-claiming updates the
    handle (a job's id is known only once it is submitted).
    """
    engine(engine_name)
    with store.lock(PREFIX):
        held: list[Claim] = []
        unknown: list[str] = []
        for c in claims(store, topics):
            if c.engine == engine_name:
                continue
            try:
                alive = c.alive()
            except (StreamstackError, OSError) as exc:  # an unanswerable probe refuses, with why
                held.append(c)
                unknown.append(f"{c.engine} job {c.job}: {exc}")
                continue
            if alive:
                held.append(c)
            else:
                store.delete(_key(c.topic, c.engine, c.job))
        if held:
            reason = f" (cannot tell whether it still runs: {'; '.join(unknown)})" if unknown else ""
            raise _refusal(engine_name, held, reason)
        now = time.time()
        for t in topics:
            store.put(_key(t, engine_name, job), asdict(Claim(t, engine_name, job, dict(handle or {}), now)))


def release(
    store: StateStore,
    topics: list[str] | None,
    engine_name: str | None = None,
    job: str | None = None,
    handle: dict[str, Any] | None = None,
) -> list[Claim]:
    """Drop claims of ``topics`` (all topics when None), only ``engine_name``'s / ``job``'s when
    given, and only those whose handle has ``handle``'s items (one copy of a job among several)."""
    dropped = []
    with store.lock(PREFIX):
        for c in claims(store, topics):
            if engine_name not in (None, c.engine) or job not in (None, c.job):
                continue
            if handle and any(c.handle.get(k) != v for k, v in handle.items()):
                continue
            store.delete(_key(c.topic, c.engine, c.job))
            dropped.append(c)
    return dropped


def holder(store: StateStore, topic: str) -> str | None:
    """The engine of a recorded claim on ``topic`` (live or not), or None."""
    found = claims(store, [topic])
    return found[0].engine if found else None
