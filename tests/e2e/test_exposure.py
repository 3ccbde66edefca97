"""Exposure: every socket the embedded stack listens on is a loopback one (finding #10).

Lists, with psutil, the listening TCP sockets of every process of the stack (each service and
all its descendants: Airflow's api-server, log servers and scheduler health server, Pinot's
controller, broker, server and ZooKeeper, Kafka, Flink, JupyterLab), of a running Spark job (driver, block
manager) and of a running Kafka Streams app (its HTTP server for interactive queries), and fails on any socket that is not bound to a loopback address.
"""

from __future__ import annotations

import ipaddress
import time
import uuid
from pathlib import Path

import psutil
import pytest
from support import spark_testkit as kit

from streamstack.flink.config import FlinkConfig
from streamstack.kstreams.control import KStreamsControl
from streamstack.spark.control import SparkJobControl
from streamstack.stack import Stack
from streamstack.topics import TopicSpecs

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def whole_stack(platform: Stack) -> Stack:
    """The session's whole stack, started once for this tier (``support.services.platform``)."""
    return platform


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _listening(processes: list[psutil.Process]) -> list[tuple[str, str, int]]:
    found = []
    for proc in processes:
        try:
            for conn in proc.net_connections(kind="tcp"):
                if conn.status == psutil.CONN_LISTEN:
                    found.append((f"{proc.name()} (pid {proc.pid})", conn.laddr.ip, conn.laddr.port))
        except psutil.Error:
            continue
    return found


def _is_loopback(ip: str) -> bool:
    address = ipaddress.ip_address(ip.split("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


def test_every_listening_socket_of_the_stack_a_spark_job_and_a_kafka_streams_app_is_loopback(
    whole_stack: Stack, kafka_config: dict, fresh_topics: TopicSpecs, tmp_path: Path
) -> None:
    control = SparkJobControl(whole_stack.settings, topics=fresh_topics, checkpoint_dir=tmp_path / "checkpoints")
    app = KStreamsControl(whole_stack.settings, topics=fresh_topics, run_dir=tmp_path / "kstreams",
                          application_ids={"running_totals": f"exposure-{uuid.uuid4().hex[:8]}"},
                          ports={"running_totals": 0})
    kit.produce_catalogue(kafka_config, fresh_topics["products"].name, kit.catalogue())
    try:
        control.start("purchases_enrichment", interval="1 second", conf=kit.LIGHT_CONF)
        streams = app.start("running_totals")
        processes: list[psutil.Process] = []
        for service in whole_stack.services:
            pid = service.process.pid()
            assert pid is not None, f"{service.name} is not running"
            processes += _tree(pid)
        spark_pid = control._process("purchases_enrichment").pid()
        assert spark_pid is not None
        # The driver opens its block manager while the query starts: poll until it listens.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_listening(_tree(spark_pid))) < 2:
            time.sleep(0.5)
        spark = _listening(_tree(spark_pid))
        assert len(spark) >= 2, f"expected the Spark driver and block manager to listen: {spark}"
        sockets = _listening(processes) + spark + _listening(_tree(streams.pid))
        ports = {port for _, _, port in sockets}
        for name, port in (("kafka", whole_stack.settings.kafka_port), ("airflow", whole_stack.settings.airflow_port),
                           ("kafka streams", streams.port), ("flink", FlinkConfig.from_env(whole_stack.settings).rest_port),
                           ("jupyter", whole_stack.get("jupyter").ports()["http"])):
            assert port in ports, f"{name} port {port} not seen listening: {sockets}"
        exposed = [s for s in sockets if not _is_loopback(s[1])]
        assert not exposed, "listening on a non-loopback address: " + ", ".join(
            f"{who} {ip}:{port}" for who, ip, port in exposed
        )
    finally:
        control.stop("purchases_enrichment")
        app.stop("running_totals")
        app.reset("running_totals")


def test_secrets_are_private_to_the_user(whole_stack: Stack) -> None:
    """Finding #11: the Airflow admin password file is 0600, the state dir 0700."""
    airflow = whole_stack.get("airflow")
    password_file = airflow.password_file  # type: ignore[attr-defined]
    assert password_file.exists(), password_file
    assert oct(password_file.stat().st_mode & 0o777) == oct(0o600), password_file
    state = whole_stack.settings.state_dir
    assert oct(state.stat().st_mode & 0o777) == oct(0o700), state
    # What the services write themselves is private too (they run with umask 077).
    jupyter = whole_stack.get("jupyter").endpoints_  # type: ignore[attr-defined]
    for secret in (jupyter.token_file, jupyter.config_dir / "jupyter_server_config.json"):
        assert oct(secret.stat().st_mode & 0o777) == oct(0o600), secret
    logs = airflow.settings.airflow_home / "airflow.db"
    assert logs.stat().st_mode & 0o077 == 0, f"{logs} is {oct(logs.stat().st_mode & 0o777)}"
