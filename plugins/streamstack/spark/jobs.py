"""The Spark jobs of ``jobs/spark/`` and how to submit them: one place builds every spark-submit.

The CLI, the DAG (through ``SparkSubmitOperator``), the continuous-mode controller and the
tests all submit through :func:`submission`, so topics, checkpoints, jars and Spark settings
never drift between them. Topic names come from ``config/topics.yaml`` (or given specs, e.g. the
tests' suffixed topics); nothing here runs Spark.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamstack.errors import ConfigError, StackError
from streamstack.runtime.java import QUICK_JIT
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs, load_topics

TRIGGERS = ("available-now", "processing-time")

#: Light defaults for the 2-core embedded stack; callers may override any of them.
DEFAULT_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.memory": "1g",
    "spark.sql.streaming.stopGracefullyOnShutdown": "true",
    # The validation's generated method is over the 8 kB the JVM JIT-compiles by default; left
    # interpreted it cost ~15% of the enrichment's batch time (bench/RESULTS.md).
    "spark.driver.extraJavaOptions": "-XX:-DontCompileHugeMethods",
    "spark.executor.extraJavaOptions": "-XX:-DontCompileHugeMethods",
}


#: An available-now run with at most this many input records to read is "small".
SMALL_BACKLOG = 50_000


def jit_conf(backlog: int) -> dict[str, str]:
    """The driver's JIT for an available-now run with ``backlog`` input records to read.

    Measured here (docs/README.md, Timings; three jobs side by side, alternating rounds): 734
    rows took 45 s instead of 73 s, ~11k rows 44 s instead of 84 s. Large backlogs and
    continuous runs, where C2 pays, keep the JVM's default.
    """
    if backlog > SMALL_BACKLOG:
        return {}
    return {"spark.driver.extraJavaOptions": f"{DEFAULT_CONF['spark.driver.extraJavaOptions']} {QUICK_JIT}"}


def bind_conf() -> dict[str, str]:
    """The driver (RPC, block manager) on the stack's bind host, loopback by default."""
    from streamstack.runtime.bind import bind_host, is_wildcard

    host = bind_host()
    return {} if is_wildcard(host) else {"spark.driver.bindAddress": host, "spark.driver.host": host}


@dataclass(frozen=True)
class JobSpec:
    """One job: its script and which logical topic each ``--<flag>`` argument names."""

    name: str
    script: str
    topics: dict[str, str]
    description: str = ""


JOBS: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec(
            "purchases_enrichment",
            "purchases_enrichment.py",
            {
                "purchases-topic": "purchases",
                "products-topic": "products",
                "output-topic": "purchases_enriched",
                "invalid-topic": "purchases_invalid",
            },
            "purchases + latest product version -> enriched purchases; bad input -> dead letters",
        ),
        JobSpec(
            "running_totals",
            "running_totals.py",
            {"purchases-topic": "purchases", "output-topic": "running_totals"},
            "unwindowed totals per product",
        ),
        JobSpec(
            "sales_windows",
            "sales_windows.py",
            {"purchases-topic": "purchases", "output-topic": "sales_windows", "invalid-topic": "purchases_invalid"},
            "10-minute windows sliding 5 minutes; lines behind the watermark -> dead letters (late)",
        ),
    )
}


def job_spec(name: str) -> JobSpec:
    try:
        return JOBS[name]
    except KeyError:
        raise ConfigError(f"unknown Spark job '{name}' (known: {', '.join(JOBS)})") from None


def jobs_dir(settings: Settings) -> Path:
    return settings.project_dir / "jobs" / "spark"


def checkpoint_root(settings: Settings) -> Path:
    """``STREAMSTACK_SPARK_CHECKPOINT_DIR`` (a path every worker sees, e.g. NFS), else the state dir.

    On a multi-worker executor the checkpoints, locks and progress files must be on storage that
    every worker mounts at the same path: a task on another worker then resumes, stops or reports
    the same job (docs/services/spark.md).
    """
    import os

    configured = os.environ.get("STREAMSTACK_SPARK_CHECKPOINT_DIR")
    return Path(configured) if configured else settings.state_dir / "spark" / "checkpoints"


#: The modules every job imports besides pyspark, shipped with ``--py-files``.
SHARED_MODULES = ("kafka_io.py", "runner.py", "validation.py")


def contract_file(settings: Settings) -> Path:
    """The resolved event contract the jobs read (``--contract``), written when it changes.

    Named by content, so a running job keeps the rules it started with while a new submission
    after a generator-setting change gets the new ones.
    """
    import json

    from streamstack.contract import load_contract, write_contract

    resolved = load_contract()
    digest = hashlib.sha256(json.dumps(resolved, sort_keys=True).encode()).hexdigest()[:12]
    target = settings.state_dir / "contract" / f"contract-{digest}.json"
    if not target.exists():
        write_contract(target, resolved)
    return target


def spark_submit_binary() -> str:
    """``spark-submit`` beside this Python (the venv's), else on PATH."""
    beside = Path(sys.executable).parent / "spark-submit"
    if beside.exists():
        return str(beside)
    found = shutil.which("spark-submit")
    if not found:
        raise StackError("spark-submit not found beside the Python interpreter nor on PATH (pip install pyspark)")
    return found


@dataclass(frozen=True)
class Submission:
    """Everything spark-submit needs for one job run (maps 1:1 onto ``SparkSubmitOperator``)."""

    job: str
    application: str
    application_args: list[str]
    jars: list[str]
    py_files: list[str]
    conf: dict[str, str]
    env: dict[str, str] = field(default_factory=dict)
    checkpoint_dir: str = ""

    def command(self, master: str = "local[2]", binary: str | None = None) -> list[str]:
        cmd = [binary or spark_submit_binary(), "--master", master, "--name", f"streamstack-{self.job}"]
        for key, value in self.conf.items():
            cmd += ["--conf", f"{key}={value}"]
        if self.jars:
            cmd += ["--jars", ",".join(self.jars)]
        if self.py_files:
            cmd += ["--py-files", ",".join(self.py_files)]
        return [*cmd, self.application, *self.application_args]


def submission(
    job: str,
    settings: Settings | None = None,
    *,
    trigger: str = "available-now",
    interval: str = "1 second",
    topics: TopicSpecs | None = None,
    checkpoint_dir: Path | None = None,
    jars: list[Path] | None = None,
    conf: dict[str, str] | None = None,
    extra_args: list[str] | None = None,
    bootstrap_servers: str | None = None,
    contract: Path | None = None,
    kafka_config: dict[str, Any] | None = None,
) -> Submission:
    """Build the submission of ``job``; resolves the connector jars unless ``jars`` is given.

    :param kafka_config: librdkafka settings of the Kafka connection (default: the local broker).
        Its bootstrap servers go on the command line; everything else (SASL, TLS) goes to a 0600
        file passed as ``--kafka-config-file``, so no secret is visible in ``/proc/*/cmdline``.
    :param bootstrap_servers: overrides the connection's bootstrap servers.
    """
    from streamstack.kafka_config import java_client_properties, write_private_json
    from streamstack.spark.jars import connector_jars

    spec = job_spec(job)
    if trigger not in TRIGGERS:
        raise ConfigError(f"trigger must be one of {TRIGGERS}, got {trigger!r}")
    settings = settings or Settings.from_env()
    topics = topics or load_topics(settings.topics_file)
    checkpoint_dir = checkpoint_dir or checkpoint_root(settings)
    java = java_client_properties(kafka_config if kafka_config is not None else settings.kafka_client_config())
    servers = bootstrap_servers or java.pop("bootstrap.servers", None) or settings.bootstrap_servers
    java.pop("bootstrap.servers", None)
    args = [
        "--bootstrap-servers", servers,
        "--checkpoint-dir", str(checkpoint_dir),
        "--contract", str(contract or contract_file(settings)),
        "--trigger", trigger,
        "--interval", interval,
    ]
    if java:
        args += ["--kafka-config-file", str(write_private_json(settings.state_dir / "secrets", java))]
    for flag, logical in spec.topics.items():
        args += [f"--{flag}", topics[logical].name]
    directory = jobs_dir(settings)
    return Submission(
        job=job,
        application=str(directory / spec.script),
        application_args=[*args, *(extra_args or [])],
        jars=[str(j) for j in (jars if jars is not None else connector_jars(settings))],
        py_files=[str(directory / name) for name in SHARED_MODULES],
        conf={**DEFAULT_CONF, **bind_conf(), **(conf or {})},
        env={
            "PYSPARK_PYTHON": sys.executable,
            "PYSPARK_DRIVER_PYTHON": sys.executable,
            # Spark's start-up INFO lines would bury the job's report in the task log.
            "SPARK_CONF_DIR": os.environ.get("SPARK_CONF_DIR") or str(settings.project_dir / "config" / "spark"),
        },
        checkpoint_dir=str(checkpoint_dir),
    )
