"""Shared set-up: one runner per session (loading the suite imports GX, which takes seconds)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from streamstack.quality import CheckOptions, QualityRunner
from streamstack.quality.synthetic import synthetic_purchases
from streamstack.settings import Settings

#: Every synthetic batch ends here, and checks use it as the reference time (no clock in tests).
END = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def runner(tmp_path_factory: pytest.TempPathFactory) -> QualityRunner:
    return QualityRunner(Settings.from_env(), results_root=tmp_path_factory.mktemp("quality-results"))


@pytest.fixture(scope="session")
def clean_frame(runner: QualityRunner) -> pd.DataFrame:
    return synthetic_purchases(400, runner.catalogue, end=END, seed=11)


@pytest.fixture
def clean(clean_frame: pd.DataFrame) -> pd.DataFrame:
    """A fresh copy per test, free to corrupt."""
    return clean_frame.copy()


@pytest.fixture
def options() -> CheckOptions:
    return CheckOptions(reference_time=END, data_docs=False)


@pytest.fixture
def end() -> datetime:
    return END


def _write_jsonl(frame: pd.DataFrame, path: Path, extra_lines: list[str] | None = None) -> Path:
    text = frame.to_json(orient="records", lines=True)
    path.write_text(text + "".join(line + "\n" for line in extra_lines or []), encoding="utf-8")
    return path


@pytest.fixture
def write_jsonl():
    """``write_jsonl(frame, path, extra_lines=None)``: a JSON-lines file as the enrichment job writes it."""
    return _write_jsonl
