"""Run, watch, stop and resume the Flink jobs: what the CLI and the Airflow operators call.

Rules kept here, once: a job name has at most one running copy (a retry finds the running job
by name and returns it instead of submitting another); a stop is a stop-with-savepoint, and its
path is recorded so ``resume`` (and a plain continuous start) continues from it with state and
Kafka offsets, losing and duplicating nothing.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamstack import engines
from streamstack.flink.config import FlinkConfig
from streamstack.flink.jobs import JOB_NAMES, FlinkError, job_name, submission
from streamstack.flink.rest import ALIVE, FlinkRest, FlinkUnreachable

if TYPE_CHECKING:
    from streamstack.topics.offsets import Lag


def job_is_alive(handle: dict[str, Any]) -> bool:
    """The engines' probe (``streamstack.engines.PROBES``): the job still runs on its cluster.

    A job the cluster does not know (HTTP 404: the cluster was restarted) has ended, and so has
    every job of a cluster that refuses connections (nothing listens: it is stopped); a cluster
    that does not answer in time raises (nobody can tell).
    """
    if "jid" not in handle:
        return False
    try:
        return FlinkRest(handle["rest"]).job(handle["jid"])["state"] in ALIVE
    except FlinkUnreachable as exc:
        if exc.refused:
            return False
        raise
    except FlinkError as exc:
        if "HTTP 404" in str(exc):
            return False
        raise


#: Jobs whose bounded runs go on from the consumer group's committed offsets; the others
#: recompute their absolute upserts from the start of the topic on every bounded run.
BOUNDED_FROM_GROUP = frozenset({"purchases_enrichment"})


@dataclass
class Started:
    job: str
    jid: str
    submitted: bool  # False: a copy was already running and is returned as is
    savepoint: str | None = None


class FlinkJobControl:
    """The Flink jobs of one stack (cluster at ``cfg.rest_url``, state under ``cfg.state_dir``)."""

    def __init__(self, cfg: FlinkConfig | None = None, topic_names: dict[str, str] | None = None,
                 kafka_config: dict[str, Any] | None = None, suffix: str = "") -> None:
        """``kafka_config``: librdkafka settings of the Kafka connection; None: the local broker's.
        ``suffix``: appended to the jobs' Flink names (and consumer groups): jobs of a comparison
        run on topics of their own never meet the platform's copies."""
        self.cfg = cfg or FlinkConfig.from_env()
        self.rest = FlinkRest(self.cfg.rest_url)
        self.topic_names = topic_names
        self.kafka_config = kafka_config
        self.store = engines.StateStore.default(self.cfg.settings.state_dir)
        self.suffix = suffix

    def name_of(self, job: str) -> str:
        """The job's name on the cluster (one running copy per name) and its consumer group."""
        return job_name(job, self.suffix)

    # -- files ------------------------------------------------------------------------------
    def contract_file(self) -> Path:
        """The resolved contract the jobs read, written fresh from config/contract.yaml."""
        from streamstack.contract import write_contract

        return write_contract(self.cfg.state_dir / "contract.json")

    def savepoint_key(self, job: str) -> str:
        return f"flink/savepoints/{self.name_of(job)}"

    def latest_savepoint(self, job: str) -> str | None:
        """The savepoint of the last stop (from the state store), while its files exist."""
        record = self.store.get(self.savepoint_key(job))
        if record is None:
            return None
        path = record["location"]
        local = path.removeprefix("file:")
        return path if Path(local).exists() else None

    # -- lifecycle --------------------------------------------------------------------------
    def _check(self, job: str) -> None:
        if job not in JOB_NAMES:
            raise FlinkError(f"unknown Flink job {job!r}; known: {list(JOB_NAMES)}")

    def running(self, job: str) -> dict[str, Any] | None:
        self._check(job)
        jobs = self.rest.running(self.name_of(job))
        return jobs[0] if jobs else None

    def start(self, job: str, mode: str = "continuous", resume: bool = True) -> Started:
        """Submit ``job`` unless a copy runs; a continuous start resumes from the latest savepoint."""
        self._check(job)
        current = self.running(job)
        if current is not None:
            return Started(job, current["jid"], submitted=False)
        savepoint = self.latest_savepoint(job) if resume else None
        extra = []
        if mode == "bounded" and job in BOUNDED_FROM_GROUP:
            # A scheduled bounded run continues where the last one committed (offsets commit at
            # checkpoints): each purchase is enriched once. The aggregating jobs recompute their
            # absolute upserts from the start of the topic instead, which is exact without state.
            extra = ["--starting-offsets", "group"]
        sub = submission(job, self.cfg, self.contract_file(), self.topic_names, mode=mode, savepoint=savepoint,
                         extra=extra, kafka_config=self.kafka_config, name=self.name_of(job))
        topics = engines.output_topics(sub.topics)
        engines.claim(self.store, topics, "flink", job, {"waiter": engines.this_process()})
        try:
            jid = sub.run()
        except BaseException:
            engines.release(self.store, topics, "flink", job)
            raise
        # Held while the job runs (bounded ones end on their own: the claim then lapses).
        engines.claim(self.store, topics, "flink", job, {"rest": self.cfg.rest_url, "jid": jid})
        self.store.put(f"flink/jobs/{self.name_of(job)}", {"mode": mode, "jid": jid, "at": time.time()})
        if savepoint:
            # Consumed: a later start must not rewind to it (the job's own checkpoints moved on).
            self.store.delete(self.savepoint_key(job))
        return Started(job, jid, submitted=True, savepoint=savepoint)

    def start_all(self, jobs: list[str], mode: str = "continuous", resume: bool = True) -> dict[str, Started]:
        """``start`` for each of ``jobs``, side by side.

        Most of a submission is the ``flink run`` client starting a JVM and a Python planner
        (35 s and more here); one after another, three jobs waited for three of them. If any
        fails, all failures are raised together once every submission has ended.
        """
        with ThreadPoolExecutor(max_workers=max(1, len(jobs)), thread_name_prefix="flink-submit") as pool:
            futures = {job: pool.submit(self.start, job, mode, resume) for job in jobs}
        errors = [f"{job}: {exc}" for job, f in futures.items() if (exc := f.exception()) is not None]
        if errors:
            raise FlinkError("\n".join(errors))
        return {job: f.result() for job, f in futures.items()}

    def wait_finished(self, jid: str, timeout: float = 1800) -> str:
        return self.rest.wait_state(jid, {"FINISHED"}, timeout=timeout)

    def stop(self, job: str) -> str | None:
        """Stop the running copy with a savepoint; returns its path (None if nothing ran)."""
        current = self.running(job)
        if current is None:
            return None
        target = (self.cfg.savepoint_dir / job).resolve()
        target.mkdir(parents=True, exist_ok=True)
        location = self.rest.stop_with_savepoint(current["jid"], target.as_uri())
        # The savepoint completes a moment before the job leaves RUNNING: a status asked right
        # after a stop must not find it running.
        self.rest.wait_state(current["jid"], {"FINISHED"}, timeout=120)
        self.store.put(self.savepoint_key(job), {"location": location, "jid": current["jid"], "at": time.time()})
        engines.release(self.store, None, "flink", job)
        return location

    def status(self, job: str) -> dict[str, Any]:
        """Health of the job from the REST API (state, restarts, last checkpoint) plus Kafka lag."""
        current = self.running(job)
        if current is None:
            finished = [j for j in self.rest.jobs() if j["name"] == self.name_of(job)]
            last = max(finished, key=lambda j: j.get("start-time", 0)) if finished else None
            return {"job": job, "state": last["state"] if last else "NOT_SUBMITTED",
                    "jid": last["jid"] if last else None, "savepoint": self.latest_savepoint(job)}
        health = self.rest.health(current["jid"])
        health["job"] = job
        health["lag"] = self.lag(job)
        return health

    def input_lag(self, job: str) -> Lag:
        """The job's consumer group (committed at checkpoints) behind the purchases it streams (the
        enrichment reads the products topic from its start on every run: it has no lag)."""
        from streamstack.flink.jobs import JOB_TOPICS
        from streamstack.topics.offsets import group_offsets, lag

        names = self.topic_names
        if names is None:
            from streamstack.topics import load_topics

            names = {t.logical: t.name for t in load_topics(self.cfg.settings.topics_file).topics}
        inputs = [names[logical] for flag, logical in JOB_TOPICS[job].items() if flag == "purchases-topic"]
        config = self.kafka_config if self.kafka_config is not None else self.cfg.settings.kafka_client_config()
        return lag(config, inputs, group_offsets(config, self.name_of(job)))

    def lag(self, job: str) -> int:
        """Records of the job's inputs not yet committed by its consumer group (at checkpoints)."""
        return self.input_lag(job).total
