"""Settings of the embedded local stack, read from ``STREAMSTACK_*`` environment variables.

One place decides ports and paths, so the CLI, the tests and the Airflow wiring agree on
where the broker listens and where state lives. No Airflow import here: the domain code and
the CLI use it too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from streamstack.auth import (
    KAFKA_MECHANISM,
    KAFKA_PASSWORD_ENV,
    KAFKA_PASSWORD_FILE,
    auth_from_env,
    kafka_username,
    stack_secret,
)
from streamstack.errors import ConfigError

#: The repository root: ``plugins/streamstack/settings.py`` -> two levels up from the package.
PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_PROJECT_DIR = PACKAGE_DIR.parents[1]


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"environment variable {name}={raw!r} is not an integer") from None
    if not 0 < value < 65536:
        raise ConfigError(f"environment variable {name}={raw!r} is not a valid port")
    return value


def _env_path(name: str, default: Path) -> Path:
    raw = os.environ.get(name)
    return Path(raw).expanduser().resolve() if raw else default


@dataclass(frozen=True)
class Settings:
    """Ports and directories of the embedded stack.

    :param project_dir: the repository (holds ``config/``, ``dags/``, ``jobs/``).
    :param state_dir: per-project runtime state: broker data, logs, pid files, AIRFLOW_HOME.
    :param cache_dir: downloaded jars, shared between checkouts (outside the repo).
    :param host: the address the local services advertise to their clients; they listen on
        ``STREAMSTACK_BIND_HOST`` (``streamstack.runtime.bind``), never on this one.
    :param auth: the secured profile (``STREAMSTACK_AUTH=on``, ``streamstack.auth``).
    """

    project_dir: Path
    state_dir: Path
    cache_dir: Path
    host: str = "localhost"
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    kafka_heap: str = "512m"
    airflow_port: int = 8080
    start_timeout: float = 90.0
    #: ``STREAMSTACK_BOOTSTRAP_SERVERS``: a cluster other than the local broker (compose, remote).
    bootstrap_override: str | None = None
    auth: bool = False

    @property
    def bootstrap_servers(self) -> str:
        return self.bootstrap_override or f"{self.host}:{self.kafka_port}"

    @property
    def config_dir(self) -> Path:
        return self.project_dir / "config"

    @property
    def topics_file(self) -> Path:
        return Path(os.environ.get("STREAMSTACK_TOPICS_FILE") or self.config_dir / "topics.yaml")

    @property
    def airflow_home(self) -> Path:
        return self.state_dir / "airflow"

    @property
    def airflow_url(self) -> str:
        return f"http://{self.host}:{self.airflow_port}"

    @property
    def secrets_dir(self) -> Path:
        """Generated passwords of the secured profile, one 0600 file each."""
        return self.state_dir / "secrets"

    @property
    def kafka_ca_file(self) -> Path:
        """The CA certificate of the secured profile's broker (made by the broker on its first start)."""
        return self.state_dir / "kafka" / "tls" / "ca.pem"

    def kafka_client_config(self) -> dict[str, str]:
        """librdkafka settings for the local broker: PLAINTEXT, or SASL_SSL in the secured profile."""
        config = {"bootstrap.servers": self.bootstrap_servers}
        if not self.auth:
            return config
        return {
            **config,
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": KAFKA_MECHANISM,
            "sasl.username": kafka_username(),
            "sasl.password": stack_secret(self.secrets_dir, KAFKA_PASSWORD_FILE, env=KAFKA_PASSWORD_ENV),
            "ssl.ca.location": str(self.kafka_ca_file),
        }

    @classmethod
    def from_env(cls) -> Settings:
        project_dir = _env_path("STREAMSTACK_PROJECT_DIR", DEFAULT_PROJECT_DIR)
        return cls(
            project_dir=project_dir,
            state_dir=_env_path("STREAMSTACK_STATE_DIR", project_dir / ".stack"),
            cache_dir=_env_path("STREAMSTACK_CACHE_DIR", Path.home() / ".cache" / "streamstack"),
            host=os.environ.get("STREAMSTACK_HOST", "localhost"),
            kafka_port=_env_int("STREAMSTACK_KAFKA_PORT", 9092),
            kafka_controller_port=_env_int("STREAMSTACK_KAFKA_CONTROLLER_PORT", 9093),
            kafka_heap=os.environ.get("STREAMSTACK_KAFKA_HEAP", "512m"),
            airflow_port=_env_int("STREAMSTACK_AIRFLOW_PORT", 8080),
            start_timeout=float(os.environ.get("STREAMSTACK_START_TIMEOUT", "90")),
            bootstrap_override=os.environ.get("STREAMSTACK_BOOTSTRAP_SERVERS") or None,
            auth=auth_from_env(),
        )
