"""The bind host and the port-in-use check (finding #10): the address a service will bind is tested."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from streamstack.errors import ConfigError
from streamstack.runtime.bind import bind_environment, bind_host, port_free, shim_library
from streamstack.settings import Settings


def test_bind_host_is_loopback_by_default_and_must_be_an_ip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STREAMSTACK_BIND_HOST", raising=False)
    assert bind_host() == "127.0.0.1"
    monkeypatch.setenv("STREAMSTACK_BIND_HOST", "my-laptop")
    with pytest.raises(ConfigError, match="STREAMSTACK_BIND_HOST='my-laptop' is not an IP address"):
        bind_host()


def test_port_check_sees_a_bound_socket_that_does_not_accept() -> None:
    # A socket bound but not listening refuses connections: a connect test calls the port free.
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        assert not port_free("127.0.0.1", port)
    assert port_free("127.0.0.1", port)


def test_shim_turns_a_wildcard_listen_into_loopback(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.delenv("STREAMSTACK_BIND_HOST", raising=False)
    settings = Settings.from_env()
    settings = type(settings)(**{**settings.__dict__, "cache_dir": tmp_path})
    env = bind_environment(settings, {})
    assert env["LD_PRELOAD"] == str(shim_library(settings))
    probe = (
        "import socket\n"
        "a = socket.socket(socket.AF_INET6); a.bind(('', 0)); a.listen()\n"
        "b = socket.socket(); b.bind(('0.0.0.0', 0)); b.listen()\n"
        "print(a.getsockname()[0], b.getsockname()[0])\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], env={**env}, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["::ffff:127.0.0.1", "127.0.0.1"]
    monkeypatch.setenv("STREAMSTACK_BIND_HOST", "0.0.0.0")
    assert "LD_PRELOAD" not in bind_environment(settings, {})
