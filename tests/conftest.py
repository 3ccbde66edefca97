"""Shared test set-up: Airflow in embedded mode (its home under the state dir, no examples)."""

from __future__ import annotations

import os
from pathlib import Path

from streamstack.airflow_env import airflow_environment
from streamstack.settings import Settings

PROJECT_DIR = Path(__file__).resolve().parents[1]

# Before anything imports airflow: its settings are read once at import time.
for _key, _value in airflow_environment(Settings.from_env()).items():
    os.environ.setdefault(_key, _value)
