"""The shared start-up behaviour of services: readiness, port checks, failures with log tails."""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from streamstack.errors import StackError
from streamstack.runtime.ports import listener_pids, port_open
from streamstack.runtime.process import pid_alive
from streamstack.settings import Settings
from streamstack.stack.service import Service


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


class HttpService(Service):
    """A real tiny server (python -m http.server) standing in for a Java service."""

    name = "http"
    script = "import http.server, sys; http.server.test(HandlerClass=http.server.SimpleHTTPRequestHandler, port=int(sys.argv[1]), bind='localhost')"

    def __init__(self, settings: Settings, port: int) -> None:
        super().__init__(settings)
        self.port = port

    def ports(self) -> dict[str, int]:
        return {"http": self.port}

    def endpoints(self) -> dict[str, str]:
        return {"url": f"http://localhost:{self.port}"}

    def command(self) -> list[str]:
        return [sys.executable, "-c", self.script, str(self.port)]

    def ready(self) -> bool:
        return port_open("localhost", self.port)


class CrashingService(HttpService):
    name = "crash"

    def command(self) -> list[str]:
        return [sys.executable, "-c", "import sys; print('bad config: nope', flush=True); sys.exit(3)"]


class NeverReadyService(HttpService):
    name = "never"

    def ready(self) -> bool:
        return False


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return replace(Settings.from_env(), state_dir=tmp_path, start_timeout=60.0)


def test_up_is_idempotent_and_down_stops(settings: Settings) -> None:
    service = HttpService(settings, free_port())
    try:
        assert "started" in service.up()
        assert service.status().ready
        pid = service.process.pid()
        assert pid is not None and pid in listener_pids(service.port)
        assert "already running" in service.up()
    finally:
        assert service.down() == "http: stopped"
    # Our process is gone and no longer holds the port. (Not "the port is closed": on a shared
    # machine another process may take the port the moment ours frees it.)
    assert not pid_alive(pid)
    assert pid not in listener_pids(service.port)
    assert service.down() == "http: not running"
    status = service.status()
    assert not status.running and not status.ready


def test_port_taken_by_a_stranger_is_a_clear_error(settings: Settings) -> None:
    with socket.socket() as squatter:
        squatter.bind(("localhost", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with pytest.raises(StackError, match=f"port already in use .*127.0.0.1:{port} held by pid {os.getpid()}"):
            HttpService(settings, port).up()


def test_crash_during_start_shows_the_log_tail(settings: Settings) -> None:
    with pytest.raises(StackError, match="exited during start-up") as err:
        CrashingService(settings, free_port()).up()
    assert "bad config: nope" in str(err.value)


def test_start_timeout_is_bounded_and_explained(settings: Settings) -> None:
    service = NeverReadyService(replace(settings, start_timeout=5.0), free_port())
    try:
        with pytest.raises(StackError, match="did not become ready within 5s"):
            service.up()
    finally:
        service.down()
