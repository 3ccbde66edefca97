"""``streamstack airflow ...``: the Airflow CLI in embedded mode (home, DAGs and connections set)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import click

from streamstack.airflow_env import PRIVATE_UMASK, airflow_environment, private_airflow_home
from streamstack.errors import StackError
from streamstack.settings import Settings


def airflow_executable() -> str:
    """The ``airflow`` next to this Python (the project venv), else the one on PATH."""
    here = Path(sys.executable).parent / "airflow"
    found = str(here) if here.exists() else shutil.which("airflow")
    if not found:
        raise StackError("the `airflow` command was not found: run `make install` first")
    return found


def embedded_env(settings: Settings) -> dict[str, str]:
    env = {**airflow_environment(settings), **os.environ}
    # spark-submit must be on PATH for the Spark provider: the venv's bin comes first.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def migrate(settings: Settings) -> None:
    """Create or upgrade the metadata DB once per Airflow version (``airflow db migrate`` takes seconds).

    A stamp beside the DB names the version that last migrated it; while it matches and the DB
    is there, nothing is run (every ``streamstack airflow`` call used to migrate again). The home
    is made private first: this may be the call that creates airflow.cfg and its secrets.
    """
    from importlib.metadata import version

    private_airflow_home(settings)
    database, stamp = settings.airflow_home / "airflow.db", settings.airflow_home / "airflow.db.migrated"
    current = version("apache-airflow")
    if database.exists() and stamp.exists() and stamp.read_text().strip() == current:
        return
    proc = subprocess.run(
        [airflow_executable(), "db", "migrate"],
        env=embedded_env(settings),
        capture_output=True,
        text=True,
        check=False,
        umask=PRIVATE_UMASK,
    )
    if proc.returncode != 0:
        raise StackError(f"`airflow db migrate` failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
    stamp.write_text(current + "\n")


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def airflow(args: tuple[str, ...]) -> None:
    """Run the Airflow CLI against the embedded stack, e.g. `streamstack airflow dags test kafka_topics`."""
    settings = Settings.from_env()
    migrate(settings)
    proc = subprocess.run([airflow_executable(), *args], env=embedded_env(settings), check=False, umask=PRIVATE_UMASK)
    raise SystemExit(proc.returncode)
