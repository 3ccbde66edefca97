"""``streamstack generate`` / ``replay`` without a broker: files, reproducibility, errors."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from streamstack.cli import cli
from streamstack.generator import ReplayError


def _generate(tmp_path: Path, name: str, *extra: str) -> tuple[dict, Path]:
    out = tmp_path / name
    result = CliRunner().invoke(cli, ["generate", "-n", "500", "--mode", "load", "--seed", "3",
                                      "--start-time", "2024-05-01T08:00:00", "-o", str(out), "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), out


def test_generate_to_files_is_reproducible_with_a_seed(tmp_path: Path) -> None:
    first, out_a = _generate(tmp_path, "a.jsonl")
    _, out_b = _generate(tmp_path, "b.jsonl")
    assert first["transactions"] == 500 and first["seed"] == 3 and first["products"] == 27
    assert out_a.read_bytes() == out_b.read_bytes()
    assert len(out_a.read_text().splitlines()) == first["purchases"]
    assert set(first["files"]) >= {"purchases", "products"}
    assert Path(first["files"]["products"]).name == "a.products.jsonl"


def test_generated_file_replays_unchanged(tmp_path: Path) -> None:
    _, out = _generate(tmp_path, "sales.jsonl")
    again = tmp_path / "again.jsonl"
    result = CliRunner().invoke(cli, ["replay", str(out), "-o", str(again), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["line_numbers_assigned"] == 0 and summary["dead_letters"] == 0
    assert again.read_bytes() == out.read_bytes()


def test_realistic_mode_with_speed_from_the_cli(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["generate", "-n", "5", "--speed", "500", "--seed", "1", "-o",
                                      str(tmp_path / "s.jsonl")])
    assert result.exit_code == 0, result.output
    assert "transactions" in result.stdout and "events_per_second" in result.stdout


def test_replay_of_a_bad_file_names_the_record(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"transaction_time": 1}\n')
    result = CliRunner().invoke(cli, ["replay", str(bad), "-o", str(tmp_path / "x.jsonl")])
    assert isinstance(result.exception, ReplayError)
    assert "record 1 (line 1): missing_field: product_id" in str(result.exception)


def test_sasl_ssl_without_credentials_fails_before_connecting(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("STREAMSTACK_KAFKA_SASL_PASSWORD", raising=False)
    result = CliRunner().invoke(cli, ["generate", "-n", "1", "--security-protocol", "SASL_SSL",
                                      "--sasl-username", "alice", "--bootstrap-servers", "broker:9096"])
    assert "sasl.password" in str(result.exception) and "SCRAM-SHA-512" in str(result.exception)
