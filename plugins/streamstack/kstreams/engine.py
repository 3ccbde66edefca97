"""Kafka Streams as an engine of the platform (``streamstack.engines.protocol``), over ``KStreamsControl``.

Each job is an app in its own JVM. A bounded run records, when submitted, the end offsets of its
inputs in the state store; once its JVM has exited, it FINISHED if its consumer group (the
application id) committed them, and FAILED if it ended before. Lag is that consumer group against
every input topic. A RUNNING app commits its transaction every commit interval (100 ms), so its
last commit is "now".
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from streamstack.engines.protocol import JobStatus, Mode, State, prepare
from streamstack.engines.rebuild import check_rebuild
from streamstack.engines.times import iso
from streamstack.kstreams.control import KStreamsControl
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs
from streamstack.topics.offsets import group_offsets, watermarks


class KStreamsEngine:
    """The Kafka Streams apps of one stack (``KStreamsControl``'s options pass through)."""

    name = "kstreams"

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        kafka_config: dict[str, Any] | None = None,
        topics: TopicSpecs | None = None,
        threads: int = 1,
        **options: Any,
    ) -> None:
        self.control = KStreamsControl(settings, topics=topics, kafka_config=kafka_config, **options)
        self.threads = threads
        self.kafka_config = self.control.kafka_config
        self.topic_names = {t.logical: t.name for t in self.control.topics.topics}

    def submit(self, jobs: Sequence[str], mode: Mode, *, resume: bool = True,
               allow_shrink: bool = False) -> dict[str, JobStatus]:
        jobs = prepare(self, jobs, resume=resume, allow_shrink=allow_shrink)
        if mode == Mode.BOUNDED:
            self.control.launch_bounded(jobs, threads=self.threads)
        else:
            for job in jobs:
                self.control.start(job, threads=self.threads)
        return {job: self.status(job) for job in jobs}

    def status(self, job: str) -> JobStatus:
        control = self.control
        record = control.record(job) or {}
        status = JobStatus(self.name, job, State.NOT_STARTED, Mode(record["mode"]) if record.get("mode") else None)
        health = control.health(job)
        status.lag = control.input_lag(job)
        if health.running:
            status.state = {"RUNNING": State.RUNNING, "ERROR": State.FAILED}.get(health.state or "", State.STARTING)
            status.detail = {"pid": health.pid, "port": health.port, "streams_state": health.state}
            status.error = health.error
            if status.state == State.RUNNING:
                status.last_commit = iso(time.time())
        elif record.get("mode") == Mode.BOUNDED:
            remaining = self._remaining(job, record["target"])
            status.state = State.FINISHED if not remaining else State.FAILED
            if remaining:
                status.error = f"ended {remaining} records short of its inputs' end at submission: {health.error or 'see its log'}"
        elif record.get("stopped"):
            status.state = State.STOPPED
        elif record:
            status.state, status.error = State.FAILED, health.error or "the app is not running (killed?)"
        return status

    def _remaining(self, job: str, target: dict[str, dict[str, int]]) -> int:
        """Records between what the app's group committed and the offsets recorded at submission."""
        committed = group_offsets(self.control.kafka_config, self.control.application_id(job))
        remaining = 0
        for topic, ends in target.items():
            marks = watermarks(self.control.kafka_config, topic)
            for partition, end in ends.items():
                low = marks.get(int(partition), (0, 0))[0]
                done = committed.get(topic, {}).get(int(partition), -1)
                remaining += max(0, end - max(done, low))
        return remaining

    def stop(self, job: str) -> JobStatus:
        self.control.stop(job)
        return self.status(job)

    def reset(self, job: str, *, allow_shrink: bool = False) -> list[str]:
        check_rebuild(self.kafka_config, self.topic_names, job, allow_shrink=allow_shrink)
        report = self.control.reset(job)
        return ([f"consumer group {report.application_id}"] if report.group_deleted else []) + [
            f"topic {t}" for t in report.topics_deleted
        ] + ([f"local state of {report.application_id}"] if report.state_removed else [])
