"""`streamstack airflow ...` migrates the metadata DB once per Airflow version, not on every call."""

from __future__ import annotations

import importlib
import subprocess
from pathlib import Path

import pytest

from streamstack.errors import StackError
from streamstack.settings import Settings

# The module, not the `airflow` click command that streamstack.cli re-exports under its name.
cli_airflow = importlib.import_module("streamstack.cli.airflow")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[list[str]]:
    made: list[list[str]] = []

    def run(cmd: list[str], **_kwargs: object) -> subprocess.CompletedProcess:
        made.append(cmd)
        (tmp_path / "airflow" / "airflow.db").touch()  # what `airflow db migrate` leaves
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(cli_airflow.subprocess, "run", run)
    monkeypatch.setattr(cli_airflow, "airflow_executable", lambda: "airflow")
    return made


def _settings(tmp_path: Path) -> Settings:
    return Settings(project_dir=tmp_path, state_dir=tmp_path, cache_dir=tmp_path)


def test_second_call_does_not_migrate_again(calls: list, tmp_path: Path) -> None:
    cli_airflow.migrate(_settings(tmp_path))
    cli_airflow.migrate(_settings(tmp_path))
    assert calls == [["airflow", "db", "migrate"]]


def test_a_new_airflow_version_or_a_missing_db_migrates(calls: list, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(tmp_path)
    cli_airflow.migrate(settings)
    (tmp_path / "airflow" / "airflow.db").unlink()
    cli_airflow.migrate(settings)
    (tmp_path / "airflow" / "airflow.db.migrated").write_text("2.0.0\n")
    cli_airflow.migrate(settings)
    assert len(calls) == 3


def test_a_failed_migration_leaves_no_stamp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cli_airflow, "airflow_executable", lambda: "airflow")
    monkeypatch.setattr(cli_airflow.subprocess, "run",
                        lambda cmd, **_: subprocess.CompletedProcess(cmd, 1, "", "boom"))
    with pytest.raises(StackError, match="boom"):
        cli_airflow.migrate(_settings(tmp_path))
    assert not (tmp_path / "airflow" / "airflow.db.migrated").exists()
