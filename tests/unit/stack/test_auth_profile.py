"""Issue #29 item 9: the secured profile (``STREAMSTACK_AUTH=on``) on the Kafka side, without a broker.

The broker itself, every engine and Pinot's consumer against it run in
``tests/e2e/test_secured_profile.py``.
"""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from streamstack.auth import KAFKA_PASSWORD_FILE, auth_from_env, stack_secret
from streamstack.errors import ConfigError, StackError
from streamstack.settings import Settings
from streamstack.stack.kafka import KafkaService
from streamstack.stack.kafka_sasl import SecuredKafkaService
from streamstack.stack.stack import Stack


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.delenv("STREAMSTACK_KAFKA_SASL_PASSWORD", raising=False)
    monkeypatch.delenv("STREAMSTACK_KAFKA_SASL_USERNAME", raising=False)
    return replace(Settings.from_env(), state_dir=tmp_path / "state", auth=True)


def test_the_switch_takes_on_and_off_and_names_itself_otherwise() -> None:
    assert auth_from_env({"STREAMSTACK_AUTH": "on"}) is True
    assert auth_from_env({"STREAMSTACK_AUTH": "off"}) is False
    assert auth_from_env({}) is False
    with pytest.raises(ConfigError, match="STREAMSTACK_AUTH='maybe'"):
        auth_from_env({"STREAMSTACK_AUTH": "maybe"})


def test_a_secret_is_made_once_private_and_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MY_SECRET", raising=False)
    first = stack_secret(tmp_path / "secrets", "x", env="MY_SECRET")
    assert first == stack_secret(tmp_path / "secrets", "x", env="MY_SECRET")
    assert first.isalnum() and len(first) >= 32
    assert stat.S_IMODE((tmp_path / "secrets").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "secrets" / "x").stat().st_mode) == 0o600
    monkeypatch.setenv("MY_SECRET", "fromtheenvironment")
    assert stack_secret(tmp_path / "secrets", "x", env="MY_SECRET") == "fromtheenvironment"


def test_every_client_of_the_profile_gets_sasl_ssl_with_the_generated_password(settings: Settings) -> None:
    plain = replace(settings, auth=False).kafka_client_config()
    assert plain == {"bootstrap.servers": settings.bootstrap_servers}
    config = settings.kafka_client_config()
    password = (settings.secrets_dir / KAFKA_PASSWORD_FILE).read_text().strip()
    assert config == {
        "bootstrap.servers": settings.bootstrap_servers,
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "streamstack",
        "sasl.password": password,
        "ssl.ca.location": str(settings.state_dir / "kafka" / "tls" / "ca.pem"),
    }


def test_the_stack_runs_the_secured_broker_on_its_own_ports_with_data_of_its_own(settings: Settings) -> None:
    broker = Stack(settings, ["kafka"]).services[0]
    assert isinstance(broker, SecuredKafkaService)
    assert broker.name == "kafka"
    assert broker.ports() == {"client": settings.kafka_port, "controller": settings.kafka_controller_port}
    assert broker.data_dir == settings.state_dir / "kafka" / "data-secured"
    assert broker.client_config() == settings.kafka_client_config()
    assert broker.password() == settings.kafka_client_config()["sasl.password"]
    plain = Stack(replace(settings, auth=False), ["kafka"]).services[0]
    assert type(plain) is KafkaService and plain.data_dir == settings.state_dir / "kafka" / "data"


def test_a_broker_running_in_the_other_profile_is_named_not_waited_on(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = SecuredKafkaService(settings)
    broker.state_dir.mkdir(parents=True)
    broker.profile_file.write_text("PLAINTEXT\n")
    monkeypatch.setattr(SecuredKafkaService, "is_running", lambda self: True)
    with pytest.raises(StackError, match=r"takes PLAINTEXT clients, not SASL_SSL.*STREAMSTACK_AUTH=on"):
        broker.up()


def test_airflow_kafka_default_is_the_profile_broker(settings: Settings) -> None:
    from streamstack.airflow_env import airflow_environment

    conn = json.loads(airflow_environment(settings)["AIRFLOW_CONN_KAFKA_DEFAULT"])
    assert conn["extra"] == {**settings.kafka_client_config(), "group.id": "streamstack"}


def test_pinot_consumes_the_profile_broker_with_the_password_in_a_file(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``streamstack pinot apply`` gives every real-time table the stack's SASL settings."""
    from click.testing import CliRunner

    from streamstack.cli import cli
    from streamstack.pinot import tables

    applied: list = []
    monkeypatch.setattr(tables, "apply_specs", lambda client, specs, **kw: applied.extend(specs) or [])
    monkeypatch.setattr(tables, "existing_topics", lambda config: set())
    monkeypatch.setattr(Settings, "from_env", classmethod(lambda cls: settings))
    result = CliRunner().invoke(cli, ["pinot", "apply", "--table", "purchasesEnriched"])
    assert result.exit_code == 0, result.output
    stream = applied[0].table["tableIndexConfig"]["streamConfigs"]
    assert stream["security.protocol"] == "SASL_SSL"
    password = settings.kafka_client_config()["sasl.password"]
    assert password not in json.dumps(applied[0].table)
