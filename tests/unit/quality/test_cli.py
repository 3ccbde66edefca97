"""``streamstack quality check --file``: exit codes and the report."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from streamstack.cli import cli


@pytest.fixture
def invoke(tmp_path: Path, end: datetime):
    def run(*args: str):
        return CliRunner().invoke(
            cli,
            [
                "quality",
                "check",
                *args,
                "--end",
                end.strftime("%Y-%m-%d %H:%M:%S"),
                "--results-dir",
                str(tmp_path / "results"),
                "--no-docs",
            ],
        )

    return run


def test_clean_file_exits_zero(invoke, tmp_path: Path, clean: pd.DataFrame, write_jsonl) -> None:
    result = invoke("--file", str(write_jsonl(clean, tmp_path / "clean.jsonl")))
    assert result.exit_code == 0, result.output
    assert "quality PASSED" in result.output
    assert f"rows checked: {len(clean)}" in result.output


def test_critical_failure_exits_one_naming_the_expectation(
    invoke, tmp_path: Path, clean: pd.DataFrame, write_jsonl
) -> None:
    clean.loc[2, "purchase_quantity"] = 0
    result = invoke("--file", str(write_jsonl(clean, tmp_path / "bad.jsonl")))
    assert result.exit_code == 1, result.output
    assert "quality FAILED" in result.output
    assert "[critical] quantity_out_of_range(purchase_quantity)" in result.output
    assert "bad row line 3" in result.output


def test_empty_file_exits_three(invoke, tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("", encoding="utf-8")
    result = invoke("--file", str(path))
    assert result.exit_code == 3, result.output
    assert "quality EMPTY" in result.output


def test_json_output(invoke, tmp_path: Path, clean: pd.DataFrame, write_jsonl) -> None:
    import json

    result = invoke("--file", str(write_jsonl(clean, tmp_path / "clean.jsonl")), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == "passed"


def test_file_and_source_are_exclusive(invoke, tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text("", encoding="utf-8")
    result = invoke("--file", str(path), "--source", "kafka")
    assert result.exit_code == 2 and "exactly one" in result.output
