"""SASL_SSL with SCRAM-SHA-512 against a real broker: the session's ``kafka-sasl`` KRaft node.

The broker (``streamstack.stack.kafka_sasl``, fixture ``sasl_broker``) has a keytool-made CA
and certificate and a SCRAM user created at format time. The generator must deliver with the
right password and fail loudly, at once, with a wrong one.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from streamstack.errors import StreamstackError
from streamstack.generator import build_model, load_catalogue, load_config, run_generator
from streamstack.generator.kafka import KafkaSink, connection_config
from streamstack.settings import Settings
from streamstack.stack.kafka_sasl import SaslKafkaService
from streamstack.topics import TopicAdmin, TopicSpecs, load_topics

pytestmark = pytest.mark.integration


def _config(broker: SaslKafkaService, password: str | None = None) -> dict:
    c = broker.client_config(password)
    return connection_config(c["bootstrap.servers"], security_protocol="SASL_SSL", username=c["sasl.username"],
                             password=c["sasl.password"], ca_location=c["ssl.ca.location"])


def test_generator_delivers_over_sasl_ssl(sasl_broker: SaslKafkaService) -> None:
    declared = load_topics()
    suffix = uuid.uuid4().hex[:6]
    topics = TopicSpecs(declared.file, tuple(replace(s, name=f"{s.name}.sasl{suffix}") for s in declared))
    config = _config(sasl_broker)
    TopicAdmin(config).apply(topics)  # topic admin over the authenticated TLS listener too

    sink = KafkaSink(config, topics)
    settings = Settings.from_env()
    model = build_model(load_config(), load_catalogue(settings.config_dir / "products.csv"), seed=7)
    summary = run_generator(model, sink, transactions=50, mode="load")
    assert summary.transactions == 50
    assert sink.sent > 50 and sink.failed == 0

    from streamstack.topics.offsets import record_counts

    counts = record_counts(config, [topics["purchases"].name, topics["products"].name])
    assert counts[topics["products"].name] == 27
    assert counts[topics["purchases"].name] == summary.purchases


def test_wrong_password_fails_loudly(sasl_broker: SaslKafkaService) -> None:
    config = {**_config(sasl_broker, password="not-the-password"), "socket.timeout.ms": 5000}
    with pytest.raises(StreamstackError, match="refused the SCRAM-SHA-512 login"):
        TopicAdmin(config, timeout=10).describe(["demo.purchases"])
