"""The shared start-up behaviour of services: readiness, port checks, failures with log tails."""

from __future__ import annotations

import os
import socket
from dataclasses import replace
from pathlib import Path

import pytest
from support.fake_services import CrashingService, HttpService, NeverReadyService, free_port

from streamstack.errors import StackError
from streamstack.runtime.ports import listener_pids
from streamstack.runtime.process import pid_alive
from streamstack.settings import Settings


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
