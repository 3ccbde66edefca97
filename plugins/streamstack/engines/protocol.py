"""One engine protocol: Spark, Flink and Kafka Streams run the same jobs behind the same four verbs.

- ``submit(jobs, mode, resume=)`` starts each job and returns at once: ``bounded`` processes what
  the inputs hold at submission, then the job finishes; ``continuous`` runs until stopped.
  ``resume=False`` starts from the inputs' beginning (the job's checkpoint, savepoint or offsets
  are reset first).
- ``status(job)`` says where the job is (:class:`State`), how far behind its inputs it is (one lag
  computation for every engine, :func:`streamstack.topics.offsets.lag`, from the offsets the job
  committed) and when it last committed.
- ``stop(job)`` ends a job so that it resumes losslessly: Spark between micro-batches (its
  checkpoint), Flink with a savepoint, Kafka Streams with its last transaction committed.
- ``reset(job)`` deletes what makes a job resume (refused while it runs, and where it would
  rebuild all-time values from inputs retention has trimmed: :mod:`streamstack.engines.rebuild`).

The engines differ underneath (a Spark driver, a job on a Flink cluster, a Kafka Streams JVM);
what each bounded run must reach and how to find its job again live in the state store, so any
worker can ask. A fourth engine is one class with these four methods and a line in ``ADAPTERS``.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from streamstack.engines.choice import ENGINES, engine
from streamstack.engines.rebuild import check_rebuild
from streamstack.errors import ConfigError, StreamstackError
from streamstack.topics.offsets import Lag


class Mode(StrEnum):
    BOUNDED = "bounded"
    CONTINUOUS = "continuous"


class State(StrEnum):
    NOT_STARTED = "NOT_STARTED"  # no run of the job is known here
    STARTING = "STARTING"  # submitted, not processing yet
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"  # a bounded run reached the end its submission saw
    STOPPED = "STOPPED"  # stopped on request; resumes where it stopped
    FAILED = "FAILED"


@dataclass
class JobStatus:
    """One job of one engine, as every engine reports it."""

    engine: str
    job: str
    state: State
    mode: Mode | None = None
    lag: Lag = field(default_factory=Lag)
    #: When the job last committed its progress (checkpoint, micro-batch, transaction), ISO UTC.
    last_commit: str | None = None
    error: str | None = None
    #: Engine-specific: pid, Flink job id, HTTP port, restarts, micro-batch...
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """Failed, or committed past the end of an input topic (recreated under it): never "done"."""
        return self.state == State.FAILED or bool(self.lag.beyond_end)

    def done(self, mode: Mode) -> bool:
        """What a submission of ``mode`` waits for: a bounded run finished (or a continuous copy
        that already runs has caught up with the inputs); a continuous job running with a commit."""
        if mode == Mode.BOUNDED:
            return self.state == State.FINISHED or (
                self.state == State.RUNNING and self.mode == Mode.CONTINUOUS and self.lag.total == 0
            )
        return self.state == State.RUNNING and self.last_commit is not None

    def line(self) -> str:
        """One log line: state, mode, lag, last commit, error."""
        parts = [f"{self.engine} {self.job}: {self.state}"]
        if self.mode:
            parts.append(str(self.mode))
        parts.append(f"lag {self.lag.total}")
        if self.lag.beyond_end:
            parts.append(f"BEYOND THE END of its input ({self.lag.beyond_end_text()})")
        if self.last_commit:
            parts.append(f"last commit {self.last_commit}")
        parts += [f"{k}={v}" for k, v in self.detail.items() if v is not None]
        if self.error:
            parts.append(f"error: {self.error}")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["state"], out["mode"] = str(self.state), (str(self.mode) if self.mode else None)
        out["lag"] = {"total": self.lag.total, "by_partition": self.lag.by_partition(),
                      "beyond_end": {f"{t}/{p}": list(v) for t, parts in self.lag.beyond_end.items()
                                     for p, v in parts.items()}}
        return out


class StreamEngine(Protocol):
    """What the platform asks of an engine (see the module docstring)."""

    name: str
    #: librdkafka settings of the cluster the jobs read and write.
    kafka_config: dict[str, Any]
    #: logical topic (config/topics.yaml) -> the Kafka topic this engine's jobs use.
    topic_names: dict[str, str]

    def submit(self, jobs: Sequence[str], mode: Mode, *, resume: bool = True,
               allow_shrink: bool = False) -> dict[str, JobStatus]: ...

    def status(self, job: str) -> JobStatus: ...

    def stop(self, job: str) -> JobStatus: ...

    def reset(self, job: str, *, allow_shrink: bool = False) -> list[str]: ...


#: engine -> ``module:class`` of its adapter, imported when asked for (no engine is loaded for another).
ADAPTERS = {
    "spark": "streamstack.spark.engine:SparkEngine",
    "flink": "streamstack.flink.engine:FlinkEngine",
    "kstreams": "streamstack.kstreams.engine:KStreamsEngine",
}


def get(name: str | None = None, **kwargs: Any) -> StreamEngine:
    """The adapter of engine ``name`` (default: ``STREAMSTACK_ENGINE``), built with ``kwargs``
    (``kafka_config``, ``topics``, ``settings`` and the engine's own options)."""
    chosen = engine(name)
    if chosen not in ADAPTERS:
        raise ConfigError(f"engine {chosen!r} has no adapter (known: {', '.join(ENGINES)})")
    module, _, cls = ADAPTERS[chosen].partition(":")
    return getattr(importlib.import_module(module), cls)(**kwargs)


def check_jobs(jobs: Sequence[str]) -> list[str]:
    """The job names, checked: every engine runs the same jobs."""
    from streamstack.engines.choice import JOBS

    unknown = [j for j in jobs if j not in JOBS]
    if unknown:
        raise ConfigError(f"unknown job(s) {unknown} (known: {', '.join(JOBS)})")
    return list(jobs)


def prepare(engine: StreamEngine, jobs: Sequence[str], *, resume: bool, allow_shrink: bool = False,
            rebuilt: Sequence[str] = ()) -> list[str]:
    """The checked job names of a submission, each reset first when not ``resume``.

    Jobs rebuilt from their inputs' start (every job of a fresh start, ``rebuilt`` otherwise) are
    checked for input lost to retention first (:mod:`streamstack.engines.rebuild`), all of them
    before any is reset: a refusal leaves every job as it was.
    """
    jobs = check_jobs(jobs)
    if not resume:
        reset_jobs(engine, jobs, allow_shrink=allow_shrink)
    for job in [j for j in rebuilt if j in jobs]:
        check_rebuild(engine.kafka_config, engine.topic_names, job, allow_shrink=allow_shrink)
    return jobs


def reset_jobs(engine: StreamEngine, jobs: Sequence[str], *, allow_shrink: bool = False) -> dict[str, list[str]]:
    """Reset each of ``jobs`` (what was deleted, per job); every refusal
    (:mod:`streamstack.engines.rebuild`) comes before any reset, so none leaves some jobs reset."""
    for job in jobs:
        check_rebuild(engine.kafka_config, engine.topic_names, job, allow_shrink=allow_shrink)
    return {job: engine.reset(job, allow_shrink=True) for job in jobs}


class JobFailed(StreamstackError):
    """A job failed, or committed past the end of an input topic, while someone waited for it."""


def wait(engine: StreamEngine, jobs: Sequence[str], mode: Mode, *, timeout: float = 1800.0,
         poll: float = 1.0) -> dict[str, JobStatus]:
    """Poll ``status`` until every job is ``done(mode)``; raise :class:`JobFailed` on the first
    failure, ``TimeoutError`` (with each job's last status) after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        statuses = {job: engine.status(job) for job in jobs}
        failed = [s for s in statuses.values() if s.failed]
        if failed:
            raise JobFailed("\n".join(s.line() for s in failed))
        if all(s.done(mode) for s in statuses.values()):
            return statuses
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{mode} run not done within {timeout:.0f}s:\n"
                               + "\n".join(s.line() for s in statuses.values()))
        time.sleep(poll)
