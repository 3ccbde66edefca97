"""Launching the Kafka Streams apps: client settings for the JVM, ports, command lines."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from streamstack.errors import ConfigError
from streamstack.kafka_config import java_client_properties
from streamstack.kstreams.apps import http_port, launch, write_client_properties
from streamstack.kstreams.build import Build, source_digest
from streamstack.settings import Settings
from streamstack.topics import load_topics


def test_scram_connection_becomes_a_jaas_config_and_the_file_is_private(tmp_path: Path) -> None:
    config = {"bootstrap.servers": "b:9092", "security.protocol": "SASL_SSL", "sasl.mechanisms": "SCRAM-SHA-512",
              "sasl.username": "app", "sasl.password": 'p"w\\d', "group.id": "x", "ssl.ca.location": "/ca.pem"}
    props = java_client_properties(config)
    assert props["sasl.mechanism"] == "SCRAM-SHA-512"
    assert props["sasl.jaas.config"] == (
        'org.apache.kafka.common.security.scram.ScramLoginModule required username="app" password="p\\"w\\\\d";'
    )
    assert props["ssl.truststore.type"] == "PEM" and "group.id" not in props
    path = write_client_properties(tmp_path / "c.properties", config)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "sasl.jaas.config=" in path.read_text()


def test_a_file_without_bootstrap_servers_or_with_an_unknown_mechanism_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="bootstrap.servers"):
        write_client_properties(tmp_path / "c.properties", {})
    with pytest.raises(ConfigError, match="GSSAPI"):
        write_client_properties(tmp_path / "c.properties", {"bootstrap.servers": "b:1", "sasl.mechanisms": "GSSAPI"})
    assert not (tmp_path / "c.properties").exists()


def test_ports_follow_the_setting() -> None:
    assert http_port("running_totals", {}) == 7070
    assert http_port("purchases_enrichment", {"STREAMSTACK_KSTREAMS_PORT": "11070"}) == 11071
    with pytest.raises(ConfigError, match="STREAMSTACK_KSTREAMS_PORT"):
        http_port("running_totals", {"STREAMSTACK_KSTREAMS_PORT": "x"})


def test_the_command_line_names_topics_and_files_but_no_secret(tmp_path: Path) -> None:
    settings = Settings.from_env()
    run = launch("purchases_enrichment", Build(tmp_path), settings=settings, topics=load_topics(settings.topics_file),
                 contract_file=tmp_path / "contract.json", client_properties=tmp_path / "c.properties",
                 run_dir=tmp_path, http_port=0)
    cmd = run.command
    assert cmd[cmd.index("--products-topic") + 1] == "demo.products"
    assert cmd[cmd.index("--invalid-topic") + 1] == "demo.purchases.invalid"
    assert cmd[cmd.index("--client-properties") + 1] == str(tmp_path / "c.properties")
    assert run.application_id == "streamstack-purchases-enrichment"
    assert not any("password" in part or "jaas" in part for part in cmd)


def test_the_build_digest_changes_with_the_sources(tmp_path: Path) -> None:
    (tmp_path / "src" / "main").mkdir(parents=True)
    (tmp_path / "pom.xml").write_text("<project/>")
    (tmp_path / "src" / "main" / "A.java").write_text("class A {}")
    before = source_digest(tmp_path)
    (tmp_path / "src" / "main" / "A.java").write_text("class A { int x; }")
    assert source_digest(tmp_path) != before
