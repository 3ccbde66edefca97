"""The JupyterLab service's configuration: a private token, never on the command line, loopback only."""

from __future__ import annotations

import json
import stat

import pytest

from streamstack.settings import Settings
from streamstack.stack.jupyter import KERNEL_NAME, JupyterService


@pytest.fixture
def service(tmp_path, monkeypatch) -> JupyterService:
    monkeypatch.setenv("STREAMSTACK_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("STREAMSTACK_JUPYTER_PORT", "48888")
    monkeypatch.setenv("STREAMSTACK_JUPYTER_VENV", str(tmp_path / "venv"))
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "bin" / "jupyter-lab").touch()
    monkeypatch.delenv("STREAMSTACK_BIND_HOST", raising=False)
    return JupyterService(Settings.from_env())


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_token_is_generated_once_into_a_private_file(service: JupyterService) -> None:
    service.prepare()
    e = service.endpoints_
    token = e.token()
    assert len(token) >= 32
    assert _mode(e.token_file) == 0o600 and _mode(e.state_dir) == 0o700
    config = e.config_dir / "jupyter_server_config.json"
    assert _mode(config) == 0o600 and _mode(e.config_dir) == 0o700
    service.prepare()  # a restart keeps the token
    assert e.token() == token


def test_token_reaches_the_server_through_the_config_not_the_command_line(service: JupyterService) -> None:
    service.prepare()
    e = service.endpoints_
    token = e.token()
    assert not any(token in arg for arg in service.command())
    assert not any(token in value for value in service.env().values())
    config = json.loads((e.config_dir / "jupyter_server_config.json").read_text())
    assert config["IdentityProvider"]["token"] == token
    assert service.env()["JUPYTER_CONFIG_DIR"] == str(e.config_dir)


def test_loopback_quiet_and_rooted_in_the_notebooks(service: JupyterService) -> None:
    service.prepare()
    e = service.endpoints_
    server = json.loads((e.config_dir / "jupyter_server_config.json").read_text())
    assert server["ServerApp"]["ip"] == "127.0.0.1" and server["ServerApp"]["port"] == 48888
    assert "--ServerApp.ip=127.0.0.1" in service.command()
    assert server["ServerApp"]["open_browser"] is False
    assert server["ServerApp"]["root_dir"] == str(service.settings.project_dir / "notebooks")
    assert server["LabApp"]["news_url"] is None
    assert server["LabApp"]["check_for_updates_class"] == "jupyterlab.NeverCheckForUpdate"
    page = json.loads((e.config_dir / "labconfig" / "page_config.json").read_text())
    assert page["disabledExtensions"]["@jupyterlab/apputils-extension:announcements"] is True
    assert service.endpoints() == {"ui": "http://127.0.0.1:48888/lab", "token file": str(e.token_file)}


def test_the_kernel_is_the_projects_venv_in_the_services_own_data_dir(service: JupyterService) -> None:
    service.prepare()
    e = service.endpoints_
    spec = json.loads((e.data_dir / "kernels" / KERNEL_NAME / "kernel.json").read_text())
    assert spec["argv"][0] == str(service.settings.project_dir / ".venv" / "bin" / "python")
    env = service.env()
    for key in ("JUPYTER_DATA_DIR", "JUPYTER_PATH", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        assert env[key].startswith(str(e.state_dir)), key
