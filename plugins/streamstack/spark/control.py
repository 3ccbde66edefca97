"""Continuous-mode lifecycle of the Spark jobs: start, health (progress and lag), clean stop.

Why a lock as well as a pid file: the lock (``<checkpoint-dir>/<job>.lock``, held by the job's
driver with ``flock``) is the truth about whether a copy is writing: it cannot go stale, survives
a lost pid file, and a second copy refuses to start on it. Starting a job never stops another
run's copy: a continuous copy is kept, an available-now one (another run mid-work) is waited for,
so two runs never kill each other's job nor leave two copies writing one topic.
A stop is SIGTERM to the driver, which stops the query between micro-batches (checkpoint
committed); only after ``timeout`` are the driver and its spark-submit JVM killed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import signal
import socket
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from streamstack import engines
from streamstack.errors import StackError, StreamstackError
from streamstack.runtime.process import ManagedProcess, pid_alive
from streamstack.settings import Settings
from streamstack.spark.checkpoint import committed_offsets, last_committed_batch
from streamstack.spark.jobs import JOBS, checkpoint_root, job_spec, submission
from streamstack.topics import TopicSpecs, load_topics
from streamstack.topics.offsets import lag

log = logging.getLogger(__name__)
#: Exit code of a job that found its lock held by another copy (jobs/spark/runner.py).
LOCK_HELD = 75


@dataclass(frozen=True)
class Holder:
    """The live process holding a job's lock."""

    pid: int
    ppid: int | None
    mode: str
    started: str
    #: The machine the driver runs on (None: a driver started before the lock recorded it).
    host: str | None = None

    @property
    def here(self) -> bool:
        """On this machine: its pid can be signalled (else only its stop file reaches it)."""
        return self.host in (None, socket.gethostname())


@dataclass
class JobHealth:
    """One job's state as seen from outside: lock, progress file, checkpoint and broker offsets."""

    job: str
    running: bool
    pid: int | None = None
    mode: str | None = None
    state: str | None = None
    committed_batch: int | None = None
    last_progress_at: str | None = None
    input_rows_per_second: float | None = None
    processed_rows_per_second: float | None = None
    lag: dict[str, int] = field(default_factory=dict)
    total_lag: int | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def job_paths(checkpoint_dir: Path, job: str) -> dict[str, Path]:
    """The files of the job contract (mirrors ``jobs/spark/runner.paths``)."""
    return {
        "checkpoint": checkpoint_dir / job,
        "lock": checkpoint_dir / f"{job}.lock",
        "progress": checkpoint_dir / f"{job}.progress.json",
        "stop": checkpoint_dir / f"{job}.stop",
    }


def _held_lock_text(lock: Path) -> str | None:
    """The text of a job's lock file while a process holds the lock; None when nobody does."""
    if not lock.exists():
        return None
    with open(lock, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            return handle.read().strip()
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None


def lock_is_held(handle: dict[str, Any]) -> bool:
    """The engines' probe (``streamstack.engines.PROBES``): a job writes while its driver holds its lock."""
    return _held_lock_text(Path(handle["lock"])) is not None


class SparkJobControl:
    """Start, stop and inspect the jobs of ``jobs/spark`` on one checkpoint directory.

    :param settings: the stack settings (broker, state dir).
    :param topics: topic declarations (default ``config/topics.yaml``).
    :param checkpoint_dir: base checkpoint directory (default ``<state>/spark/checkpoints``).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        topics: TopicSpecs | None = None,
        checkpoint_dir: Path | None = None,
        kafka_config: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings or Settings.from_env()
        #: librdkafka settings of the Kafka connection (a task passes its connection's).
        self.kafka_config = dict(kafka_config) if kafka_config is not None else self.settings.kafka_client_config()
        self.topics = topics or load_topics(self.settings.topics_file)
        self.checkpoint_dir = checkpoint_dir or checkpoint_root(self.settings)
        self.run_dir = self.settings.state_dir / "spark" / "run"
        self.store = engines.StateStore.default(self.settings.state_dir)

    def _process(self, job: str) -> ManagedProcess:
        return ManagedProcess(f"spark-{job}", self.run_dir)

    def log_file(self, job: str) -> Path:
        return self._process(job).log_file

    def launcher_pid(self, job: str) -> int | None:
        """The pid of this stack's launcher (spark-submit) of ``job`` while it runs."""
        return self._process(job).pid()

    def holder(self, job: str) -> Holder | None:
        """The process holding ``job``'s lock, or None when no copy runs."""
        job_spec(job)
        lock = job_paths(self.checkpoint_dir, job)["lock"]
        # A copy that has just taken the lock empties the file, then writes its info: read
        # between the two (CI did, stopping a job another test run had just started), the file
        # is held and empty for a moment.
        deadline = time.monotonic() + 5.0
        while True:
            text = _held_lock_text(lock)
            if text is None:
                return None
            if text or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        try:
            info = json.loads(text)
        except json.JSONDecodeError:
            raise StackError(f"{lock} is held but holds no job info ({text!r}); is it a streamstack job?") from None
        return Holder(pid=int(info["pid"]), ppid=info.get("ppid"), mode=str(info.get("mode")),
                      started=str(info.get("started")), host=info.get("host"))

    def output_topics(self, job: str) -> list[str]:
        """The topics ``job`` writes (its output and dead-letter topics)."""
        return engines.output_topics({flag: self.topics[logical].name for flag, logical in job_spec(job).topics.items()})

    def claim(self, job: str) -> None:
        """Claim ``job``'s output topics for Spark while it writes them (``streamstack.engines``).

        Held while the job's driver holds its checkpoint lock, and while this process (which
        starts the job and waits for it) lives: the driver takes the lock only seconds later.
        """
        handle = {"lock": self._lock(job), "waiter": engines.this_process()}
        engines.claim(self.store, self.output_topics(job), "spark", job, handle)

    def release(self, job: str) -> None:
        """Drop the claims of this copy of ``job`` (its checkpoint's lock): it stopped or finished."""
        engines.release(self.store, None, "spark", job, {"lock": self._lock(job)})

    def _lock(self, job: str) -> str:
        return str(job_paths(self.checkpoint_dir, job)["lock"].resolve())

    def start(
        self,
        job: str,
        *,
        interval: str = "1 second",
        master: str = "local[2]",
        conf: dict[str, str] | None = None,
        extra_args: list[str] | None = None,
        wait: float = 120.0,
        wait_for_other: float = 1800.0,
        trigger: str = "processing-time",
    ) -> int:
        """Start ``job`` in the background and return the driver's pid once it holds its lock.

        ``trigger``: ``processing-time`` runs until stopped; ``available-now`` processes what the
        topics hold, then ends (a job that ends before its lock is seen returns its launcher's pid).
        Never stops another run's copy: a continuous copy already running is kept (its pid is
        returned), and an available-now copy (another run's task, mid-work) is waited for until
        it finishes, at most ``wait_for_other`` seconds; only then does this copy start.
        """
        self.check_checkpoint(job)
        self.claim(job)
        holder = self.wait_for_other(job, wait_for_other)
        if holder is not None:
            return holder.pid
        proc = self._process(job)
        if proc.pid() is not None:  # our launcher of a copy that has not taken its lock yet
            proc.stop(timeout=15)
        sub = submission(
            job,
            self.settings,
            trigger=trigger,
            interval=interval,
            topics=self.topics,
            checkpoint_dir=self.checkpoint_dir,
            conf=conf,
            extra_args=extra_args,
            kafka_config=self.kafka_config,
        )
        proc = self._process(job)
        proc_pid = proc.start(sub.command(master), env=sub.env, cwd=self.settings.project_dir)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            holder = self.holder(job)
            if holder is not None:
                return holder.pid
            if proc.exited() == LOCK_HELD and time.monotonic() < deadline:
                # Another run took the lock between our check and the driver's start: wait again.
                return self.start(job, interval=interval, master=master, conf=conf, extra_args=extra_args,
                                  wait=wait, wait_for_other=wait_for_other, trigger=trigger)
            if proc.exited() == 0 and trigger == "available-now":
                return proc_pid  # done already: nothing to read, or quick
            if proc.exited() is not None:
                raise StackError(f"spark job {job} exited {proc.exited()} at start:\n{proc.log_tail(40)}")
            time.sleep(0.5)
        proc.stop()
        raise StackError(f"spark job {job} did not take its lock within {wait:.0f}s:\n{proc.log_tail(40)}")

    def wait_for_other(self, job: str, timeout: float) -> Holder | None:
        """Wait while another run's available-now copy of ``job`` works; return a continuous holder.

        None when the lock is free. Raises when the available-now copy is still working after
        ``timeout``: it is never stopped from here, since its run would report work not done.
        """
        deadline = time.monotonic() + timeout
        announced = False
        while True:
            holder = self.holder(job)
            if holder is None or holder.mode == "processing-time":
                return holder
            if time.monotonic() >= deadline:
                raise StackError(
                    f"spark job {job}: another run's available-now copy (pid {holder.pid}, since {holder.started}) "
                    f"still works after {timeout:.0f}s; not stopping it (stop it with `streamstack spark stop {job}`)"
                )
            if not announced:
                log.info("%s: waiting for another run's available-now copy (pid %s) to finish", job, holder.pid)
                announced = True
            time.sleep(1.0)

    def stop(self, job: str, *, timeout: float = 60.0) -> bool:
        """Stop every copy of ``job`` (graceful first); True if something was running."""
        stopped = False
        holder = self.holder(job)
        if holder is not None:
            stopped = True
            if holder.here:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(holder.pid, signal.SIGTERM)
            else:
                # A driver on another machine (the checkpoints are on shared storage): the
                # runner polls its stop file and stops between micro-batches.
                job_paths(self.checkpoint_dir, job)["stop"].touch()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.holder(job) is not None:
                time.sleep(0.25)
            if self.holder(job) is not None:
                if not holder.here:
                    raise StackError(f"spark job {job} on {holder.host} (pid {holder.pid}) did not stop within "
                                     f"{timeout:.0f}s of its stop file; stop it there")
                self._kill(holder)
        proc = self._process(job)
        if proc.pid() is not None:
            stopped = proc.stop(timeout=15) or stopped
        self.release(job)
        return stopped

    def kill(self, job: str) -> bool:
        """Kill ``job`` at once (SIGKILL, no clean stop): for tests of crash recovery."""
        holder = self.holder(job)
        if holder is not None and not holder.here:
            raise StackError(f"spark job {job} runs on {holder.host} (pid {holder.pid}): kill it there")
        if holder is not None:
            self._kill(holder)
        proc = self._process(job)
        if proc.pid() is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid() or 0, signal.SIGKILL)
            proc.stop(timeout=5)
        return holder is not None

    def _kill(self, holder: Holder) -> None:
        """SIGKILL the driver and, if it is spark-submit's JVM, its parent; wait until gone."""
        victims = [holder.pid]
        if holder.ppid and _is_spark_submit(holder.ppid):
            victims.append(holder.ppid)
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(pid_alive(p) for p in victims):
            time.sleep(0.1)

    def health(self, job: str) -> JobHealth:
        """Progress (from the job's progress file) and lag (broker end offsets - committed offsets)."""
        spec = job_spec(job)
        paths = job_paths(self.checkpoint_dir, job)
        holder = self.holder(job)
        report = JobHealth(job=job, running=holder is not None)
        if holder is not None:
            report.pid, report.mode = holder.pid, holder.mode
        if paths["progress"].exists():
            progress = json.loads(paths["progress"].read_text())
            report.state, report.error = progress.get("state"), progress.get("error")
            report.last_progress_at = progress.get("updated_at")
            last = progress.get("last_progress") or {}
            report.input_rows_per_second = last.get("inputRowsPerSecond")
            report.processed_rows_per_second = last.get("processedRowsPerSecond")
        report.committed_batch = last_committed_batch(paths["checkpoint"])
        committed = committed_offsets(paths["checkpoint"])
        source = self.topics[spec.topics["purchases-topic"]].name
        try:
            report.lag = self._lag(source, committed.get(source, {}))
        except StreamstackError as exc:
            if "beyond the end" not in str(exc):
                raise
            report.error, report.total_lag = f"{job}: {exc}", None
            return report
        report.total_lag = sum(report.lag.values())
        return report

    def check_checkpoint(self, job: str) -> None:
        """Refuse a checkpoint that points past the end of any of its source topics."""
        committed = committed_offsets(job_paths(self.checkpoint_dir, job)["checkpoint"])
        for topic, offsets in committed.items():
            try:
                self._lag(topic, offsets)
            except StreamstackError as exc:
                if "beyond the end" in str(exc):
                    raise StackError(f"spark job {job}: {exc.args[0].replace('`streamstack spark reset`', f'`streamstack spark reset {job}`')}") from None
                raise

    def reset(self, job: str) -> bool:
        """Delete ``job``'s checkpoint and progress (it restarts from the topics' start); refuses while it runs."""
        holder = self.holder(job)
        if holder is not None:
            raise StackError(f"spark job {job} is running (pid {holder.pid}); stop it first: `streamstack spark stop {job}`")
        paths = job_paths(self.checkpoint_dir, job)
        found = False
        if paths["checkpoint"].exists():
            shutil.rmtree(paths["checkpoint"])
            found = True
        for key in ("progress", "stop"):
            if paths[key].exists():
                paths[key].unlink()
                found = True
        return found

    def _lag(self, topic: str, committed: dict[int, int]) -> dict[str, int]:
        behind = lag(self.kafka_config, [topic], {topic: committed})
        if behind.beyond_end:
            raise StreamstackError(
                f"the checkpoint is beyond the end of topic {topic} ({behind.beyond_end_text()}): the topic was "
                "recreated (stack reset kafka?); reset the checkpoint: `streamstack spark reset`"
            )
        return behind.by_partition()

    def health_all(self, jobs: list[str] | None = None) -> list[JobHealth]:
        return [self.health(job) for job in (jobs or list(JOBS))]


def _is_spark_submit(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"org.apache.spark.deploy.SparkSubmit" in cmdline
