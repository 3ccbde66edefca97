"""Issue #29 item 9: the secured profile (``STREAMSTACK_AUTH=on``) end to end, as a user runs it.

A stack of its own (a private state dir, this shard's ports + 500) started by the CLI in the
profile: Kafka takes only SASL_SSL (SCRAM) on its client port and TLS + PLAIN on its controller
port, Pinot's controller and broker only basic auth. The whole chain then runs through the CLI,
every client finding its credentials in the stack's secrets folder: topics, the generator, the
three jobs on Kafka Streams, Pinot's real-time tables consuming over SASL_SSL. Counts are exact,
no password is ever on a command line, and a client without credentials is refused everywhere.
Pinot's roles authenticate to each other too: segments commit (a copy of ``purchases`` flushing
every 10 rows), and neither Pinot's log nor its unauthenticated server admin API shows a secret.
(Spark and Flink over SASL_SSL: ``tests/integration/security/test_sasl_chain.py``.)
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import isolation
import pytest
import requests
from support.cmdline import CmdlineSampler

from streamstack.settings import Settings

pytestmark = pytest.mark.integration

#: This shard's ports + 500: clear of both shards' own ports, and below the ephemeral range
#: (32768+), where a client's socket took one (+5000 put shard 1's Pinot server on 33098).
PORT_OFFSET = 500
TRANSACTIONS = 120
CLI = str(Path(sys.executable).parent / "streamstack")


def _run(env: dict[str, str], *args: str, timeout: float = 600, check: bool = True) -> str:
    proc = subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if check:
        assert proc.returncode == 0, (
            f"streamstack {' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return proc.stdout


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], float]]:
    """The environment of the profile's stack, and the seconds ``stack up`` took."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AIRFLOW_CONN_") and k not in ("STREAMSTACK_KAFKA_SASL_PASSWORD",
                                                               "STREAMSTACK_PINOT_PASSWORD")}
    env.update({k: str(int(os.environ[k]) + PORT_OFFSET) for k in isolation.PORTS})
    env["STREAMSTACK_STATE_DIR"] = str(tmp_path_factory.mktemp("secured") / "state")
    env["STREAMSTACK_AUTH"] = "on"
    started = time.monotonic()
    try:
        _run(env, "stack", "up", "kafka", "pinot-zk", "pinot", timeout=900)
        yield env, time.monotonic() - started
    finally:
        _run(env, "stack", "down", check=False, timeout=300)
        shutil.rmtree(env["STREAMSTACK_STATE_DIR"], ignore_errors=True)


@pytest.fixture
def settings(profile: tuple[dict[str, str], float], monkeypatch: pytest.MonkeyPatch) -> Settings:
    env, _ = profile
    for key in (*isolation.PORTS, "STREAMSTACK_STATE_DIR", "STREAMSTACK_AUTH"):
        monkeypatch.setenv(key, env[key])
    return Settings.from_env()


def _count(settings: Settings, table: str, expected: int, timeout: float = 180) -> int:
    """``COUNT(*)`` of ``table`` once it reaches ``expected`` (or what it holds at the deadline)."""
    from streamstack.pinot import local_client
    from streamstack.pinot.client import PinotError

    client = local_client(settings)
    deadline = time.monotonic() + timeout
    while True:
        try:
            (row,) = client.query(f"SELECT COUNT(*) AS n FROM {table}")
            count = int(row["n"])
        except PinotError as exc:
            if "not responded" not in str(exc) and "does not exist" not in str(exc).lower():
                raise
            count = -1
        if count == expected or time.monotonic() > deadline:
            return count
        time.sleep(0.5)


def test_the_profile_runs_the_chain_with_every_secret_in_private_files(
    profile: tuple[dict[str, str], float], settings: Settings
) -> None:
    env, startup = profile
    kafka = settings.kafka_client_config()
    pinot_password = (settings.secrets_dir / "pinot-admin-password").read_text().strip()
    steps: dict[str, float] = {}
    with CmdlineSampler(kafka["sasl.password"]) as kafka_sampler, CmdlineSampler(pinot_password) as pinot_sampler:
        t = time.monotonic()
        _run(env, "topics", "apply")
        summary = json.loads(_run(env, "generate", "-n", str(TRANSACTIONS), "--mode", "load", "--seed", "29",
                                  "--json"))
        purchases = summary["purchases"]
        steps["topics+generator"] = time.monotonic() - t
        t = time.monotonic()
        _run(env, "engine", "submit", "--engine", "kstreams", timeout=900)
        steps["kafka streams, 3 jobs"] = time.monotonic() - t
        t = time.monotonic()
        _run(env, "pinot", "apply")
        assert _count(settings, "purchasesEnriched", purchases) == purchases
        assert _count(settings, "purchases", purchases) == purchases
        assert _count(settings, "deadLetters", 0, timeout=5) == 0
        steps["pinot"] = time.monotonic() - t
    assert kafka_sampler.samples > 3 and kafka_sampler.hits == [], kafka_sampler.hits
    assert pinot_sampler.hits == [], pinot_sampler.hits

    secrets = settings.secrets_dir
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700
    for path in (*secrets.rglob("*"), settings.state_dir / "kafka" / "server.properties"):
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    print(f"secured profile: stack up kafka pinot-zk pinot {startup:.0f}s; {purchases} purchases; "
          + ", ".join(f"{k} {v:.0f}s" for k, v in steps.items()))


def test_a_client_without_the_credentials_is_refused_everywhere(
    profile: tuple[dict[str, str], float], settings: Settings, tmp_path: Path
) -> None:
    from confluent_kafka import KafkaException

    from streamstack.clients import admin_client
    from streamstack.pinot import PinotEndpoints
    from streamstack.stack.kafka import KafkaService

    kafka = settings.kafka_client_config()
    # Kafka's client port: plaintext, and SASL_SSL with a wrong password.
    for config in ({"bootstrap.servers": kafka["bootstrap.servers"]}, {**kafka, "sasl.password": "not-it-at-all"}):
        admin = admin_client({**config, "socket.timeout.ms": 3000})
        with pytest.raises(KafkaException):
            admin.list_topics(timeout=5)
    # Kafka's controller port: an admin client without TLS and the controller's password (KIP-919).
    broker = KafkaService(settings)
    quick = tmp_path / "admin.properties"  # a refusal in seconds, not the 60 s default API timeout
    quick.write_text("request.timeout.ms=5000\ndefault.api.timeout.ms=8000\n")
    started = time.monotonic()
    proc = subprocess.run(
        [shutil.which("java") or "java", "-cp", broker.classpath, "org.apache.kafka.tools.MetadataQuorumCommand",
         "--bootstrap-controller", f"{settings.host}:{settings.kafka_controller_port}",
         "--command-config", str(quick), "describe", "--status"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode != 0, proc.stdout
    print(f"controller port refused a plaintext admin client in {time.monotonic() - started:.0f}s")
    # Pinot: the controller's REST API and the broker's SQL endpoint want the password (0.11
    # answers the controller's refusal with 403, the broker's with 200 and error code 180).
    endpoints = PinotEndpoints.from_env(settings)
    assert requests.get(f"{endpoints.controller_url}/tables", timeout=10).status_code == 403
    refused = requests.post(f"{endpoints.broker_url}/query/sql", json={"sql": "SELECT 1"}, timeout=10)
    assert [e.get("errorCode") for e in refused.json().get("exceptions", [])] == [180], refused.text
    password = (settings.secrets_dir / "pinot-admin-password").read_text().strip()
    allowed = requests.get(f"{endpoints.controller_url}/tables", auth=("admin", password), timeout=10)
    assert allowed.status_code == 200, allowed.text


def test_pinot_commits_segments_and_neither_logs_nor_serves_a_secret(
    profile: tuple[dict[str, str], float], settings: Settings
) -> None:
    """Committing a segment is the server calling the controller with its token: without the
    tokens a table stops at its first flush for good, and no client sees an error."""
    import base64

    from streamstack.pinot import PinotEndpoints, local_client
    from streamstack.pinot.stream_security import secrets_dir, stream_security_configs
    from streamstack.pinot.tables import apply_specs, load_specs
    from streamstack.stack.pinot import PinotService
    from streamstack.topics import load_topics
    from streamstack.topics.offsets import read_to_end

    env, _ = profile
    kafka = settings.kafka_client_config()
    topic = load_topics(settings.topics_file)["purchases"].name
    if not read_to_end(kafka, topic):
        _run(env, "generate", "-n", "40", "--mode", "load", "--seed", "30")
    lines = len(read_to_end(kafka, topic))
    (spec,) = load_specs(settings.config_dir / "pinot", load_topics(settings.topics_file).names(),
                         kafka["bootstrap.servers"], ["purchases"], stream_security_configs(kafka, secrets_dir(settings)))
    name = "purchases_flush10"
    streams = {**spec.table["tableIndexConfig"]["streamConfigs"], "realtime.segment.flush.threshold.rows": "10"}
    table = {**spec.table, "tableName": name, "segmentsConfig": {**spec.table["segmentsConfig"], "schemaName": name},
             "tableIndexConfig": {**spec.table["tableIndexConfig"], "streamConfigs": streams}}
    pinot = local_client(settings)
    apply_specs(pinot, [type(spec)(name, {**spec.schema, "schemaName": name}, table, spec.logical_topic, topic)])
    endpoints = PinotEndpoints.from_env(settings)
    password = (settings.secrets_dir / "pinot-admin-password").read_text().strip()
    credentials = ("admin", password)
    deadline = time.monotonic() + 120
    while True:
        view = requests.get(f"{endpoints.controller_url}/tables/{name}/externalview", auth=credentials,
                            timeout=10).json().get("REALTIME") or {}
        online = sum(1 for replicas in view.values() for state in replicas.values() if state == "ONLINE")
        (row,) = pinot.query(f"SELECT COUNT(*) AS n FROM {name}") if view else [{"n": -1}]
        if online >= lines // 10 // 3 and int(row["n"]) == lines:
            break
        assert time.monotonic() < deadline, f"{row['n']} of {lines} rows, {online} segments committed: {view}"
        time.sleep(1)

    token = base64.b64encode(f"admin:{password}".encode()).decode()
    log = Path(PinotService(settings).process.log_file).read_text(errors="replace")
    logged = sum(1 for line in log.splitlines() if password in line or token in line)
    assert not logged, f"{logged} lines of Pinot's log hold the password or its token"  # not the secret itself
    # The server's admin API has no access control in Pinot 0.11; its /appconfigs lists the JVM's config.
    served = requests.get(f"{endpoints.server_admin_url}/appconfigs", timeout=10)
    assert served.status_code == 200
    leaked = password in served.text or token in served.text
    assert not leaked, "the server's /appconfigs serves the password or its token"

