"""The Kafka connection's TLS and SASL settings as Pinot stream configs, the password kept out of Pinot.

Pinot 0.11's Kafka 2.0 consumer passes every stream config key to ``KafkaConsumer``
(``KafkaPartitionLevelConnectionHandler``: ``consumerProp.putAll(streamConfigsMap)``), so
``security.protocol``, ``sasl.mechanism``, ``sasl.jaas.config`` and ``ssl.truststore.*`` work
as plain stream config keys. But the table config is stored in ZooKeeper and served by the
controller's REST API to anyone who can reach it, so the password is not put there. It goes
into a 0600 properties file, and ``sasl.jaas.config`` refers to it through Kafka's own
``FileConfigProvider`` (KIP-297/KIP-421: ``${file:<path>:password}``), resolved inside the
Pinot server's consumer. The table config then holds a path and the user name, never the secret.

The file must be readable at the same path by every Pinot server (same host here; a shared
volume or a secret mount elsewhere): ``STREAMSTACK_PINOT_SECRETS_DIR``, default
``<state_dir>/secrets/pinot``.

Client-certificate secrets (``ssl.key.password``, ``ssl.keystore.password``, ``ssl.key.pem``, any
other ``*password*``) cannot take that route: each is a whole value, and Pinot replaces a value
that is wholly ``${...}`` by an environment variable (``ConfigUtils.applyConfigWithEnvVariables``)
before Kafka's provider could read it. They are refused, naming the key, rather than served.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from streamstack.errors import ConfigError
from streamstack.kafka_config import _LOGIN_MODULES, _quote, java_client_properties, write_private_text
from streamstack.settings import Settings

SECRETS_DIR_ENV = "STREAMSTACK_PINOT_SECRETS_DIR"
#: Stream config keys this module sets; a table file must not set them itself.
PROVIDER_KEYS = {
    "config.providers": "file",
    "config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
}


#: Keys whose value is a private key rather than a password.
PRIVATE_KEY_KEYS = ("ssl.key.pem", "ssl.keystore.key")


def is_secret_key(key: str) -> bool:
    """True for a stream config key whose value is a secret: any password, a private key, or a
    JAAS login (it embeds the password). One rule for the connection and the table files."""
    return "password" in key or key in PRIVATE_KEY_KEYS or key == "sasl.jaas.config"


def secrets_dir(settings: Settings) -> Path:
    raw = os.environ.get(SECRETS_DIR_ENV)
    return Path(raw) if raw else settings.state_dir / "secrets" / "pinot"


def _properties_value(value: str) -> str:
    """``value`` escaped for ``java.util.Properties.load`` (what ``FileConfigProvider`` reads)."""
    out = value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return "\\" + out if out.startswith((" ", "\t", "\f")) else out


def write_password_file(directory: Path, jaas_password: str) -> Path:
    """A 0600 properties file ``password=<jaas_password>`` in a 0700 directory, named by content."""
    return write_private_text(directory, f"password={_properties_value(jaas_password)}\n", "kafka", ".properties")


def stream_security_configs(
    kafka_config: Mapping[str, Any], directory: Path, source: str = "the Kafka connection"
) -> dict[str, str]:
    """Stream config entries for the connection's security settings (empty for PLAINTEXT).

    :param kafka_config: librdkafka settings of the Kafka connection (``kafka_default``).
    :param directory: where the password file goes (as the Pinot servers see it).
    :param source: what ``kafka_config`` came from, for the refusal of a secret it cannot keep out.
    """
    props = java_client_properties(kafka_config)
    props.pop("bootstrap.servers", None)
    props.pop("client.id", None)  # Pinot names its own consumers
    refused = sorted(key for key in props if key != "sasl.jaas.config" and is_secret_key(key))
    if refused:
        raise ConfigError(
            f"the secret{'s' if len(refused) > 1 else ''} {', '.join(refused)} would be copied into every Pinot "
            "table config, which the controller serves to anyone "
            "(GET /tables/<name>), and cannot be a file reference there (Pinot reads a value that is wholly "
            "'${...}' as an environment variable). Let Pinot consume through a connection without "
            "client-certificate secrets: SASL, whose password goes through a 0600 file "
            "(PinotApplyOperator's kafka_config_id)",
            file=source, key=refused[0],
        )
    if "sasl.jaas.config" in props:
        mechanism = props["sasl.mechanism"]
        user = str(kafka_config["sasl.username"])
        # The value inside the JAAS quotes, escaped as _quote does; the quotes stay in the table config.
        secret = _quote(str(kafka_config["sasl.password"]))[1:-1]
        path = write_password_file(directory, secret)
        if ":" in str(path) or "}" in str(path):
            raise ConfigError(f"{SECRETS_DIR_ENV}: a path with ':' or '}}' cannot be referenced by "
                              f"Kafka's FileConfigProvider ({path})")
        props["sasl.jaas.config"] = (
            f'{_LOGIN_MODULES[mechanism]} required username={_quote(user)} password="${{file:{path}:password}}";'
        )
        props.update(PROVIDER_KEYS)
    return props
