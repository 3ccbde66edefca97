"""SASL_SSL with SCRAM-SHA-512 against a real broker: a private KRaft node with a TLS listener.

The certificate is made here with the JDK's keytool (self-signed for ``localhost``, so it is its
own CA); the SCRAM user is created at format time (``StorageTool format --add-scram``). The
generator must deliver with the right password and fail loudly with a wrong one.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from streamstack.errors import StreamstackError
from streamstack.generator import build_model, load_catalogue, load_config, run_generator
from streamstack.generator.kafka import KafkaSink, connection_config
from streamstack.runtime.java import find_java
from streamstack.runtime.ports import listener_pids
from streamstack.runtime.process import ManagedProcess
from streamstack.settings import Settings
from streamstack.stack.kafka import KafkaService
from streamstack.topics import TopicAdmin, load_topics

pytestmark = pytest.mark.integration
USER = "alice"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@dataclass
class SaslBroker:
    bootstrap: str
    ca_file: Path
    password: str

    def config(self, password: str | None = None) -> dict:
        return connection_config(
            self.bootstrap,
            security_protocol="SASL_SSL",
            username=USER,
            password=password or self.password,
            ca_location=str(self.ca_file),
        )


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def sasl_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SaslBroker]:
    kafka = KafkaService(Settings.from_env())
    kafka.resolve()
    java = find_java()
    keytool = str(Path(java).parent / "keytool")
    home = tmp_path_factory.mktemp("sasl-broker")
    store_pass = secrets.token_hex(12)
    scram_pass = secrets.token_hex(12)
    keystore, ca_file = home / "broker.p12", home / "ca.pem"
    _run([keytool, "-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
          "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-storetype", "PKCS12",
          "-keystore", str(keystore), "-storepass", store_pass, "-keypass", store_pass])
    _run([keytool, "-exportcert", "-rfc", "-alias", "broker", "-keystore", str(keystore),
          "-storepass", store_pass, "-file", str(ca_file)])

    plain, sasl, controller = free_port(), free_port(), free_port()
    props = home / "server.properties"
    props.write_text(
        "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.bootstrap.servers=localhost:{controller}",
                f"listeners=PLAINTEXT://localhost:{plain},SASL_SSL://localhost:{sasl},CONTROLLER://localhost:{controller}",
                f"advertised.listeners=PLAINTEXT://localhost:{plain},SASL_SSL://localhost:{sasl},CONTROLLER://localhost:{controller}",
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL",
                "sasl.enabled.mechanisms=SCRAM-SHA-512",
                "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config="
                "org.apache.kafka.common.security.scram.ScramLoginModule required;",
                f"ssl.keystore.location={keystore}",
                "ssl.keystore.type=PKCS12",
                f"ssl.keystore.password={store_pass}",
                f"ssl.key.password={store_pass}",
                f"log.dirs={home / 'data'}",
                "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=false",
                "log.cleaner.dedupe.buffer.size=16777216",
            ]
        )
        + "\n"
    )
    log4j = f"-Dlog4j2.configurationFile={kafka.settings.config_dir / 'kafka' / 'log4j2.properties'}"
    cluster_id = subprocess.run(
        [java, "-cp", kafka.classpath, log4j, "kafka.tools.StorageTool", "random-uuid"],
        capture_output=True, text=True, check=True,
    ).stdout.split()[-1]
    _run([java, "-cp", kafka.classpath, log4j, "kafka.tools.StorageTool", "format", "--standalone",
          "-t", cluster_id, "-c", str(props), "--add-scram", f"SCRAM-SHA-512=[name={USER},password={scram_pass}]"])
    proc = ManagedProcess("sasl-kafka", home)
    proc.start([java, "-Xms256m", "-Xmx512m", log4j, "-cp", kafka.classpath, "kafka.Kafka", str(props)])
    try:
        deadline = time.monotonic() + 90
        while proc.pid() not in listener_pids(sasl):  # ours, not whoever may hold the port
            assert proc.exited() is None, proc.log_tail()
            assert time.monotonic() < deadline, proc.log_tail()
            time.sleep(0.5)
        yield SaslBroker(f"localhost:{sasl}", ca_file, scram_pass)
    finally:
        proc.stop(timeout=15)


def test_generator_delivers_over_sasl_ssl(sasl_broker: SaslBroker, tmp_path: Path) -> None:
    from dataclasses import replace

    from streamstack.topics import TopicSpecs

    declared = load_topics()
    suffix = uuid.uuid4().hex[:6]
    topics = TopicSpecs(declared.file, tuple(replace(s, name=f"{s.name}.sasl{suffix}") for s in declared))
    config = sasl_broker.config()
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


def test_wrong_password_fails_loudly(sasl_broker: SaslBroker) -> None:
    config = {**sasl_broker.config(password="not-the-password"), "socket.timeout.ms": 5000}
    with pytest.raises(StreamstackError, match="(?i)auth"):
        TopicAdmin(config, timeout=10).describe(["demo.purchases"])
