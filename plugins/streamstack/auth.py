"""The embedded stack's secured profile (``STREAMSTACK_AUTH=on``) and the secrets it generates.

Off by default: on one's own machine every service binds to loopback only. On a shared host any
local user can reach loopback, so the profile puts a password in front of what holds data:
Kafka takes only SASL_SSL (SCRAM-SHA-512) from every client, Pinot's controller and broker
basic auth. Superset and Airflow ask for a login in both profiles. Flink's REST API has no
authentication in Flink itself; it stays on loopback (``docs/services/flink.md``).

Passwords come from the environment when set, else are generated once into
``<state>/secrets/<name>`` (0600 in a 0700 folder) and read from there by every client of the
stack: never in code, on a command line or in a served config.
"""

from __future__ import annotations

import os
import re
import secrets
import string
import time
from pathlib import Path

from streamstack.errors import ConfigError

AUTH_ENV = "STREAMSTACK_AUTH"
#: Kafka's SASL mechanism and the SCRAM user's settings (the secured profile and ``kafka-sasl``).
KAFKA_MECHANISM = "SCRAM-SHA-512"
KAFKA_PASSWORD_ENV = "STREAMSTACK_KAFKA_SASL_PASSWORD"
KAFKA_USERNAME_ENV = "STREAMSTACK_KAFKA_SASL_USERNAME"
#: The generated SCRAM password's file in the secrets folder.
KAFKA_PASSWORD_FILE = "kafka-sasl-password"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_ON, _OFF = ("on", "true", "1", "yes"), ("off", "false", "0", "no", "")


def auth_from_env(environ: dict[str, str] | None = None) -> bool:
    """Whether the secured profile is on (``STREAMSTACK_AUTH``); a value neither on nor off is refused."""
    raw = (environ if environ is not None else os.environ).get(AUTH_ENV, "").strip().lower()
    if raw in _ON:
        return True
    if raw in _OFF:
        return False
    raise ConfigError(f"environment variable {AUTH_ENV}={raw!r} is neither on nor off")


def kafka_username() -> str:
    """The SCRAM user: ``$STREAMSTACK_KAFKA_SASL_USERNAME`` or ``streamstack``."""
    name = os.environ.get(KAFKA_USERNAME_ENV) or "streamstack"
    if not _SAFE_NAME.match(name):
        raise ConfigError(f"environment variable {KAFKA_USERNAME_ENV}: use letters, digits, '.', '_', '-'")
    return name


def stack_secret(secrets_dir: Path, name: str, *, env: str | None = None) -> str:
    """The secret ``name``: ``$env`` when set, else the one in ``secrets_dir/name``, made on first use.

    Made with ``O_EXCL``: processes that start side by side (three jobs of one DAG run, the stack's
    services) agree on one value; the loser of the race reads the winner's.
    """
    if env and os.environ.get(env):
        return os.environ[env]
    secrets_dir.mkdir(parents=True, exist_ok=True)
    secrets_dir.chmod(0o700)
    path = secrets_dir / name
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(100):  # the winner may not have written it yet
            value = path.read_text().strip()
            if value:
                return value
            time.sleep(0.01)
        raise ConfigError(f"secret file {path} is empty; delete it to make a new one") from None
    # Letters and digits only: the value goes into JAAS strings, properties files and URLs unquoted.
    value = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value
