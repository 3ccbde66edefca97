"""Flink as an engine of the platform (``streamstack.engines.protocol``), over ``FlinkJobControl``.

The cluster knows each job by name and state; the state store adds what it cannot say: the mode
a job was submitted in and the savepoint of its last stop, so a job that FINISHED after a
stop-with-savepoint reads STOPPED (it resumes from there) and a bounded run reads FINISHED. Lag is
the job's consumer group, committed at checkpoints, against every input topic.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from streamstack.engines.choice import command
from streamstack.engines.protocol import JobStatus, Mode, State, prepare
from streamstack.engines.rebuild import check_rebuild
from streamstack.engines.times import iso
from streamstack.errors import StreamstackError
from streamstack.flink.config import FlinkConfig
from streamstack.flink.control import BOUNDED_FROM_GROUP, FlinkJobControl
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs, load_topics

#: Flink's job states as the platform's.
STATES = {
    "INITIALIZING": State.STARTING, "CREATED": State.STARTING, "RECONCILING": State.STARTING,
    "RUNNING": State.RUNNING, "RESTARTING": State.RUNNING, "FAILING": State.RUNNING, "CANCELLING": State.RUNNING,
    "FINISHED": State.FINISHED, "FAILED": State.FAILED, "CANCELED": State.FAILED, "SUSPENDED": State.FAILED,
}


class FlinkEngine:
    """The Flink jobs of one session cluster."""

    name = "flink"

    def __init__(
        self,
        cfg: FlinkConfig | None = None,
        *,
        settings: Settings | None = None,
        kafka_config: dict[str, Any] | None = None,
        topics: TopicSpecs | None = None,
        suffix: str = "",
    ) -> None:
        names = {t.logical: t.name for t in topics.topics} if topics is not None else None
        self.control = FlinkJobControl(cfg or FlinkConfig.from_env(settings), names, kafka_config=kafka_config,
                                       suffix=suffix)
        stack = self.control.cfg.settings
        self.kafka_config = kafka_config if kafka_config is not None else stack.kafka_client_config()
        self.topic_names = names or load_topics(stack.topics_file).names()

    def submit(self, jobs: Sequence[str], mode: Mode, *, resume: bool = True,
               allow_shrink: bool = False) -> dict[str, JobStatus]:
        # A bounded run of an aggregating job recomputes it from the inputs' start, every time.
        rebuilt = [job for job in jobs if mode == Mode.BOUNDED and job not in BOUNDED_FROM_GROUP]
        jobs = prepare(self, jobs, resume=resume, allow_shrink=allow_shrink, rebuilt=rebuilt)
        self.control.start_all(jobs, mode=str(mode), resume=resume)
        return {job: self.status(job) for job in jobs}

    def status(self, job: str) -> JobStatus:
        rest, record = self.control.rest, self.control.store.get(f"flink/jobs/{self.control.name_of(job)}") or {}
        mode = Mode(record["mode"]) if record.get("mode") else None
        status = JobStatus(self.name, job, State.NOT_STARTED, mode)
        known = [j for j in rest.jobs() if j["name"] == self.control.name_of(job)]
        if known:
            last = max(known, key=lambda j: j.get("start-time", 0))
            jid = last["jid"]
            health = rest.health(jid)
            status.state = STATES.get(health["state"], State.FAILED)
            savepoint = self.control.store.get(self.control.savepoint_key(job)) or {}
            if status.state == State.FINISHED and savepoint.get("jid") == jid:
                status.state = State.STOPPED
            if status.state == State.FAILED or health["state"] in ("RESTARTING", "FAILING"):
                status.error = f"{health['state']}: {rest.root_cause(jid)}"
            if record.get("jid") != jid:
                status.mode = None  # submitted by someone else: its mode is unknown here
            ack = health.get("last_checkpoint_age_s")
            status.last_commit = iso(None if ack is None else time.time() - ack)
            status.detail = {"jid": jid, "restarts": health["restarts"], "savepoint": savepoint.get("location")}
        if status.state == State.FINISHED and status.mode == Mode.BOUNDED and job not in BOUNDED_FROM_GROUP:
            # It read its input from the start to the end it saw, and the next bounded run does
            # so again: no committed offsets, nothing behind.
            status.detail["reads"] = "from the start on every bounded run"
        else:
            status.lag = self.control.input_lag(job)
        return status

    def stop(self, job: str) -> JobStatus:
        self.control.stop(job)
        return self.status(job)

    def reset(self, job: str, *, allow_shrink: bool = False) -> list[str]:
        """Forget the savepoint and the consumer group's offsets: the next run starts from the inputs' start."""
        check_rebuild(self.kafka_config, self.topic_names, job, allow_shrink=allow_shrink)
        if self.control.running(job) is not None:
            raise StreamstackError(f"Flink job {job} is running; stop it first: `{command('stop', 'flink', job)}`")
        from streamstack.clients import admin_client

        deleted = []
        if self.control.store.delete(self.control.savepoint_key(job)):
            deleted.append(f"savepoint pointer of {job}")
        config = self.control.kafka_config or self.control.cfg.settings.kafka_client_config()
        group = self.control.name_of(job)
        from streamstack.topics.offsets import group_offsets

        if group_offsets(config, group):
            admin = admin_client(config)  # referenced until done: a collected client never answers
            admin.delete_consumer_groups([group], request_timeout=30)[group].result(timeout=60)
            deleted.append(f"consumer group {group}")
        return deleted

