"""JupyterLab in the embedded stack: on ``STREAMSTACK_BIND_HOST`` (127.0.0.1), root dir ``notebooks/``.

The server runs from a venv of its own (``.venv-jupyter``, ``make jupyter-venv``); the notebooks
run on the project's ``.venv`` python (pandas, pyspark, confluent-kafka, streamstack) through a
kernelspec named ``streamstack`` written into the service's own data dir. Everything Jupyter
reads or writes lives under ``<state>/jupyter`` (``JUPYTER_CONFIG_DIR``, ``JUPYTER_DATA_DIR``,
``JUPYTER_RUNTIME_DIR``, ``IPYTHONDIR``), never the user's ``~/.jupyter`` or ``~/.local``.

The token is generated once into ``<state>/jupyter/token`` (0600, folder 0700) and reaches the
server through a 0600 config file, never the command line. Nothing phones home: no browser
opened, no update check, no news feed, the announcements plugin disabled.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

import requests

from streamstack.errors import StackError
from streamstack.files import replace_text
from streamstack.runtime.bind import bind_host
from streamstack.runtime.ports import port_open
from streamstack.runtime.process import private_dir, private_file
from streamstack.settings import Settings, _env_int
from streamstack.stack.service import Service

#: The kernelspec the notebooks name (their metadata) and the tests execute them with.
KERNEL_NAME = "streamstack"
DEFAULT_PORT = 8888


@dataclass(frozen=True)
class JupyterEndpoints:
    """Port, venv and state files of the local JupyterLab (``STREAMSTACK_JUPYTER_*``)."""

    host: str
    port: int
    venv: Path
    state_dir: Path
    notebooks_dir: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def token_file(self) -> Path:
        return self.state_dir / "token"

    @property
    def config_dir(self) -> Path:
        return self.state_dir / "config"

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    @property
    def kernel_dir(self) -> Path:
        return self.data_dir / "kernels" / KERNEL_NAME

    def token(self) -> str:
        try:
            return self.token_file.read_text().strip()
        except OSError as exc:
            raise StackError(f"jupyter: cannot read the token from {self.token_file}: {exc}") from exc

    def jupyter_env(self) -> dict[str, str]:
        """Where Jupyter looks for config, kernelspecs and runtime files: only the state dir."""
        return {
            "JUPYTER_CONFIG_DIR": str(self.config_dir),
            "JUPYTER_DATA_DIR": str(self.data_dir),
            "JUPYTER_PATH": str(self.data_dir),
            "JUPYTER_RUNTIME_DIR": str(self.state_dir / "runtime"),
            "JUPYTER_PLATFORM_DIRS": "1",
            "IPYTHONDIR": str(self.state_dir / "ipython"),
            "MPLCONFIGDIR": str(self.state_dir / "matplotlib"),
        }

    @classmethod
    def from_env(cls, settings: Settings | None = None) -> JupyterEndpoints:
        settings = settings or Settings.from_env()
        venv = os.environ.get("STREAMSTACK_JUPYTER_VENV")
        return cls(
            host="127.0.0.1",
            port=_env_int("STREAMSTACK_JUPYTER_PORT", DEFAULT_PORT),
            venv=Path(venv).expanduser().resolve() if venv else settings.project_dir / ".venv-jupyter",
            state_dir=settings.state_dir / "jupyter",
            notebooks_dir=settings.project_dir / "notebooks",
        )


def kernel_python(settings: Settings) -> str:
    """The project's ``.venv`` python (has ipykernel and streamstack), else this interpreter."""
    python = settings.project_dir / ".venv" / "bin" / "python"
    return str(python) if python.exists() else sys.executable


class JupyterService(Service):
    """JupyterLab on ``STREAMSTACK_JUPYTER_PORT`` (8888); ready when ``/api/status`` answers the token."""

    name = "jupyter"
    stop_timeout = 15.0

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.endpoints_ = JupyterEndpoints.from_env(settings)

    def ports(self) -> dict[str, int]:
        return {"http": self.endpoints_.port}

    def endpoints(self) -> dict[str, str]:
        return {"ui": f"{self.endpoints_.url}/lab", "token file": str(self.endpoints_.token_file)}

    def up(self) -> str:
        report = super().up()
        return f"{report}; UI {self.endpoints_.url}/lab, token in {self.endpoints_.token_file}"

    def env(self) -> dict[str, str]:
        return {**self.endpoints_.jupyter_env(), "PYTHONUNBUFFERED": "1"}

    def server_config(self) -> dict[str, object]:
        """``jupyter_server_config.json``: the token and what keeps the server local and quiet."""
        e = self.endpoints_
        return {
            "IdentityProvider": {"token": e.token()},
            "ServerApp": {
                "ip": bind_host(),
                "port": e.port,
                "port_retries": 0,
                "open_browser": False,
                "allow_remote_access": False,
                "root_dir": str(e.notebooks_dir),
                "allow_root": True,
            },
            # No news feed, no update check, no PyPI search from the extension manager.
            "LabApp": {
                "news_url": None,
                "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                "extension_manager": "readonly",
            },
            "LabServerApp": {"copy_absolute_path": False},
            # Only the project's kernel: the server venv's own python3 has none of the libraries.
            "KernelSpecManager": {"ensure_native_kernel": False, "allowed_kernelspecs": [KERNEL_NAME]},
            "MappingKernelManager": {"default_kernel_name": KERNEL_NAME},
        }

    def prepare(self) -> None:
        e = self.endpoints_
        private_dir(e.state_dir)
        if not e.token_file.exists():
            replace_text(e.token_file, secrets.token_urlsafe(32) + "\n", mode=0o600)
        private_file(e.token_file)
        private_dir(e.config_dir)
        replace_text(e.config_dir / "jupyter_server_config.json", json.dumps(self.server_config(), indent=2) + "\n",
                     mode=0o600)
        # The announcements plugin (news, update checks) is off in the page config.
        labconfig = e.config_dir / "labconfig"
        labconfig.mkdir(parents=True, exist_ok=True)
        (labconfig / "page_config.json").write_text(
            json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}, indent=2) + "\n"
        )
        e.kernel_dir.mkdir(parents=True, exist_ok=True)
        spec = {
            "argv": [kernel_python(self.settings), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "streamstack (.venv)",
            "language": "python",
        }
        (e.kernel_dir / "kernel.json").write_text(json.dumps(spec, indent=2) + "\n")
        e.notebooks_dir.mkdir(parents=True, exist_ok=True)

    def command(self) -> list[str]:
        # Non-secret settings on the command line for `ps`; the token only in the 0600 config.
        return [
            self.venv_bin(self.endpoints_.venv, "jupyter-lab"),
            f"--ServerApp.ip={bind_host()}",
            f"--ServerApp.port={self.endpoints_.port}",
            "--ServerApp.open_browser=False",
        ]

    def ready(self) -> bool:
        if not port_open("127.0.0.1", self.endpoints_.port):
            return False
        try:
            response = requests.get(
                f"{self.endpoints_.url}/api/status",
                headers={"Authorization": f"token {self.endpoints_.token()}"},
                timeout=3,
            )
        except (requests.RequestException, StackError):
            return False
        return response.status_code == 200
