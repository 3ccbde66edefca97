"""A real Apache Kafka 4.x broker (KRaft, one combined node) from Maven Central jars."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from string import Template

from streamstack.errors import StackError
from streamstack.runtime.bind import bind_host
from streamstack.runtime.java import find_java
from streamstack.runtime.maven import copy_dependencies
from streamstack.runtime.ports import port_open
from streamstack.stack.service import Service

KAFKA_VERSION = "4.4.0"  # keep equal to tools/kafka/pom.xml
CLUSTER_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")


class KafkaService(Service):
    """Single-node KRaft broker; state in ``<state_dir>/kafka``, jars in the shared cache."""

    name = "kafka"
    #: The security protocol of its client listener; recorded at start (``profile_file``).
    profile = "PLAINTEXT"

    @property
    def libs_dir(self) -> Path:
        return self.settings.cache_dir / f"kafka-{KAFKA_VERSION}" / "libs"

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    @property
    def properties_file(self) -> Path:
        return self.state_dir / "server.properties"

    @property
    def classpath(self) -> str:
        return str(self.libs_dir / "*")

    def ports(self) -> dict[str, int]:
        return {"client": self.settings.kafka_port, "controller": self.settings.kafka_controller_port}

    def endpoints(self) -> dict[str, str]:
        return {"bootstrap": self.settings.bootstrap_servers}

    def _log4j(self) -> str:
        return f"-Dlog4j2.configurationFile={self.settings.config_dir / 'kafka' / 'log4j2.properties'}"

    def resolve(self) -> None:
        copy_dependencies(self.settings.project_dir / "tools" / "kafka" / "pom.xml", self.libs_dir)

    def _storage_tool(self, *args: str) -> str:
        cmd = [find_java(), "-cp", self.classpath, self._log4j(), "kafka.tools.StorageTool", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise StackError(
                f"kafka: StorageTool {args[0]} failed (exit {proc.returncode}):\n{(proc.stdout + proc.stderr)[-2000:]}"
            )
        return proc.stdout.strip()

    def cluster_id(self) -> str:
        """The cluster id, made once and kept beside the data so re-formatting is a no-op."""
        id_file = self.state_dir / "cluster.id"
        if id_file.exists():
            cid = id_file.read_text().strip()
            if not CLUSTER_ID.match(cid):
                raise StackError(
                    f"kafka: corrupt state: {id_file} holds {cid!r}, not a cluster id. "
                    "Run `streamstack stack reset kafka` to start from empty state."
                )
            return cid
        cid = self._storage_tool("random-uuid").splitlines()[-1].strip()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        id_file.write_text(cid + "\n")
        return cid

    def _check_meta(self, cid: str) -> None:
        meta = self.data_dir / "meta.properties"
        if not meta.exists():
            return
        text = meta.read_text(errors="replace")
        found = re.search(r"^cluster\.id=(.*)$", text, re.M)
        if not found or found.group(1).strip() != cid:
            raise StackError(
                f"kafka: corrupt state: {meta} belongs to cluster "
                f"{found.group(1).strip() if found else '<none>'}, expected {cid}. "
                "Run `streamstack stack reset kafka` to start from empty state."
            )

    @property
    def profile_file(self) -> Path:
        return self.state_dir / "profile"

    def up(self) -> str:
        """As ``Service.up``, but a broker running in the other profile is named, not waited on."""
        if self.is_running():
            running = self.profile_file.read_text().strip() if self.profile_file.exists() else "PLAINTEXT"
            if running != self.profile:
                wanted = "on" if self.profile != "PLAINTEXT" else "off"
                raise StackError(
                    f"{self.name}: the running broker takes {running} clients, not {self.profile}. "
                    f"Run `streamstack stack down` first, then start the stack with STREAMSTACK_AUTH={wanted}."
                )
        return super().up()

    def _record_profile(self) -> None:
        self.profile_file.write_text(self.profile + "\n")

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        template = Template((self.settings.config_dir / "kafka" / "server.properties").read_text())
        self.properties_file.write_text(
            template.substitute(
                host=self.settings.host,
                bind_host=bind_host(),
                port=self.settings.kafka_port,
                controller_port=self.settings.kafka_controller_port,
                data_dir=self.data_dir.resolve(),
            )
        )
        cid = self.cluster_id()
        self._check_meta(cid)
        self._storage_tool(
            "format", "--standalone", "--ignore-formatted", "-t", cid, "-c", str(self.properties_file)
        )
        self._record_profile()

    def command(self) -> list[str]:
        heap = self.settings.kafka_heap
        return [
            find_java(),
            f"-Xms{heap}",
            f"-Xmx{heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dkafka.logs.dir={self.state_dir / 'logs'}",
            self._log4j(),
            "-cp",
            self.classpath,
            "kafka.Kafka",
            str(self.properties_file),
        ]

    def ready(self) -> bool:
        """The broker answers a metadata request (not just an open port)."""
        from confluent_kafka import KafkaException

        from streamstack.clients import admin_client

        if not port_open(self.settings.host, self.settings.kafka_port):
            return False
        admin = admin_client({**self.settings.kafka_client_config(), "socket.timeout.ms": 2000})
        try:
            meta = admin.list_topics(timeout=2)
        except KafkaException:
            return False
        return bool(meta.brokers)
