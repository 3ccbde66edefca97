"""Issue #29 item 8: AIRFLOW_HOME (airflow.cfg with the Fernet key and JWT secret, the metadata DB)
is private from the first ``streamstack airflow ...`` call or test session, not only after ``stack up``."""

from __future__ import annotations

import importlib
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from streamstack.settings import Settings

# The module, not the `airflow` click command that streamstack.cli re-exports under its name.
cli_airflow = importlib.import_module("streamstack.cli.airflow")

#: Writes what Airflow writes under AIRFLOW_HOME, with plain open() and mkdir(): the modes are the
#: umask's, as for any file Airflow (or a library under it) creates without a chmod of its own.
FAKE_AIRFLOW = """#!{python}
import os, sys
home = os.environ["AIRFLOW_HOME"]
os.makedirs(os.path.join(home, "logs"), exist_ok=True)
cfg = os.path.join(home, "airflow.cfg")
if not os.path.exists(cfg):
    with open(cfg, "w") as f:
        f.write("[core]\\nfernet_key = s3cret\\n[api_auth]\\njwt_secret = s3cret\\n")
if sys.argv[1:3] == ["db", "migrate"]:
    open(os.path.join(home, "airflow.db"), "w").close()
"""


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, permissive_umask: None) -> Settings:
    fake = tmp_path / "bin" / "airflow"
    fake.parent.mkdir()
    fake.write_text(FAKE_AIRFLOW.format(python=sys.executable))
    fake.chmod(0o755)
    monkeypatch.setattr(cli_airflow, "airflow_executable", lambda: str(fake))
    state = tmp_path / "state"  # not there yet: a fresh clone
    monkeypatch.setenv("STREAMSTACK_STATE_DIR", str(state))
    monkeypatch.setenv("AIRFLOW_HOME", str(state / "airflow"))  # the tests' own would win otherwise
    return Settings.from_env()


def _modes(settings: Settings) -> dict[str, str]:
    home = settings.airflow_home
    paths = [settings.state_dir, home, home / "logs", home / "airflow.cfg", home / "airflow.db"]
    return {str(p.relative_to(settings.state_dir.parent)): oct(stat.S_IMODE(p.stat().st_mode)) for p in paths}


PRIVATE = {"state": "0o700", "state/airflow": "0o700", "state/airflow/logs": "0o700",
           "state/airflow/airflow.cfg": "0o600", "state/airflow/airflow.db": "0o600"}


def test_migrate_on_a_fresh_state_dir_leaves_only_private_files(settings: Settings) -> None:
    cli_airflow.migrate(settings)
    assert _modes(settings) == PRIVATE


def test_any_streamstack_airflow_command_leaves_only_private_files(settings: Settings) -> None:
    result = CliRunner().invoke(cli_airflow.airflow, ["version"])
    assert result.exit_code == 0, result.output
    assert _modes(settings) == PRIVATE


def test_the_home_is_private_before_airflow_is_imported_in_process(tmp_path: Path, permissive_umask: None) -> None:
    """What the test session (tests/conftest.py) calls before anything imports Airflow, which then
    writes airflow.cfg and the metadata DB in this process; a cfg left world-readable is closed too."""
    from streamstack.airflow_env import private_airflow_home

    settings = Settings(project_dir=tmp_path, state_dir=tmp_path / "state", cache_dir=tmp_path)
    settings.airflow_home.mkdir(parents=True)
    (settings.airflow_home / "airflow.cfg").write_text("[core]\nfernet_key = s3cret\n")
    assert private_airflow_home(settings) == settings.airflow_home
    modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode))
             for p in (settings.state_dir, settings.airflow_home, settings.airflow_home / "airflow.cfg")}
    assert modes == {"state": "0o700", "airflow": "0o700", "airflow.cfg": "0o600"}
