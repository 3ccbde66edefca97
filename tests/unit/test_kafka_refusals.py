"""A refused Kafka login or TLS handshake is one line that says what to check, at once."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import KafkaError, KafkaException

from streamstack.clients import KafkaRefused, reach, refusal_message

CONFIG = {"bootstrap.servers": "b:9094", "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "ingest",
          "sasl.password": "hunter2"}


def test_login_refusal_names_broker_user_and_what_to_check() -> None:
    err = KafkaError(KafkaError._AUTHENTICATION,
                     "sasl_ssl://b:9094/bootstrap: SASL authentication error: Authentication failed during "
                     "authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512 (after 323ms in "
                     "state AUTH_REQ)")
    line = refusal_message(err, CONFIG)
    assert line.startswith("Kafka at b:9094 refused the SCRAM-SHA-512 login of user 'ingest' (SASL authentication")
    assert "after 323ms" not in line and "sasl_ssl://" not in line and "hunter2" not in line and "\n" not in line


def test_tls_refusal_points_at_the_ca() -> None:
    err = KafkaError(KafkaError._SSL, "sasl_ssl://b:9094/bootstrap: SSL handshake failed: certificate verify failed")
    assert "check ssl.ca.location" in refusal_message(err, CONFIG)


class _Client:
    """Fails metadata requests; its error callback has seen a refusal after the first poll."""

    def __init__(self) -> None:
        self.refusals: list[KafkaError] = []
        self.calls = 0

    def list_topics(self, topic: str | None = None, timeout: float | None = None) -> None:
        self.calls += 1
        raise KafkaException(KafkaError(KafkaError._TRANSPORT, "transport failure"))

    def poll(self, timeout: float) -> None:
        self.refusals.append(KafkaError(KafkaError._AUTHENTICATION, "SASL authentication error: invalid credentials"))


def test_reach_raises_the_refusal_at_once_not_after_the_timeout() -> None:
    started = time.monotonic()
    with pytest.raises(KafkaRefused, match="refused the SCRAM-SHA-512 login of user 'ingest'"):
        reach(_Client(), CONFIG, timeout=60)
    assert time.monotonic() - started < 1


def test_reach_without_refusal_raises_the_last_error_at_the_deadline() -> None:
    client = _Client()
    client.poll = lambda timeout: None  # type: ignore[method-assign]
    with pytest.raises(KafkaException):
        reach(client, CONFIG, timeout=0.3)
    assert client.calls >= 1
