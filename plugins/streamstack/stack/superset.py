"""Apache Superset in the embedded stack: gunicorn on 127.0.0.1, SQLite metadata under the state dir.

Superset runs from a venv of its own (``.venv-superset``, ``make superset-venv``): it pins
SQLAlchemy 1.4 and pandas < 2.2, which cannot live beside Airflow 3 (RUNTIME.md §0). The secret
key and a generated admin password are 0600 files in ``.stack/superset/``; the config file
(``tools/superset/superset_config.py``) reads them from there, so no secret is in the code, in a
config file or on a command line. First start: ``superset db upgrade``, the admin user,
``superset init`` (~30 s on 2 cores); later starts skip what is done.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path

import requests

from streamstack.errors import StackError
from streamstack.runtime.ports import port_open
from streamstack.stack.service import Service
from streamstack.superset.endpoints import ADMIN_USER, SupersetEndpoints

#: Bumped when the initialisation steps change, so an old state dir is brought up to date.
INIT_VERSION = "superset-6.1.0-1"


def _write_secret(path: Path, value: str) -> None:
    """Create ``path`` with mode 0600 from the start (never world-readable, even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")


class SupersetService(Service):
    """Superset on ``STREAMSTACK_SUPERSET_PORT`` (8088); health-gated on ``/health``."""

    name = "superset"

    def __init__(self, settings) -> None:  # type: ignore[no-untyped-def]
        super().__init__(settings)
        self.endpoints_ = SupersetEndpoints.from_env(settings)

    @property
    def start_timeout(self) -> float:
        # A first start migrates a new SQLite metadata DB (db upgrade + init, ~30 s on 2 cores).
        return max(self.settings.start_timeout, 180.0)

    @property
    def password_file(self) -> Path:
        return self.endpoints_.password_file

    def password(self) -> str:
        return self.endpoints_.password()

    def ports(self) -> dict[str, int]:
        return {"http": self.endpoints_.port}

    def endpoints(self) -> dict[str, str]:
        return {"ui": self.endpoints_.url, "user": ADMIN_USER, "password file": str(self.password_file)}

    def up(self) -> str:
        report = super().up()
        return f"{report}; UI {self.endpoints_.url}, user {ADMIN_USER}, password in {self.password_file}"

    def env(self) -> dict[str, str]:
        config = self.settings.project_dir / "tools" / "superset" / "superset_config.py"
        return {
            "SUPERSET_CONFIG_PATH": str(config),
            "SUPERSET_SECRET_KEY_FILE": str(self.endpoints_.secret_key_file),
            "SUPERSET_DATABASE_URI": f"sqlite:///{self.endpoints_.database_file}",
            "SUPERSET_HOME": str(self.state_dir),
            "SUPERSET_ADMIN_USER": ADMIN_USER,
            "SUPERSET_ADMIN_PASSWORD_FILE": str(self.password_file),
            "FLASK_APP": "superset",
            "PYTHONUNBUFFERED": "1",
        }

    def _run(self, *cmd: str) -> None:
        env = {**os.environ, **self.env()}
        proc = subprocess.run(list(cmd), env=env, cwd=self.state_dir, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise StackError(
                f"superset: {' '.join(Path(c).name if i == 0 else c for i, c in enumerate(cmd))} failed "
                f"(exit {proc.returncode}):\n{(proc.stdout + proc.stderr)[-2500:]}"
            )

    def prepare(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if not self.endpoints_.secret_key_file.exists():
            _write_secret(self.endpoints_.secret_key_file, secrets.token_urlsafe(42))
        if not self.password_file.exists():
            _write_secret(self.password_file, secrets.token_urlsafe(18))
        stamp = self.state_dir / ".initialised"
        if stamp.exists() and stamp.read_text().strip() == INIT_VERSION:
            return
        superset = self.venv_bin(self.endpoints_.venv, "superset")
        self._run(superset, "db", "upgrade")
        self._run(self.venv_bin(self.endpoints_.venv, "python"), str(self.settings.project_dir / "tools" / "superset" / "create_admin.py"))
        self._run(superset, "init")
        stamp.write_text(INIT_VERSION + "\n")

    def command(self) -> list[str]:
        # gunicorn like Superset's own image (not the Flask dev server); 2 workers x 4 threads
        # serve a dashboard's parallel chart requests on 2 cores.
        return [
            self.venv_bin(self.endpoints_.venv, "gunicorn"),
            "--bind", f"127.0.0.1:{self.endpoints_.port}",
            "--workers", os.environ.get("STREAMSTACK_SUPERSET_WORKERS", "2"),
            "--worker-class", "gthread", "--threads", "4",
            "--timeout", "120",
            "--limit-request-line", "0", "--limit-request-field_size", "0",
            "superset.app:create_app()",
        ]  # fmt: skip

    def ready(self) -> bool:
        if not port_open("127.0.0.1", self.endpoints_.port):
            return False
        try:
            response = requests.get(f"{self.endpoints_.url}/health", timeout=3)
        except requests.RequestException:
            return False
        return response.status_code == 200 and response.text.strip() == "OK"
