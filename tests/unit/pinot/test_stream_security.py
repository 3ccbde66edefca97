"""Pinot stream configs from the Kafka connection: SASL_SSL settings, the password only in a 0600 file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from streamstack.errors import ConfigError
from streamstack.pinot.stream_security import stream_security_configs
from streamstack.pinot.tables import load_specs
from streamstack.settings import DEFAULT_PROJECT_DIR
from streamstack.topics import load_topics

SASL = {
    "bootstrap.servers": "broker:9094",
    "security.protocol": "SASL_SSL",
    "sasl.mechanism": "SCRAM-SHA-512",
    "sasl.username": "ingest",
    "sasl.password": 'p"a\\ss word',
    "ssl.ca.location": "/certs/ca.pem",
    "group.id": "streamstack",
}


def test_sasl_ssl_connection_becomes_stream_configs_without_the_password(tmp_path: Path) -> None:
    out = stream_security_configs(SASL, tmp_path / "secrets")
    assert out["security.protocol"] == "SASL_SSL" and out["sasl.mechanism"] == "SCRAM-SHA-512"
    assert out["ssl.truststore.type"] == "PEM" and out["ssl.truststore.location"] == "/certs/ca.pem"
    assert "bootstrap.servers" not in out and "group.id" not in out
    assert "p\"a" not in json.dumps(out) and "ss word" not in json.dumps(out)
    (secret,) = (tmp_path / "secrets").iterdir()
    assert secret.stat().st_mode & 0o777 == 0o600 and (tmp_path / "secrets").stat().st_mode & 0o777 == 0o700
    assert out["sasl.jaas.config"] == (
        'org.apache.kafka.common.security.scram.ScramLoginModule required username="ingest" '
        f'password="${{file:{secret}:password}}";'
    )
    assert out["config.providers"] == "file"
    assert out["config.providers.file.class"] == "org.apache.kafka.common.config.provider.FileConfigProvider"
    # JAAS-escaped (\" and \\), then escaped again for java.util.Properties (\\ -> \\\\).
    assert secret.read_text() == 'password=p\\\\"a\\\\\\\\ss word\n'
    # Pinot replaces a value that is wholly "${...}" by an environment variable: ours is not.
    assert not re.fullmatch(r"\$\{.*\}", out["sasl.jaas.config"])


def test_same_password_same_file_so_a_second_apply_changes_nothing(tmp_path: Path) -> None:
    assert stream_security_configs(SASL, tmp_path) == stream_security_configs(dict(SASL), tmp_path)
    other = stream_security_configs({**SASL, "sasl.password": "new"}, tmp_path)
    assert other["sasl.jaas.config"] != stream_security_configs(SASL, tmp_path)["sasl.jaas.config"]


def test_plaintext_connection_adds_nothing(tmp_path: Path) -> None:
    assert stream_security_configs({"bootstrap.servers": "b:9092"}, tmp_path) == {}
    assert not tmp_path.joinpath("anything").exists()


def test_specs_carry_the_security_configs_in_every_table(tmp_path: Path) -> None:
    names = load_topics(DEFAULT_PROJECT_DIR / "config" / "topics.yaml").names()
    security = stream_security_configs(SASL, tmp_path)
    specs = load_specs(DEFAULT_PROJECT_DIR / "config" / "pinot", names, "broker:9094", stream_configs=security)
    for spec in specs:
        streams = spec.table["tableIndexConfig"]["streamConfigs"]
        assert streams["stream.kafka.broker.list"] == "broker:9094"
        assert {k: streams[k] for k in security} == security


def test_a_table_file_with_credentials_is_refused(tmp_path: Path) -> None:
    source = DEFAULT_PROJECT_DIR / "config" / "pinot"
    (tmp_path / "schemas").mkdir()
    (tmp_path / "tables").mkdir()
    (tmp_path / "schemas" / "products.json").write_text((source / "schemas" / "products.json").read_text())
    table = json.loads((source / "tables" / "products.json").read_text())
    table["tableIndexConfig"]["streamConfigs"]["sasl.jaas.config"] = "... password=\"hunter2\";"
    (tmp_path / "tables" / "products.json").write_text(json.dumps(table))
    names = load_topics(DEFAULT_PROJECT_DIR / "config" / "topics.yaml").names()
    with pytest.raises(ConfigError, match=r"products.json: key 'tableIndexConfig.streamConfigs.sasl.jaas.config'"):
        load_specs(tmp_path, names, "b:9092", ["products"])
