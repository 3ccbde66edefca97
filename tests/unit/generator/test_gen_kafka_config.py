"""Connection settings (PLAINTEXT / SASL_SSL SCRAM-SHA-512) and the key contract with topics.yaml."""

from __future__ import annotations

from dataclasses import replace

import pytest

from streamstack.errors import ConfigError
from streamstack.generator.kafka import KafkaSink, check_connection, connection_config
from streamstack.topics import TopicSpecs, load_topics


def test_plaintext() -> None:
    assert connection_config("localhost:9092") == {"bootstrap.servers": "localhost:9092",
                                                   "security.protocol": "PLAINTEXT"}


def test_sasl_ssl_uses_scram_sha_512() -> None:
    config = connection_config("b:9096", security_protocol="SASL_SSL", username="u", password="p",
                               ca_location="/etc/ca.pem")
    assert config == {"bootstrap.servers": "b:9096", "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
                      "sasl.username": "u", "sasl.password": "p", "ssl.ca.location": "/etc/ca.pem"}


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"bootstrap.servers": "b:1", "security.protocol": "SASL_SSL", "sasl.username": "u"}, "sasl.password"),
        ({"bootstrap.servers": "b:1", "security.protocol": "SASL_SSL", "sasl.mechanisms": "PLAIN",
          "sasl.username": "u", "sasl.password": "p"}, "sasl.mechanism"),
        ({"bootstrap.servers": "b:1", "security.protocol": "SASL_PLAINTEXT"}, "security.protocol"),
        ({"group.id": "x"}, "bootstrap.servers"),
    ],
)
def test_wrong_connection_names_the_key(config: dict, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        check_connection(config)
    assert err.value.key == key


def test_airflow_connection_extras_are_accepted_without_consumer_keys() -> None:
    extra = {"bootstrap.servers": "b:1", "group.id": "streamstack", "security.protocol": "sasl_ssl",
             "sasl.mechanisms": "SCRAM-SHA-512", "sasl.username": "u", "sasl.password": "p"}
    config = check_connection(extra)
    assert "group.id" not in config and config["sasl.mechanism"] == "SCRAM-SHA-512"


def test_topics_keyed_otherwise_than_the_generator_keys_them_are_refused() -> None:
    declared = load_topics()
    specs = TopicSpecs(file=declared.file, topics=tuple(
        replace(t, key="product_id") if t.logical == "purchases" else t for t in declared.topics))
    with pytest.raises(ConfigError) as err:
        KafkaSink({"bootstrap.servers": "localhost:1"}, specs)
    assert err.value.key == "topics.purchases.key" and "transaction_id" in str(err.value)
