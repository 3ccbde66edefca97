"""Lifecycle of the Spark jobs on one checkpoint directory: start, stop, kill, reset.

Starting a job never stops another run's copy: a continuous copy is kept, an available-now one
(another run mid-work) is waited for, so two runs never kill each other's job nor leave two
copies writing one topic. Which copy writes is the driver holding the job's lock
(``streamstack.spark.lock``). A stop is SIGTERM to the driver, which stops the query between
micro-batches (checkpoint committed); only after ``timeout`` are the driver and its spark-submit
JVM killed. Status and lag are the engine's (``streamstack.spark.engine``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import time
from pathlib import Path
from typing import Any

from streamstack import engines
from streamstack.errors import StackError
from streamstack.runtime.process import ManagedProcess
from streamstack.settings import Settings
from streamstack.spark import lock
from streamstack.spark.checkpoint import committed_offsets
from streamstack.spark.jobs import checkpoint_root, job_spec, submission
from streamstack.spark.lock import Holder, job_paths
from streamstack.topics import TopicSpecs, load_topics
from streamstack.topics.offsets import lag

log = logging.getLogger(__name__)
#: Exit code of a job that found its lock held by another copy (jobs/spark/runner.py).
LOCK_HELD = 75


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
        return lock.holder(job_paths(self.checkpoint_dir, job)["lock"])

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
                    f"still works after {timeout:.0f}s; not stopping it (stop it with `{engines.command('stop', 'spark', job)}`)"
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
                lock.kill(holder)
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
            lock.kill(holder)
        proc = self._process(job)
        if proc.pid() is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid() or 0, signal.SIGKILL)
            proc.stop(timeout=5)
        return holder is not None

    def check_checkpoint(self, job: str) -> None:
        """Refuse a checkpoint that points past the end of any of its source topics."""
        committed = committed_offsets(job_paths(self.checkpoint_dir, job)["checkpoint"])
        behind = lag(self.kafka_config, committed, committed)
        if behind.beyond_end:
            raise StackError(
                f"spark job {job}: the checkpoint is beyond the end of its input ({behind.beyond_end_text()}): the "
                f"topic was recreated (stack reset kafka?); reset the checkpoint: `{engines.command('reset', 'spark', job)}`"
            )

    def reset(self, job: str) -> bool:
        """Delete ``job``'s checkpoint and progress (it restarts from the topics' start); refuses while it runs."""
        holder = self.holder(job)
        if holder is not None:
            raise StackError(f"spark job {job} is running (pid {holder.pid}); stop it first: `{engines.command('stop', 'spark', job)}`")
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
