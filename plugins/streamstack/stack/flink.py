"""A real Apache Flink session cluster from the apache-flink wheel: a JobManager and a TaskManager.

Two services, two JVMs, as on a real cluster: ``flink-jobmanager`` (REST API + dashboard on
``STREAMSTACK_FLINK_PORT``, default 8081) and ``flink-taskmanager`` (ready once the JobManager
lists it in ``/overview``). Both run the wheel's own scripts in the foreground
(``jobmanager.sh start-foreground``) so the stack's process handling (pid file, log file, stop
by process group) applies unchanged. Every socket binds ``STREAMSTACK_BIND_HOST`` (loopback by
default). The cluster's conf, checkpoints and savepoints live with the JobManager under
``<state>/flink``, the TaskManager's pid and logs under ``<state>/flink-taskmanager``.
Findings and pitfalls: ``docs/services/flink.md``.
"""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request

import yaml

from streamstack.errors import StackError
from streamstack.flink.config import CONNECTOR_JAR, FlinkConfig
from streamstack.runtime.java import QUICK_JIT
from streamstack.runtime.maven import copy_dependencies
from streamstack.runtime.process import ManagedProcess
from streamstack.settings import Settings
from streamstack.stack.service import Service


def flink_conf(cfg: FlinkConfig) -> dict[str, object]:
    """The cluster's ``config.yaml``: bound to the bind host, small memory, checkpoints under the state dir."""
    host, bind = cfg.host, cfg.bind_host
    return {
        "jobmanager.rpc.address": host,
        "jobmanager.rpc.port": cfg.rpc_port,
        # Listen on the bind host (loopback by default), never the advertised STREAMSTACK_HOST:
        # the blob server and the TaskManager's data port bind these two as well.
        "jobmanager.bind-host": bind,
        "taskmanager.bind-host": bind,
        "taskmanager.host": host,
        "rest.address": host,
        "rest.bind-address": bind,
        "rest.port": cfg.rest_port,
        # Random free ports for the rest: several checkouts share one machine.
        "blob.server.port": "0",
        "taskmanager.rpc.port": "0",
        "taskmanager.data.port": 0,
        # Temporary files (a TaskManager's ~500 MB blob cache, each client's RPC jar) in the stack's
        # state, not /tmp, where every process killed before its clean-up left them (13 GB a day).
        "io.tmp.dirs": str(cfg.tmp_dir),
        "jobmanager.memory.process.size": cfg.jobmanager_memory,
        "taskmanager.memory.process.size": cfg.taskmanager_memory,
        "taskmanager.memory.managed.size": "256m",
        # Each job brings its own classloader (Kafka connector, Python runner): 256m default ran out.
        "taskmanager.memory.jvm-metaspace.size": "384m",
        "taskmanager.numberOfTaskSlots": cfg.slots,
        "parallelism.default": 1,
        "state.backend.type": "hashmap",
        "execution.checkpointing.interval": "5s",
        "execution.checkpointing.dir": cfg.checkpoint_dir.resolve().as_uri(),
        "execution.checkpointing.savepoint-dir": cfg.savepoint_dir.resolve().as_uri(),
        "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        "execution.checkpointing.num-retained": 2,
        "restart-strategy.type": "exponential-delay",
        "restart-strategy.exponential-delay.initial-backoff": "1s",
        "restart-strategy.exponential-delay.max-backoff": "10s",
        "heartbeat.timeout": 15000,
        "python.executable": str(cfg.python),
        "python.client.executable": str(cfg.python),
        "table.local-time-zone": "UTC",
        # The wheel's own config carries the --add-opens/--add-exports Java 17 needs (the CLI fails
        # in ExecutionEnvironmentImpl without them); keep them and add a UTC JVM zone.
        "env.java.opts.all": f"{_wheel_java_opts(cfg)} -Duser.timezone=UTC".strip(),
        # The `flink run` client lives for one submission: the quick JIT halves its CPU.
        "env.java.opts.client": QUICK_JIT,
        "web.submit.enable": False,
        "web.cancel.enable": True,
    }


def _wheel_java_opts(cfg: FlinkConfig) -> str:
    data = yaml.safe_load((cfg.home / "conf" / "config.yaml").read_text()) or {}
    return str(((data.get("env") or {}).get("java") or {}).get("opts", {}).get("all", ""))


def overview(cfg: FlinkConfig, timeout: float = 2.0) -> dict | None:
    """``GET /overview`` of the cluster, or None when it does not answer."""
    try:
        with urllib.request.urlopen(f"{cfg.rest_url}/overview", timeout=timeout) as resp:
            return json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


class _FlinkDaemon(Service):
    """What both Flink processes share: one conf dir, the wheel's scripts."""

    role = ""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.flink = FlinkConfig.from_env(settings)

    def resolve(self) -> None:
        self.flink.home  # noqa: B018 - raises with the make target to run when the venv is missing
        copy_dependencies(self.settings.project_dir / "tools" / "flink-kafka" / "pom.xml", self.flink.connector_dir)
        if not (self.flink.connector_dir / CONNECTOR_JAR).is_file():
            raise StackError(f"{self.name}: Maven reported success but {self.flink.connector_jar} is missing")

    def prepare(self) -> None:
        cfg = self.flink
        for d in (cfg.conf_dir, cfg.log_dir, cfg.checkpoint_dir, cfg.savepoint_dir, cfg.state_dir / "pids"):
            d.mkdir(parents=True, exist_ok=True)
        for name in ("log4j-console.properties", "log4j.properties", "log4j-cli.properties", "logback-console.xml"):
            src = cfg.home / "conf" / name
            if src.exists():
                shutil.copyfile(src, cfg.conf_dir / name)
        text = "# written by streamstack (stack/flink.py); edits are overwritten on start\n"
        (cfg.conf_dir / "config.yaml").write_text(text + yaml.safe_dump(flink_conf(cfg), sort_keys=False))
        if self.role == "jobmanager":
            self._fresh_tmp()

    def command(self) -> list[str]:
        return [str(self.flink.home / "bin" / f"{self.role}.sh"), "start-foreground"]

    def _fresh_tmp(self) -> None:
        """An empty ``<folder>/tmp``: what is there was left by a previous process of this role."""
        tmp = self.state_dir / "tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)

    def env(self) -> dict[str, str]:
        return self.flink.process_env()

    def endpoints(self) -> dict[str, str]:
        return {"dashboard": self.flink.rest_url}


class FlinkJobManagerService(_FlinkDaemon):
    """The JobManager: dispatcher, resource manager, REST API and web dashboard.

    Its folder is the cluster's, ``<state>/flink``: conf, checkpoints, savepoints and the jobs'
    records, which the jobs live and die with (a session cluster without HA loses its jobs
    with its JobManager). ``stack reset flink-jobmanager`` deletes them.
    """

    name = "flink-jobmanager"
    role = "jobmanager"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.state_dir = self.flink.state_dir
        self.process = ManagedProcess(self.name, self.state_dir)

    def ports(self) -> dict[str, int]:
        return {"rest": self.flink.rest_port, "rpc": self.flink.rpc_port}

    def ready(self) -> bool:
        return overview(self.flink) is not None


class FlinkTaskManagerService(_FlinkDaemon):
    """The TaskManager: runs the jobs' tasks (and their Python workers) in its slots.

    Its pid, logs and Flink's pid dir live in a folder of its own, ``<state>/flink-taskmanager``:
    resetting it must not delete the savepoints (the only way to resume a continuous job) or the
    pid file of a JobManager that keeps running with its jobs, nor resetting the JobManager the
    pid file of a running TaskManager.
    """

    name = "flink-taskmanager"
    role = "taskmanager"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._adopt_legacy_pid_file()

    def _adopt_legacy_pid_file(self) -> None:
        """A TaskManager started before it had a folder of its own left its pid file in the
        JobManager's: move it here, so ``status``, ``down`` and ``up`` still see that process
        (the file holds its start time, which ``ManagedProcess.pid`` checks)."""
        legacy = self.flink.state_dir / self.process.pid_file.name
        if legacy.exists() and not self.process.pid_file.exists():
            self.state_dir.mkdir(parents=True, exist_ok=True)
            legacy.replace(self.process.pid_file)

    def ports(self) -> dict[str, int]:
        return {}

    def prepare(self) -> None:
        """The JobManager wrote the conf; the TaskManager only needs it to be there."""
        if not (self.flink.conf_dir / "config.yaml").exists():
            super().prepare()
        (self.state_dir / "log").mkdir(parents=True, exist_ok=True)
        self._fresh_tmp()

    def command(self) -> list[str]:
        """The cluster's conf with its own temporary folder (blob cache, working dir) in its folder."""
        return [*super().command(), "-D", f"io.tmp.dirs={self.state_dir / 'tmp'}"]

    def env(self) -> dict[str, str]:
        """The cluster's conf, but logs and Flink's pid file in the TaskManager's own folder."""
        return {**super().env(), "FLINK_LOG_DIR": str(self.state_dir / "log"),
                "FLINK_PID_DIR": str(self.state_dir / "pids")}

    def ready(self) -> bool:
        info = overview(self.flink)
        return bool(info and info.get("taskmanagers", 0) >= 1)
