"""Where the Flink distribution, its venv, the connector jar and the cluster's state live.

PyFlink cannot share a venv with the Airflow side (apache-beam pins grpcio/pyarrow below what
pyspark-client needs), so it lives in ``.venv-flink`` (``make flink-venv``). The apache-flink wheel
is a whole Flink distribution under ``site-packages/pyflink`` (``bin/``, ``lib/``, ``opt/``).
Every port is a setting (``STREAMSTACK_FLINK_*``) so parallel checkouts do not collide.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from streamstack.errors import ConfigError, StackError
from streamstack.settings import Settings

FLINK_VERSION = "2.2.1"
CONNECTOR_VERSION = "5.0.0-2.2"  # keep equal to tools/flink-kafka/pom.xml
CONNECTOR_JAR = f"flink-sql-connector-kafka-{CONNECTOR_VERSION}.jar"


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name) or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"environment variable {name}={raw!r} is not an integer") from None
    if not 0 <= value < 65536:
        raise ConfigError(f"environment variable {name}={raw!r} is not a valid port")
    return value


@dataclass(frozen=True)
class FlinkConfig:
    """The Flink side of the settings.

    :param rest_port: REST API and web dashboard (``STREAMSTACK_FLINK_PORT``, default 8081).
    :param rpc_port: JobManager RPC (``STREAMSTACK_FLINK_RPC_PORT``, default 6123).
    :param venv: the PyFlink venv (``STREAMSTACK_FLINK_VENV``, default ``<project>/.venv-flink``).
    """

    settings: Settings
    rest_port: int
    rpc_port: int
    venv: Path
    jobmanager_memory: str
    taskmanager_memory: str
    slots: int
    url_override: str | None = None

    @classmethod
    def from_env(cls, settings: Settings | None = None) -> FlinkConfig:
        settings = settings or Settings.from_env()
        venv = os.environ.get("STREAMSTACK_FLINK_VENV")
        return cls(
            settings=settings,
            rest_port=_port("STREAMSTACK_FLINK_PORT", 8081),
            rpc_port=_port("STREAMSTACK_FLINK_RPC_PORT", 6123),
            venv=Path(venv).expanduser().resolve() if venv else settings.project_dir / ".venv-flink",
            jobmanager_memory=os.environ.get("STREAMSTACK_FLINK_JOBMANAGER_MEMORY", "1024m"),
            taskmanager_memory=os.environ.get("STREAMSTACK_FLINK_TASKMANAGER_MEMORY", "1728m"),
            slots=int(os.environ.get("STREAMSTACK_FLINK_SLOTS", "4")),
            url_override=os.environ.get("STREAMSTACK_FLINK_URL") or None,
        )

    # -- addresses -------------------------------------------------------------------------
    @property
    def bind_host(self) -> str:
        """Where every Flink socket listens: ``STREAMSTACK_BIND_HOST`` (loopback unless set).

        Never ``STREAMSTACK_HOST``: that names the stack for its clients, and Flink's REST API
        accepts job submissions from anyone who reaches it (it has no authentication).
        """
        from streamstack.runtime.bind import bind_host

        return bind_host()

    @property
    def host(self) -> str:
        """The address Flink's daemons and clients connect to: the bind host itself, since no
        other address listens; only when every interface listens (a wildcard bind host, exposed
        on purpose) the advertised ``STREAMSTACK_HOST``."""
        from streamstack.runtime.bind import is_wildcard

        bind = self.bind_host
        if not is_wildcard(bind):
            return bind
        return "127.0.0.1" if self.settings.host == "localhost" else self.settings.host

    @property
    def rest_address(self) -> str:
        """``host:port`` of the REST API (an IPv6 literal in brackets), for ``flink run -m``: the
        overriding URL's (a connection's, ``STREAMSTACK_FLINK_URL``) when there is one."""
        if self.url_override:
            from urllib.parse import urlsplit

            return urlsplit(self.url_override).netloc
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.rest_port}"

    @property
    def rest_url(self) -> str:
        return self.url_override or f"http://{self.rest_address}"

    # -- the distribution ------------------------------------------------------------------
    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def home(self) -> Path:
        """``site-packages/pyflink`` of the venv: FLINK_HOME of the wheel's distribution."""
        found = sorted(self.venv.glob("lib/python3*/site-packages/pyflink"))
        if not found or not (found[-1] / "bin" / "flink").exists():
            raise StackError(
                f"flink: no PyFlink distribution in {self.venv} (expected lib/python3.*/site-packages/pyflink/bin/flink). "
                "Run `make flink-venv` (part of `make install`)."
            )
        return found[-1]

    @property
    def flink_bin(self) -> Path:
        return self.home / "bin" / "flink"

    @property
    def connector_dir(self) -> Path:
        return self.settings.cache_dir / f"flink-kafka-{CONNECTOR_VERSION}"

    @property
    def connector_jar(self) -> Path:
        return self.connector_dir / CONNECTOR_JAR

    # -- state -----------------------------------------------------------------------------
    @property
    def state_dir(self) -> Path:
        return self.settings.state_dir / "flink"

    @property
    def conf_dir(self) -> Path:
        return self.state_dir / "conf"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "log"

    @property
    def tmp_dir(self) -> Path:
        """Flink's ``io.tmp.dirs`` for the JobManager and clients (the TaskManager has its own)."""
        return self.state_dir / "tmp"

    @property
    def checkpoint_dir(self) -> Path:
        return self.state_dir / "checkpoints"

    @property
    def savepoint_dir(self) -> Path:
        return self.state_dir / "savepoints"

    @property
    def jobs_dir(self) -> Path:
        return self.settings.project_dir / "jobs" / "flink"

    def java_home(self) -> str:
        """JAVA_HOME for Flink's scripts: from the environment, else the JDK of ``java`` on PATH."""
        from streamstack.runtime.java import find_java

        if os.environ.get("JAVA_HOME"):
            return os.environ["JAVA_HOME"]
        return str(Path(os.path.realpath(find_java())).parents[1])

    def process_env(self) -> dict[str, str]:
        """Environment of every Flink script (cluster daemons and the ``flink`` CLI)."""
        return {
            "FLINK_CONF_DIR": str(self.conf_dir),
            "FLINK_LOG_DIR": str(self.log_dir),
            "FLINK_PID_DIR": str(self.state_dir / "pids"),
            "JAVA_HOME": self.java_home(),
            "PATH": f"{self.venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYFLINK_CLIENT_EXECUTABLE": str(self.python),
        }
