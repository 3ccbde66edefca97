"""The trigger that waits for stream jobs in the triggerer, holding no worker slot.

Modelled on the Kafka provider's ``AwaitMessageTrigger``: serialisable arguments (the engine, the
jobs, the connection ids), the engine built from the connections inside ``run``, every blocking
call (Kafka admin requests, the engine's REST or files) off the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent
from asgiref.sync import sync_to_async


class StreamJobTrigger(BaseTrigger):
    """Polls ``status`` of each job until all are done for ``mode``, or one fails.

    Fires one event: ``{"status": "done", "statuses": {job: status}}`` or
    ``{"status": "failed", "message": ..., "statuses": ...}``.

    :param engine: ``spark``, ``flink`` or ``kstreams`` (empty: ``STREAMSTACK_ENGINE``).
    :param jobs: job names.
    :param mode: ``bounded`` (wait until finished) or ``continuous`` (running with a commit).
    :param connections: the connection ids (``kafka_config_id``, ``spark_conn_id``, ...).
    :param poll_interval: seconds between two polls.
    """

    def __init__(self, engine: str, jobs: list[str], mode: str, connections: dict[str, str],
                 poll_interval: float = 5.0) -> None:
        super().__init__()
        self.engine, self.jobs, self.mode = engine, list(jobs), mode
        self.connections, self.poll_interval = dict(connections), poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "streamstack.providers.engines.triggers.StreamJobTrigger",
            {"engine": self.engine, "jobs": self.jobs, "mode": self.mode, "connections": self.connections,
             "poll_interval": self.poll_interval},
        )

    def poll_once(self) -> dict[str, Any]:
        from streamstack import engines
        from streamstack.providers.engines.hooks import engine_from_connections

        engine = engine_from_connections(self.engine, **self.connections)
        statuses = {job: engine.status(job) for job in self.jobs}
        mode = engines.Mode(self.mode)
        failed = [s for s in statuses.values() if s.failed]
        out = {"statuses": {job: s.as_dict() for job, s in statuses.items()},
               "lines": [s.line() for s in statuses.values()]}
        if failed:
            return {**out, "status": "failed", "message": "\n".join(s.line() for s in failed)}
        return {**out, "status": "done" if all(s.done(mode) for s in statuses.values()) else "waiting"}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        poll = sync_to_async(self.poll_once, thread_sensitive=False)
        while True:
            result = await poll()
            if result["status"] != "waiting":
                yield TriggerEvent(result)
                return
            self.log.info("waiting: %s", "; ".join(result["lines"]))
            await asyncio.sleep(self.poll_interval)
