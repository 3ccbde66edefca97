"""Kafka client settings across clients: librdkafka (the connection's form) to Java properties.

The ``kafka_default`` connection holds librdkafka settings (what confluent-kafka and the
Airflow Kafka provider use). The JVM clients — Spark's Kafka source and sink, Flink's connector,
Kafka Streams, Pinot's consumer — take Java client properties. One translation serves them all,
and the secrets it produces go to a 0600 file, never onto a command line.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from streamstack.errors import ConfigError
from streamstack.files import replace_text

#: librdkafka keys with the same name and meaning in the Java client.
_SAME = ("security.protocol", "client.id", "ssl.endpoint.identification.algorithm")
#: librdkafka-only keys that concern only librdkafka clients (never passed to the JVM).
_LIBRDKAFKA_ONLY = ("group.id", "enable.auto.commit", "auto.offset.reset", "linger.ms", "queue.", "batch.",
                    "compression.", "message.", "enable.idempotence", "acks", "partitioner", "statistics.",
                    "log_level", "logger", "error_cb", "stats_cb", "oauth_cb", "debug", "socket.")
_LOGIN_MODULES = {
    "SCRAM-SHA-512": "org.apache.kafka.common.security.scram.ScramLoginModule",
    "SCRAM-SHA-256": "org.apache.kafka.common.security.scram.ScramLoginModule",
    "PLAIN": "org.apache.kafka.common.security.plain.PlainLoginModule",
}


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def java_client_properties(config: Mapping[str, Any]) -> dict[str, str]:
    """Java client properties equivalent to a librdkafka config (bootstrap, TLS, SASL)."""
    out: dict[str, str] = {}
    if config.get("bootstrap.servers"):
        out["bootstrap.servers"] = str(config["bootstrap.servers"])
    for key in _SAME:
        if key in config:
            out[key] = str(config[key])
    mechanism = config.get("sasl.mechanisms") or config.get("sasl.mechanism")
    if mechanism:
        mechanism = str(mechanism).upper()
        out["sasl.mechanism"] = mechanism
        if mechanism not in _LOGIN_MODULES:
            raise ConfigError(f"SASL mechanism {mechanism} has no Java login module here "
                              f"(supported: {', '.join(_LOGIN_MODULES)})", key="sasl.mechanisms")
        user, password = config.get("sasl.username"), config.get("sasl.password")
        if user is None or password is None:
            raise ConfigError(f"SASL {mechanism} needs sasl.username and sasl.password", key="sasl.username")
        out["sasl.jaas.config"] = (
            f"{_LOGIN_MODULES[mechanism]} required username={_quote(str(user))} password={_quote(str(password))};"
        )
    if config.get("ssl.ca.location"):
        out["ssl.truststore.type"] = "PEM"
        out["ssl.truststore.location"] = str(config["ssl.ca.location"])
    for key, value in config.items():
        handled = key in out or key in _SAME or key.startswith(("sasl.", "ssl.ca.", "bootstrap."))
        if not handled and not key.startswith(_LIBRDKAFKA_ONLY) and key.startswith("ssl."):
            out[key] = str(value)
    return out


def write_private_json(directory: Path, data: Mapping[str, Any], stem: str = "kafka") -> Path:
    """``data`` as JSON in a 0600 file (in a 0700 directory), named by content: safe to re-use."""
    return write_private_text(directory, json.dumps(dict(data), sort_keys=True), stem, ".json")


def write_private_text(directory: Path, text: str, stem: str, suffix: str) -> Path:
    """``text`` in a 0600 file ``<stem>-<hash><suffix>`` (in a 0700 directory), written atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    target = directory / f"{stem}-{hashlib.sha256(text.encode()).hexdigest()[:16]}{suffix}"
    if not target.exists():
        replace_text(target, text, mode=0o600)
    os.chmod(target, 0o600)
    return target
