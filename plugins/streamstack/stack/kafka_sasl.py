"""A second embedded Kafka broker with a SASL_SSL listener (SCRAM-SHA-512), for tests of secured clients.

Same jars and KRaft layout as ``KafkaService``; what differs is how secrets are handled:

- TLS: a CA and a broker certificate (``localhost``/``127.0.0.1``) made with the JDK's
  ``keytool`` into ``<state>/tls`` (0700; key store 0600). Keystore passwords reach keytool
  through its ``:env`` option forms, never as arguments. Clients trust ``tls/ca.pem``.
- SCRAM: the user is created when the storage is formatted (``StorageTool format --add-scram``);
  the arguments go in a 0600 java ``@argfile`` removed afterwards, so the password is never
  in ``/proc/<pid>/cmdline``. The password comes from the environment
  (``STREAMSTACK_KAFKA_SASL_PASSWORD``), the user name from ``STREAMSTACK_KAFKA_SASL_USERNAME``.
- ``server.properties`` (keystore password, the broker's own SCRAM login) is 0600.

``kafka-sasl`` runs beside the plain broker in ``tests/integration/security``. In the secured
profile (``STREAMSTACK_AUTH=on``, ``streamstack.auth``) ``SecuredKafkaService`` is the stack's
``kafka`` itself: the same broker on the stack's ports, its password generated into the secrets
folder, and every client of the stack gets its settings from ``Settings.kafka_client_config()``.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from pathlib import Path
from string import Template
from typing import Any

from streamstack.auth import (
    KAFKA_MECHANISM,
    KAFKA_PASSWORD_ENV,
    KAFKA_PASSWORD_FILE,
    KAFKA_USERNAME_ENV,
    kafka_username,
    stack_secret,
)
from streamstack.errors import ConfigError, StackError
from streamstack.files import replace_text
from streamstack.runtime.bind import bind_host
from streamstack.runtime.java import find_java
from streamstack.runtime.ports import port_open
from streamstack.runtime.process import private_dir
from streamstack.settings import Settings
from streamstack.stack.kafka import KafkaService

MECHANISM = KAFKA_MECHANISM
PASSWORD_ENV = KAFKA_PASSWORD_ENV
USERNAME_ENV = KAFKA_USERNAME_ENV
PORT_ENV = "STREAMSTACK_KAFKA_SASL_PORT"
CONTROLLER_PORT_ENV = "STREAMSTACK_KAFKA_SASL_CONTROLLER_PORT"
#: What ``--add-scram``'s parser and a JAAS string both take without quoting.
SAFE_SECRET = re.compile(r"^[A-Za-z0-9._~!@#%^&*+-]{8,128}$")
_KEYSTORE_ENV = "STREAMSTACK_KEYTOOL_PASS"


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"environment variable {name}={raw!r} is not a valid port")
    return int(raw)


class SaslKafkaService(KafkaService):
    """Single-node KRaft broker whose only client listener is SASL_SSL with SCRAM-SHA-512.

    Ports: ``STREAMSTACK_KAFKA_SASL_PORT`` / ``..._CONTROLLER_PORT`` (default: the plain broker's
    client port + 2 and + 3). State in ``<state_dir>/kafka-sasl``.
    """

    name = "kafka-sasl"
    profile = "SASL_SSL"

    def __init__(self, settings: Settings, *, password: str | None = None) -> None:
        """:param password: the SCRAM user's password (default: ``$STREAMSTACK_KAFKA_SASL_PASSWORD``)."""
        super().__init__(settings)
        self.port = _port(PORT_ENV, settings.kafka_port + 2)
        self.controller_port = _port(CONTROLLER_PORT_ENV, settings.kafka_port + 3)
        self._password = password

    # -- credentials ------------------------------------------------------------------------
    @staticmethod
    def username() -> str:
        return kafka_username()

    def password(self) -> str:
        value = self._password if self._password is not None else os.environ.get(PASSWORD_ENV)
        if not value:
            raise ConfigError(f"environment variable {PASSWORD_ENV} is not set (the SCRAM user's password)")
        if not SAFE_SECRET.match(value):
            raise ConfigError(
                f"environment variable {PASSWORD_ENV}: 8-128 characters of letters, digits and ._~!@#%^&*+-"
            )
        return value

    @property
    def tls_dir(self) -> Path:
        return self.state_dir / "tls"

    @property
    def ca_file(self) -> Path:
        """The CA certificate (PEM) clients trust: ``ssl.ca.location`` / a PEM trust store."""
        return self.tls_dir / "ca.pem"

    @property
    def bootstrap(self) -> str:
        return f"{self.settings.host}:{self.port}"

    def client_config(self, password: str | None = None) -> dict[str, Any]:
        """librdkafka settings for this broker (the form of the ``kafka_default`` connection)."""
        return {
            "bootstrap.servers": self.bootstrap,
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": MECHANISM,
            "sasl.username": self.username(),
            "sasl.password": self.password() if password is None else password,
            "ssl.ca.location": str(self.ca_file),
        }

    # -- Service ----------------------------------------------------------------------------
    def ports(self) -> dict[str, int]:
        return {"client": self.port, "controller": self.controller_port}

    def endpoints(self) -> dict[str, str]:
        return {"bootstrap (SASL_SSL)": self.bootstrap}

    def _keytool(self, *args: str, password: str) -> None:
        keytool = str(Path(find_java()).with_name("keytool"))
        proc = subprocess.run(
            [keytool, *args], capture_output=True, text=True, check=False,
            env={**os.environ, _KEYSTORE_ENV: password},
        )
        if proc.returncode != 0:
            raise StackError(f"{self.name}: keytool {args[0]} failed: {(proc.stdout + proc.stderr).strip()[-800:]}")

    def _certificates(self) -> str:
        """CA + broker certificate once; returns the key store password (kept in a 0600 file)."""
        private_dir(self.tls_dir)
        pass_file = self.tls_dir / "keystore.pass"
        keystore = self.tls_dir / "broker.p12"
        if keystore.exists() and self.ca_file.exists() and pass_file.exists():
            return pass_file.read_text().strip()
        password = secrets.token_urlsafe(24)
        replace_text(pass_file, password + "\n", mode=0o600)
        ca_store, csr, signed = self.tls_dir / "ca.p12", self.tls_dir / "broker.csr", self.tls_dir / "broker.pem"
        for stale in (ca_store, keystore, csr, signed, self.ca_file):
            stale.unlink(missing_ok=True)
        common = ["-storetype", "PKCS12", "-storepass:env", _KEYSTORE_ENV]
        self._keytool("-genkeypair", "-alias", "ca", "-keyalg", "RSA", "-keysize", "2048", "-validity", "3650",
                      "-dname", "CN=streamstack test CA", "-ext", "bc:c", "-keystore", str(ca_store), *common,
                      password=password)
        self._keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", str(ca_store), "-file",
                      str(self.ca_file), *common, password=password)
        self._keytool("-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-validity", "3650",
                      "-dname", "CN=localhost", "-keystore", str(keystore), *common, password=password)
        self._keytool("-certreq", "-alias", "broker", "-keystore", str(keystore), "-file", str(csr), *common,
                      password=password)
        self._keytool("-gencert", "-alias", "ca", "-keystore", str(ca_store), "-infile", str(csr), "-outfile",
                      str(signed), "-rfc", "-validity", "3650", "-ext", "SAN=dns:localhost,ip:127.0.0.1",
                      "-ext", "KU=digitalSignature,keyEncipherment", "-ext", "EKU=serverAuth", *common,
                      password=password)
        self._keytool("-importcert", "-noprompt", "-alias", "ca", "-file", str(self.ca_file), "-keystore",
                      str(keystore), *common, password=password)
        self._keytool("-importcert", "-alias", "broker", "-file", str(signed), "-keystore", str(keystore),
                      *common, password=password)
        for path in (ca_store, keystore):
            os.chmod(path, 0o600)
        csr.unlink()
        os.chmod(self.ca_file, 0o644)  # a certificate, not a secret
        return password

    def prepare(self) -> None:
        private_dir(self.state_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        user, password = self.username(), self.password()
        keystore_password = self._certificates()
        controller = stack_secret(self.tls_dir, "controller.pass")
        template = Template((self.settings.config_dir / "kafka" / "server-sasl.properties").read_text())
        replace_text(
            self.properties_file,
            template.substitute(
                host=self.settings.host,
                bind_host=bind_host(),
                port=self.port,
                controller_port=self.controller_port,
                data_dir=self.data_dir.resolve(),
                keystore=self.tls_dir / "broker.p12",
                keystore_password=keystore_password,
                ca_file=self.ca_file,
                broker_jaas=(
                    "org.apache.kafka.common.security.scram.ScramLoginModule required "
                    f'username="{user}" password="{password}";'
                ),
                controller_jaas=(
                    "org.apache.kafka.common.security.plain.PlainLoginModule required "
                    f'username="controller" password="{controller}" user_controller="{controller}";'
                ),
            ),
            mode=0o600,
        )
        cid = self.cluster_id()
        self._check_meta(cid)
        # The SCRAM credential is written into the first metadata snapshot by ``format``. Its
        # arguments (the password among them) go in a 0600 @argfile, not on the command line.
        argfile = self.state_dir / "format.args"
        replace_text(
            argfile,
            "\n".join([
                "kafka.tools.StorageTool", "format", "--standalone", "--ignore-formatted", "-t", cid,
                "-c", str(self.properties_file), "--add-scram", f"{MECHANISM}=[name={user},password={password}]",
            ]) + "\n",
            mode=0o600,
        )
        try:
            cmd = [find_java(), "-cp", self.classpath, self._log4j(), f"@{argfile}"]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        finally:
            argfile.unlink(missing_ok=True)
        if proc.returncode != 0:
            raise StackError(
                f"{self.name}: StorageTool format failed (exit {proc.returncode}):\n"
                f"{(proc.stdout + proc.stderr).replace(password, '***')[-2000:]}"
            )
        self._record_profile()

    def ready(self) -> bool:
        """The broker answers an authenticated metadata request over TLS."""
        from confluent_kafka import KafkaException

        from streamstack.clients import admin_client

        if not port_open(self.settings.host, self.port):
            return False
        admin = admin_client({**self.client_config(), "socket.timeout.ms": 2000})
        try:
            meta = admin.list_topics(timeout=2)
        except KafkaException:
            return False
        return bool(meta.brokers)


class SecuredKafkaService(SaslKafkaService):
    """The stack's ``kafka`` in the secured profile: SASL_SSL only, on the stack's own ports.

    Its data lives in ``<state>/kafka/data-secured``, apart from the plain broker's ``data``:
    SCRAM users are written when storage is formatted, so one data folder cannot serve both.
    Turning the profile on or off therefore switches between two sets of topics; neither is lost.
    """

    name = "kafka"

    def __init__(self, settings: Settings) -> None:
        KafkaService.__init__(self, settings)
        self.port = settings.kafka_port
        self.controller_port = settings.kafka_controller_port
        self._password = None

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data-secured"

    def password(self) -> str:
        """The stack's generated SCRAM password (or ``$STREAMSTACK_KAFKA_SASL_PASSWORD``), as every client reads it."""
        self._password = self.settings.kafka_client_config()["sasl.password"]
        return super().password()

    def client_config(self, password: str | None = None) -> dict[str, Any]:
        return {**self.settings.kafka_client_config(), **({"sasl.password": password} if password else {})}

    def endpoints(self) -> dict[str, str]:
        password = (f"${PASSWORD_ENV}" if os.environ.get(PASSWORD_ENV)
                    else str(self.settings.secrets_dir / KAFKA_PASSWORD_FILE))
        return {"bootstrap (SASL_SSL)": self.bootstrap, "user": self.username(), "password": password,
                "CA": str(self.ca_file)}


def kafka_service(settings: Settings) -> KafkaService:
    """The stack's broker: plain, or SASL_SSL in the secured profile."""
    return SecuredKafkaService(settings) if settings.auth else KafkaService(settings)
