"""Submitting the PyFlink jobs of ``jobs/flink/`` to the session cluster with the ``flink`` CLI.

``flink run -d -py jobs/flink/<job>.py --jarfile <connector> -- <job args>``: the CLI compiles the
Python program on the client (the venv's python), ships it and the connector jar, and returns once
the cluster accepted the job (``-d``). Topics come from ``config/topics.yaml`` (or a
:class:`TopicSpecs` with other names, e.g. an engine comparison's own output topics).
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamstack.errors import StreamstackError
from streamstack.flink.config import FlinkConfig

JOB_NAMES = ("purchases_enrichment", "running_totals", "sales_windows")
MODES = ("bounded", "continuous")
#: Topic arguments of each job: flag -> logical topic of config/topics.yaml.
JOB_TOPICS: dict[str, dict[str, str]] = {
    "purchases_enrichment": {"purchases-topic": "purchases", "products-topic": "products",
                             "output-topic": "purchases_enriched", "invalid-topic": "purchases_invalid"},
    "running_totals": {"purchases-topic": "purchases", "output-topic": "running_totals"},
    "sales_windows": {"purchases-topic": "purchases", "output-topic": "sales_windows",
                      "invalid-topic": "purchases_invalid"},
}
#: What each job's continuous (live) run is given beyond the job's own defaults (exactly-once
#: sinks, a 30 s source idle timeout), per output: the enrichment's rows and dead letters go to
#: Pinot tables that de-duplicate them (transaction_id + line_number; a dead letter's source
#: coordinates), so a replay after a crash costs nothing there, while a transactional sink shows
#: rows only at checkpoints (5 s), and a quiet partition (the products topic, mostly) held the
#: watermark, and the version join with it, for 30 s: live p95 17 s (bench/live.py). A purchase
#: behind the watermark is still joined with its version (``version_join``), so the short idle
#: timeout loses nothing. Totals and windows stay exactly-once: a duplicate would be counted.
#: Readers of the enriched topic other than Pinot de-duplicate on the same key (docs/services/flink.md).
CONTINUOUS_ARGS: dict[str, list[str]] = {
    "purchases_enrichment": ["--delivery", "at-least-once", "--idle-timeout", "1 s"],
}
JOB_ID = re.compile(r"JobID ([0-9a-f]{32})|job(?:ID| id)? ([0-9a-f]{32})", re.I)


class FlinkError(StreamstackError):
    """A Flink job could not be submitted, found, stopped or resumed."""


def job_name(job: str, suffix: str = "") -> str:
    """The Flink job name: one running copy per name is the rule the submitter enforces."""
    return f"streamstack.{job}{('.' + suffix) if suffix else ''}"


@dataclass
class Submission:
    """One ``flink run`` invocation."""

    job: str
    cfg: FlinkConfig
    contract_file: Path
    topics: dict[str, str]
    mode: str = "continuous"
    name: str = ""
    savepoint: str | None = None
    extra: list[str] = field(default_factory=list)
    detached: bool = True
    #: Parallel subtasks of each operator (the job's ``--parallelism``; it overrides ``flink run -p``).
    parallelism: int | None = None
    #: librdkafka settings of the Kafka connection (``kafka_default``); None: the local broker.
    #: Bootstrap servers go on the command line, everything else (SASL, TLS) as Java client
    #: properties to a 0600 file passed as ``--kafka-config-file``: no secret in ``/proc/*/cmdline``.
    kafka_config: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.job not in JOB_NAMES:
            raise FlinkError(f"unknown Flink job {self.job!r}; known: {list(JOB_NAMES)}")
        if self.mode not in MODES:
            raise FlinkError(f"mode {self.mode!r} is not one of {list(MODES)}")
        self.name = self.name or job_name(self.job)

    def command(self) -> list[str]:
        cmd = [str(self.cfg.flink_bin), "run", "-m", self.cfg.rest_address]
        if self.detached:
            cmd.append("-d")
        if self.savepoint:
            cmd += ["-s", self.savepoint]
        cmd += ["-py", str(self.cfg.jobs_dir / f"{self.job}.py"), "-pyexec", str(self.cfg.python),
                "-pyclientexec", str(self.cfg.python), "--jarfile", str(self.cfg.connector_jar)]
        from streamstack.kafka_config import java_client_properties, write_private_json

        settings = self.cfg.settings
        java = java_client_properties(self.kafka_config if self.kafka_config is not None
                                      else settings.kafka_client_config())
        servers = java.pop("bootstrap.servers", None) or settings.bootstrap_servers
        args = ["--bootstrap-servers", servers, "--contract", str(Path(self.contract_file).resolve()),
                "--mode", self.mode, "--job-name", self.name]
        if java:
            args += ["--kafka-config-file", str(write_private_json(settings.state_dir / "secrets", java))]
        for flag, topic in self.topics.items():
            args += [f"--{flag}", topic]
        if self.parallelism is not None:
            args += ["--parallelism", str(self.parallelism)]
        if self.mode == "continuous":
            args += CONTINUOUS_ARGS.get(self.job, [])
        return cmd + args + self.extra

    def env(self) -> dict[str, str]:
        return {**os.environ, **self.cfg.process_env(),
                "STREAMSTACK_PLUGINS_DIR": str(self.cfg.settings.project_dir / "plugins")}

    def run(self, timeout: float = 600) -> str:
        """Submit; returns the Flink job id. Raises with the CLI's output when it fails."""
        proc = subprocess.run(self.command(), env=self.env(), capture_output=True, text=True, timeout=timeout,
                              check=False, cwd=str(self.cfg.jobs_dir))
        out = proc.stdout + proc.stderr
        found = JOB_ID.search(out)
        if proc.returncode != 0 or not found:
            tail = "\n".join(line for line in out.strip().splitlines() if not line.startswith(("\tat ", "\t... ")))[-6000:]
            raise FlinkError(f"flink run {self.job} failed (exit {proc.returncode}):\n{tail}")
        return found.group(1) or found.group(2)


def submission(job: str, cfg: FlinkConfig, contract_file: Path, topic_names: dict[str, str] | None = None,
               **kwargs) -> Submission:
    """A submission of ``job`` with its topics from ``topic_names`` (logical -> Kafka name)."""
    if topic_names is None:
        from streamstack.topics import load_topics

        specs = load_topics(cfg.settings.topics_file)
        topic_names = {t.logical: t.name for t in specs.topics}
    topics = {flag: topic_names[logical] for flag, logical in JOB_TOPICS[job].items()}
    return Submission(job=job, cfg=cfg, contract_file=contract_file, topics=topics, **kwargs)
