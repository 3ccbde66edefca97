"""Issue #29 item 9: a real Pinot 0.11 in the secured profile asks every client for the password.

One private Pinot (ZooKeeper + controller/broker/server, started through the stack's own
services) on a state dir and ports of its own, with ``STREAMSTACK_AUTH=on`` and a generated
password. Checked: the controller and the broker refuse a request without the password (Pinot
0.11: controller HTTP 403, broker HTTP 200 with ``errorCode`` 180) and answer it with; a table
consumes from the session's Kafka and commits segments (the server's tokens reach the
controller); the password is on no process's command line, in no log and in nothing the
unauthenticated server admin API serves.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from unittest import mock

import isolation
import pytest
import requests
from confluent_kafka import Producer
from confluent_kafka.admin import NewTopic
from support.cmdline import CmdlineSampler

from streamstack.auth import stack_secret
from streamstack.clients import admin_client
from streamstack.pinot import PinotClient, PinotError, local_client
from streamstack.pinot.endpoints import PinotEndpoints
from streamstack.settings import Settings
from streamstack.stack.pinot import PinotService, PinotZookeeperService

pytestmark = pytest.mark.integration

ROWS = 25
FLUSH_ROWS = 10  # two committed segments of 10 rows, five rows still consuming
PORT_VARIABLES = ("ZK", "CONTROLLER", "BROKER", "SERVER", "SERVER_ADMIN", "SERVER_GRPC")


def _free_ports(count: int) -> list[int]:
    """Ports free now and none a shard of the suite uses (``tests/isolation.py``, shards 0-9)."""
    shards = {port + 10000 * n for port in isolation.PORTS.values() for n in range(10)}
    held: list[socket.socket] = []
    ports: list[int] = []
    try:
        while len(ports) < count:
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            held.append(sock)
            if (port := sock.getsockname()[1]) not in shards:
                ports.append(port)
    finally:
        for sock in held:
            sock.close()
    return ports


@dataclass
class SecuredPinot:
    settings: Settings
    endpoints: PinotEndpoints
    credentials: tuple[str, str] = field(repr=False)  # not in a failing test's report
    service: PinotService
    sampler: CmdlineSampler
    started_s: float


@pytest.fixture(scope="module")
def secured(kafka: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredPinot]:
    """Pinot with basic auth on a tmp state dir and free ports, stopped after the module."""
    env = {f"STREAMSTACK_PINOT_{name}_PORT": str(port) for name, port in zip(PORT_VARIABLES, _free_ports(6),
                                                                             strict=True)}
    with mock.patch.dict(os.environ, env):
        os.environ.pop("STREAMSTACK_PINOT_PASSWORD", None)  # generated into the tmp state's secrets
        settings = replace(kafka, state_dir=tmp_path_factory.mktemp("pinot-auth") / "state", auth=True)
        # The password every client of the profile uses (streamstack.pinot.endpoints.pinot_credentials).
        credentials = ("admin", stack_secret(settings.secrets_dir, "pinot-admin-password"))
        zookeeper, pinot = PinotZookeeperService(settings), PinotService(settings)
        try:
            with CmdlineSampler(credentials[1]) as sampler:
                zookeeper.up()
                started = time.monotonic()
                print(pinot.up())
                yield SecuredPinot(settings, PinotEndpoints.from_env(settings), credentials, pinot, sampler,
                                   time.monotonic() - started)
        finally:
            pinot.down()
            zookeeper.down()


def test_the_controller_answers_only_with_the_password(secured: SecuredPinot) -> None:
    url = f"{secured.endpoints.controller_url}/tables"
    assert requests.get(url, timeout=10).status_code == 403  # Pinot 0.11: 403, not 401
    assert requests.get(url, auth=("admin", "wrong"), timeout=10).status_code == 403
    assert requests.get(url, auth=secured.credentials, timeout=10).status_code == 200
    # /health stays open in 0.11 (AuthenticationFilter.UNPROTECTED_PATHS): the stack's probe works either way.
    assert requests.get(f"{secured.endpoints.controller_url}/health", timeout=10).status_code == 200
    with pytest.raises(PinotError, match="asks for credentials and none were sent") as info:
        PinotClient(secured.endpoints.controller_url, secured.endpoints.broker_url).tables()
    assert info.value.status == 403 and secured.credentials[1] not in str(info.value)
    assert isinstance(local_client(secured.settings).tables(), list)


def test_the_broker_refuses_a_query_without_the_password_and_segments_commit_with_it(
    secured: SecuredPinot, kafka: Settings
) -> None:
    name = f"auth_{uuid.uuid4().hex[:8]}"
    config = kafka.kafka_client_config()
    admin = admin_client(config)
    admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])[name].result(30)
    try:
        client = local_client(secured.settings)
        client.apply_schema({
            "schemaName": name,
            "dimensionFieldSpecs": [{"name": "id", "dataType": "STRING"}],
            "dateTimeFieldSpecs": [{"name": "ts", "dataType": "LONG", "format": "1:MILLISECONDS:EPOCH",
                                    "granularity": "1:MILLISECONDS"}],
        })
        client.apply_table({
            "tableName": name,
            "tableType": "REALTIME",
            "segmentsConfig": {"schemaName": name, "timeColumnName": "ts", "replication": "1",
                               "replicasPerPartition": "1"},
            "tenants": {},
            "tableIndexConfig": {"loadMode": "MMAP", "streamConfigs": {
                "streamType": "kafka",
                "stream.kafka.consumer.type": "lowlevel",
                "stream.kafka.topic.name": name,
                "stream.kafka.broker.list": kafka.bootstrap_servers,
                "stream.kafka.consumer.factory.class.name":
                    "org.apache.pinot.plugin.stream.kafka20.KafkaConsumerFactory",
                "stream.kafka.decoder.class.name": "org.apache.pinot.plugin.stream.kafka.KafkaJSONMessageDecoder",
                "stream.kafka.consumer.prop.auto.offset.reset": "smallest",
                "realtime.segment.flush.threshold.rows": str(FLUSH_ROWS),
                "realtime.segment.flush.threshold.time": "3600000",
            }},
            "metadata": {},
        })
        producer = Producer(config)
        for i in range(ROWS):
            producer.produce(name, json.dumps({"id": f"r{i}", "ts": 1_800_000_000_000 + i}).encode())
        assert producer.flush(30) == 0

        # Committing a segment is the server calling the controller (segmentConsumed/segmentCommit
        # with pinot.server.segment.uploader.auth.token); without the token it is refused.
        view_url = f"{secured.endpoints.controller_url}/tables/{name}/externalview"
        deadline = time.monotonic() + 90
        while True:
            view = requests.get(view_url, auth=secured.credentials, timeout=10).json().get("REALTIME") or {}
            states = [state for replicas in view.values() for state in replicas.values()]
            try:
                count = client.count(name)
            except PinotError:  # the broker's routing for a new table is not there yet
                count = -1
            if count == ROWS and states.count("ONLINE") >= ROWS // FLUSH_ROWS:
                break
            assert time.monotonic() < deadline, f"{count} rows, segments {states}"
            time.sleep(1)

        sql = {"sql": f"SELECT COUNT(*) FROM {name}"}
        url = f"{secured.endpoints.broker_url}/query/sql"
        refused = requests.post(url, json=sql, timeout=10)
        assert refused.status_code == 200  # Pinot 0.11: an answer that says "access denied"
        assert [e["errorCode"] for e in refused.json()["exceptions"]] == [180]
        wrong = requests.post(url, json=sql, auth=("admin", "wrong"), timeout=10)
        assert [e["errorCode"] for e in wrong.json()["exceptions"]] == [180]
        answered = requests.post(url, json=sql, auth=secured.credentials, timeout=10).json()
        assert answered["exceptions"] == [] and answered["resultTable"]["rows"] == [[ROWS]]
        with pytest.raises(PinotError, match="none were sent"):
            PinotClient(secured.endpoints.controller_url, secured.endpoints.broker_url).count(name)
        client.drop_table(name, wait=False)
    finally:
        admin.delete_topics([name], operation_timeout=30)[name].result(30)


def test_the_password_is_on_no_command_line_in_no_log_and_not_served(secured: SecuredPinot) -> None:
    password = secured.credentials[1]
    token = base64.b64encode(f"admin:{password}".encode()).decode()
    # Each check is a bool first, so a failure's report does not print the secret it found.
    assert secured.sampler.samples > 0 and secured.sampler.hits == []
    pid = secured.service.process.pid()
    assert pid is not None
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    in_cmdline = password.encode() in cmdline or token.encode() in cmdline
    assert not in_cmdline, "the Pinot JVM's command line holds the password or its token"
    log = Path(secured.service.process.log_file).read_text(errors="replace")
    logged = sum(1 for line in log.splitlines() if password in line or token in line)
    assert not logged, f"{logged} lines of {secured.service.process.log_file} hold the password or its token"
    # The server's admin API has no access control in 0.11; its /appconfigs lists the JVM's config.
    served = requests.get(f"{secured.endpoints.server_admin_url}/appconfigs", timeout=10)
    assert served.status_code == 200
    leaked = password in served.text or token in served.text
    assert not leaked, "the server's /appconfigs serves the password or its token"
    print(f"Pinot with basic auth started in {secured.started_s:.1f} s")
