"""Airflow 3 in the embedded stack: api-server, scheduler, dag-processor and triggerer.

``airflow standalone`` runs the four components as children of one process, so the stack
manages a single pid (its process group is stopped as a whole). The environment is the same
as for ``streamstack airflow ...``: home under the state dir, DAGs from ``dags/``, connections
for the local services from ``AIRFLOW_CONN_*`` variables.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import requests

from streamstack.airflow_env import airflow_environment, private_airflow_home
from streamstack.errors import StackError
from streamstack.runtime.bind import bind_host
from streamstack.runtime.ports import port_open
from streamstack.runtime.process import private_file
from streamstack.spark.jars import connector_jars
from streamstack.stack.service import Service

ADMIN_USER = "admin"


class AirflowService(Service):
    """Airflow standalone on ``STREAMSTACK_AIRFLOW_PORT`` (8080), SQLite metadata DB."""

    name = "airflow"

    @property
    def start_timeout(self) -> float:
        # Migrating a new metadata DB and parsing every DAG takes a while on 2 cores.
        return max(self.settings.start_timeout, 240.0)

    @property
    def executable(self) -> str:
        here = Path(sys.executable).parent / "airflow"
        if not here.exists():
            raise StackError(f"airflow: {here} not found; run `make install` first")
        return str(here)

    def ports(self) -> dict[str, int]:
        return {"api": self.settings.airflow_port}

    def endpoints(self) -> dict[str, str]:
        return {"ui": self.settings.airflow_url, "user": ADMIN_USER, "password file": str(self.password_file)}

    def up(self) -> str:
        """Start (or find) Airflow and say where the UI is and how to log in."""
        report = super().up()
        private_file(self.password_file)
        private_airflow_home(self.settings)  # a cfg or DB left by a version that did not set the umask
        return (
            f"{report}; UI {self.settings.airflow_url}, user {ADMIN_USER}, "
            f"password in {self.password_file}"
        )

    @property
    def password_file(self) -> Path:
        return self.settings.airflow_home / "simple_auth_manager_passwords.json.generated"

    def password(self) -> str:
        """The generated admin password (SimpleAuthManager writes it on first start)."""
        if os.environ.get("STREAMSTACK_AIRFLOW_PASSWORD"):
            return os.environ["STREAMSTACK_AIRFLOW_PASSWORD"]
        try:
            return json.loads(self.password_file.read_text())[ADMIN_USER]
        except (OSError, ValueError, KeyError) as exc:
            raise StackError(f"airflow: cannot read the admin password from {self.password_file}: {exc}") from exc

    def env(self) -> dict[str, str]:
        env = airflow_environment(self.settings)
        env.update(
            {
                "AIRFLOW__API__PORT": str(self.settings.airflow_port),
                # Loopback by default (STREAMSTACK_BIND_HOST); the log servers have no host
                # setting and are kept on it by the bind shim (streamstack.runtime.bind).
                "AIRFLOW__API__HOST": bind_host(),
                "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": bind_host(),
                "AIRFLOW__API__BASE_URL": self.settings.airflow_url,
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                # One DAG file re-parse per 30 s is plenty locally and spares the 2 cores.
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            }
        )
        return env

    def resolve(self) -> None:
        # The Spark jobs' Kafka connector: fetched while the other services start, not by the
        # first run's three Spark tasks at once.
        connector_jars(self.settings)

    def prepare(self) -> None:
        private_airflow_home(self.settings)

    def command(self) -> list[str]:
        return [self.executable, "standalone"]

    def health(self) -> dict:
        response = requests.get(f"{self.settings.airflow_url}/api/v2/monitor/health", timeout=3)
        response.raise_for_status()
        return response.json()

    def ready(self) -> bool:
        """The API answers and reports the metadata DB, scheduler and DAG processor healthy."""
        if not port_open(self.settings.host, self.settings.airflow_port):
            return False
        try:
            health = self.health()
        except (requests.RequestException, ValueError):
            return False
        parts = ("metadatabase", "scheduler", "dag_processor", "triggerer")
        return all((health.get(p) or {}).get("status") == "healthy" for p in parts)
