"""Where the local Superset listens and where its venv and secrets live (``STREAMSTACK_SUPERSET_*``).

Beside the Superset client, not in the shared settings (like ``streamstack.pinot.endpoints``), so the
stack service, the CLI, the Airflow connection and the tests agree without touching common files.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from streamstack.settings import Settings, _env_int

ADMIN_USER = "admin"


@dataclass(frozen=True)
class SupersetEndpoints:
    """Port, venv and state files of the local Superset."""

    host: str
    port: int
    venv: Path
    state_dir: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def secret_key_file(self) -> Path:
        return self.state_dir / "secret_key"

    @property
    def password_file(self) -> Path:
        return self.state_dir / "admin_password"

    @property
    def database_file(self) -> Path:
        return self.state_dir / "superset.db"

    def password(self) -> str:
        """The admin password: ``STREAMSTACK_SUPERSET_PASSWORD`` or the generated 0600 file."""
        from streamstack.errors import StackError

        if os.environ.get("STREAMSTACK_SUPERSET_PASSWORD"):
            return os.environ["STREAMSTACK_SUPERSET_PASSWORD"]
        try:
            return self.password_file.read_text().strip()
        except OSError as exc:
            raise StackError(f"superset: cannot read the admin password from {self.password_file}: {exc}") from exc

    @classmethod
    def from_env(cls, settings: Settings | None = None) -> SupersetEndpoints:
        settings = settings or Settings.from_env()
        venv = os.environ.get("STREAMSTACK_SUPERSET_VENV")
        return cls(
            host=settings.host,
            port=_env_int("STREAMSTACK_SUPERSET_PORT", 8088),
            venv=Path(venv).expanduser().resolve() if venv else settings.project_dir / ".venv-superset",
            state_dir=settings.state_dir / "superset",
        )


def superset_connection(settings: Settings) -> dict[str, str]:
    """``AIRFLOW_CONN_SUPERSET_DEFAULT`` for the local Superset; the password only if it exists yet.

    A task reads the password from the connection; where the file is not there yet (before the
    first ``stack up``) the hook falls back to ``STREAMSTACK_SUPERSET_PASSWORD`` / the file.
    """
    e = SupersetEndpoints.from_env(settings)
    conn: dict = {"conn_type": "http", "host": e.host, "port": e.port, "schema": "http", "login": ADMIN_USER}
    with contextlib.suppress(OSError):
        conn["password"] = e.password_file.read_text().strip()
    return {"AIRFLOW_CONN_SUPERSET_DEFAULT": json.dumps(conn)}
