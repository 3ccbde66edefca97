"""Each engine as the tests run it: through the platform's engine protocol, isolated from the
platform's own runs (topics, checkpoints, job names and application ids of its own)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from streamstack import engines
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs

ENGINES = engines.ENGINES


def isolated(name: str, kafka: Settings, topics: TopicSpecs, tmp: Path,
             request: pytest.FixtureRequest) -> engines.StreamEngine:
    """Engine ``name`` on ``topics``, with state of its own under ``tmp`` (Flink: the session cluster)."""
    suffix = uuid.uuid4().hex[:8]
    config = kafka.kafka_client_config()
    if name == "spark":
        return engines.get("spark", settings=kafka, kafka_config=config, topics=topics,
                           checkpoint_dir=tmp / "checkpoints")
    if name == "flink":
        return engines.get("flink", cfg=request.getfixturevalue("flink"), kafka_config=config, topics=topics,
                           suffix=suffix)
    return engines.get("kstreams", settings=kafka, kafka_config=config, topics=topics, run_dir=tmp / "kstreams",
                       application_ids={job: f"test-{job.replace('_', '-')}-{suffix}" for job in engines.JOBS},
                       ports=dict.fromkeys(engines.JOBS, 0))


def run_bounded(engine: engines.StreamEngine, jobs: list[str], timeout: float = 600.0) -> dict[str, engines.JobStatus]:
    """Submit ``jobs`` bounded, side by side, and wait until each has finished."""
    engine.submit(jobs, engines.Mode.BOUNDED)
    return engines.wait(engine, jobs, engines.Mode.BOUNDED, timeout=timeout)
