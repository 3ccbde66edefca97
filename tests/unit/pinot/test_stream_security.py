"""Pinot stream configs from the Kafka connection: SASL_SSL settings, the password only in a 0600 file."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from streamstack.errors import ConfigError
from streamstack.pinot.stream_security import SECRETS_DIR_ENV, stream_security_configs
from streamstack.pinot.tables import load_specs, local_specs
from streamstack.settings import DEFAULT_PROJECT_DIR, Settings
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


#: Client-certificate secrets a librdkafka connection may carry (issue #29 item 7).
CLIENT_TLS_SECRETS = {
    "ssl.key.password": "key-pass-hunter2",
    "ssl.keystore.password": "store-pass-k3y",
    "ssl.key.pem": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n",
    "ssl.truststore.password": "trust-pass-0wn",
}


@pytest.mark.parametrize("key", sorted(CLIENT_TLS_SECRETS))
def test_no_client_tls_secret_reaches_a_served_table_config(
    key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The controller serves table configs to anyone (``GET /tables/<name>``): a secret of the
    connection is either kept out through a 0600 file or refused, naming the key, never copied."""
    monkeypatch.delenv(SECRETS_DIR_ENV, raising=False)
    settings = replace(Settings.from_env(), state_dir=tmp_path)
    secret = CLIENT_TLS_SECRETS[key]
    config = {**SASL, "ssl.keystore.location": "/certs/client.p12", "ssl.certificate.pem": "PUBLIC", key: secret}
    try:
        specs = local_specs(settings, kafka_config=config)
    except ConfigError as refused:
        assert f"key '{key}'" in str(refused), refused
        assert secret not in str(refused), "the refusal repeats the secret"
        return
    served = json.dumps([spec.table for spec in specs])
    assert json.dumps(secret)[1:-1] not in served  # as it would appear in the JSON (a PEM's newlines escaped)


def test_a_client_certificate_secret_is_refused_naming_the_connection_and_key(tmp_path: Path) -> None:
    """Refused before anything is written: no file, no table config holds the secret."""
    config = {**SASL, "ssl.keystore.location": "/certs/client.p12", "ssl.keystore.password": "store-pass-k3y"}
    with pytest.raises(ConfigError, match=r"^connection 'kafka_default': key 'ssl.keystore.password': "):
        stream_security_configs(config, tmp_path / "secrets", "connection 'kafka_default'")
    assert not (tmp_path / "secrets").exists()
