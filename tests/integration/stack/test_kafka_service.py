"""A second, private Kafka broker started through the stack code: start, reuse, stop, bad state."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from streamstack.errors import StackError
from streamstack.runtime.ports import listener_pids
from streamstack.runtime.process import pid_alive
from streamstack.settings import Settings
from streamstack.stack import Stack
from streamstack.stack.kafka import KafkaService

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.fixture
def private(tmp_path: Path) -> Iterator[Settings]:
    settings = replace(
        Settings.from_env(),
        state_dir=tmp_path / "state",
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
    )
    yield settings
    Stack(settings, names=["kafka"]).down(lambda _: None)


def test_up_status_reuse_down(private: Settings) -> None:
    stack = Stack(private, names=["kafka"])
    lines: list[str] = []
    stack.up(lines.append)
    assert "kafka: started" in lines[-1]
    (status,) = stack.status()
    assert status.running and status.ready
    assert status.endpoints == {"bootstrap": f"localhost:{private.kafka_port}"}
    # A second `up` (a later CLI call) reuses the running broker.
    Stack(private, names=["kafka"]).up(lines.append)
    assert "already running" in lines[-1]
    pid = status.pid
    assert pid in listener_pids(private.kafka_port)
    stack.down(lines.append)
    assert lines[-1] == "kafka: stopped"
    # Ours is gone (the port itself may be taken by anyone on a shared machine).
    assert not pid_alive(pid) and pid not in listener_pids(private.kafka_port)
    # State survives a restart: same cluster id, formatting is skipped.
    cluster_id = (private.state_dir / "kafka" / "cluster.id").read_text()
    stack.up(lines.append)
    assert (private.state_dir / "kafka" / "cluster.id").read_text() == cluster_id
    assert stack.status()[0].ready


def test_corrupt_cluster_id_is_reported(private: Settings) -> None:
    service = KafkaService(private)
    service.state_dir.mkdir(parents=True)
    (service.state_dir / "cluster.id").write_text("not a cluster id\n")
    with pytest.raises(StackError, match=r"corrupt state: .*cluster\.id.*stack reset kafka"):
        service.up()
    assert not service.is_running()


def test_data_of_another_cluster_is_reported(private: Settings) -> None:
    service = KafkaService(private)
    service.data_dir.mkdir(parents=True)
    (service.data_dir / "meta.properties").write_text(
        "version=1\ncluster.id=AAAAAAAAAAAAAAAAAAAAAA\nnode.id=1\n"
    )
    with pytest.raises(StackError, match="belongs to cluster AAAAAAAAAAAAAAAAAAAAAA"):
        service.up()


def test_reset_deletes_state(private: Settings) -> None:
    stack = Stack(private, names=["kafka"])
    stack.up(lambda _: None)
    pid = stack.status()[0].pid
    stack.reset(lambda _: None)
    assert not (private.state_dir / "kafka").exists()
    assert not pid_alive(pid)


def test_unknown_service_name() -> None:
    with pytest.raises(StackError, match="unknown service"):
        Stack(names=["zookeeper-please"])
