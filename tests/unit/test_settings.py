"""Settings come from STREAMSTACK_* variables; a wrong value names the variable."""

from __future__ import annotations

import pytest

from streamstack.errors import ConfigError
from streamstack.settings import Settings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("STREAMSTACK_KAFKA_PORT", "STREAMSTACK_HOST", "STREAMSTACK_STATE_DIR"):
        monkeypatch.delenv(var, raising=False)
    settings = Settings.from_env()
    assert settings.bootstrap_servers == "localhost:9092"
    assert settings.state_dir == settings.project_dir / ".stack"
    assert (settings.project_dir / "config" / "topics.yaml").exists()


def test_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("STREAMSTACK_KAFKA_PORT", "19092")
    monkeypatch.setenv("STREAMSTACK_STATE_DIR", str(tmp_path))
    settings = Settings.from_env()
    assert settings.bootstrap_servers == "localhost:19092"
    assert settings.state_dir == tmp_path
    assert settings.airflow_home == tmp_path / "airflow"


@pytest.mark.parametrize("value", ["ninety", "0", "70000"])
def test_bad_port_names_the_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("STREAMSTACK_KAFKA_PORT", value)
    with pytest.raises(ConfigError, match="STREAMSTACK_KAFKA_PORT"):
        Settings.from_env()
