"""Spark as an engine of the platform (``streamstack.engines.protocol``), over ``SparkJobControl``.

A bounded run is an available-now query started in the background like a continuous one: both
hold the job's checkpoint lock while they run, and both leave their last state in the job's
progress file (``stopped`` or ``failed``), which tells a finished bounded run from a stopped
continuous one. Lag is the checkpoint's committed offsets against every input topic.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from streamstack.engines.protocol import JobStatus, Mode, State, prepare
from streamstack.engines.rebuild import check_rebuild
from streamstack.engines.times import iso
from streamstack.errors import StreamstackError
from streamstack.settings import Settings
from streamstack.spark.checkpoint import committed_offsets, last_commit_time, last_committed_batch
from streamstack.spark.control import SparkJobControl
from streamstack.spark.jobs import job_spec
from streamstack.spark.lock import job_paths
from streamstack.topics import TopicSpecs
from streamstack.topics.offsets import lag

#: Flags of a job's command line that name the topics it streams (and commits offsets of): the
#: enrichment re-reads the whole products topic as a batch when it may have changed, so products
#: have no lag of their own.
INPUT_FLAGS = ("purchases-topic",)


class SparkEngine:
    """The Spark jobs of one checkpoint directory.

    :param master: Spark master (the ``spark_default`` connection's in Airflow).
    :param interval: processing-time trigger of continuous jobs.
    :param conf: Spark settings on top of the project's.
    """

    name = "spark"

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        kafka_config: dict[str, Any] | None = None,
        topics: TopicSpecs | None = None,
        checkpoint_dir: Path | None = None,
        master: str = "local[2]",
        interval: str = "1 second",
        conf: dict[str, str] | None = None,
    ) -> None:
        self.control = SparkJobControl(settings, topics=topics, checkpoint_dir=checkpoint_dir, kafka_config=kafka_config)
        self.master, self.interval, self.conf = master, interval, dict(conf or {})
        self.kafka_config = self.control.kafka_config
        self.topic_names = {t.logical: t.name for t in self.control.topics.topics}

    def submit(self, jobs: Sequence[str], mode: Mode, *, resume: bool = True,
               allow_shrink: bool = False) -> dict[str, JobStatus]:
        jobs = prepare(self, jobs, resume=resume, allow_shrink=allow_shrink)
        # Side by side: most of a start is a JVM starting and the driver taking its lock.
        with ThreadPoolExecutor(max_workers=max(1, len(jobs)), thread_name_prefix="spark-submit") as pool:
            futures = {job: pool.submit(self._start, job, mode) for job in jobs}
        errors = [f"{job}: {exc}" for job, f in futures.items() if (exc := f.exception()) is not None]
        if errors:
            raise StreamstackError("\n".join(errors))
        return {job: self.status(job) for job in jobs}

    def _start(self, job: str, mode: Mode) -> int:
        if mode == Mode.CONTINUOUS:
            return self.control.start(job, interval=self.interval, master=self.master, conf=self.conf)
        from streamstack.spark.jobs import jit_conf
        from streamstack.spark.report import backlog, snapshot

        jit = jit_conf(backlog(self.control, job, snapshot(self.control, job)))
        return self.control.start(job, trigger="available-now", master=self.master, conf={**jit, **self.conf})

    def status(self, job: str) -> JobStatus:
        paths = job_paths(self.control.checkpoint_dir, job)
        holder = self.control.holder(job)
        progress = json.loads(paths["progress"].read_text()) if paths["progress"].exists() else None
        recorded = _mode((progress or {}).get("mode"))
        status = JobStatus(self.name, job, State.NOT_STARTED, recorded)
        if holder is not None:
            status.state, status.mode = State.RUNNING, _mode(holder.mode)
            status.detail["pid"] = holder.pid
        elif self.control.launcher_pid(job) is not None:
            status.state = State.STARTING
        elif progress is not None:
            state = progress.get("state")
            if state == "failed":
                status.state, status.error = State.FAILED, progress.get("error")
            elif state == "stopped":
                status.state = State.FINISHED if recorded == Mode.BOUNDED else State.STOPPED
            else:
                status.state, status.error = State.FAILED, "the job ended without a final state (killed?)"
        checkpoint = paths["checkpoint"]
        committed = committed_offsets(checkpoint)
        inputs = [self.control.topics[t].name for f, t in job_spec(job).topics.items() if f in INPUT_FLAGS]
        status.lag = lag(self.control.kafka_config, inputs, committed)
        status.last_commit = iso(last_commit_time(checkpoint))
        status.detail["committed_batch"] = last_committed_batch(checkpoint)
        if progress and progress.get("last_progress"):
            status.detail["rows_per_s"] = progress["last_progress"].get("processedRowsPerSecond")
        return status

    def stop(self, job: str) -> JobStatus:
        self.control.stop(job)
        return self.status(job)

    def reset(self, job: str, *, allow_shrink: bool = False) -> list[str]:
        check_rebuild(self.kafka_config, self.topic_names, job, allow_shrink=allow_shrink)
        paths = job_paths(self.control.checkpoint_dir, job)
        existing = [str(paths[k]) for k in ("checkpoint", "progress") if paths[k].exists()]
        self.control.reset(job)
        return existing


def _mode(trigger: str | None) -> Mode | None:
    return {"available-now": Mode.BOUNDED, "processing-time": Mode.CONTINUOUS}.get(trigger or "")
