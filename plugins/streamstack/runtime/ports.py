"""Small socket checks used before starting a service and while waiting for it."""

from __future__ import annotations

import socket

import psutil


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _listening(port: int) -> list[int | None]:
    """Pids listening on TCP ``port`` on any address; None where the owner is hidden from us."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:
        return []
    return [
        c.pid for c in connections if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
    ]


def listener_pids(port: int) -> set[int]:
    """Pids we can see listening on TCP ``port``.

    A port's state alone says nothing about *whose* it is: on a shared machine another process
    may take a port the moment ours frees it. This tells our process from a stranger.
    """
    return {pid for pid in _listening(port) if pid}


def describe_listeners(port: int) -> str:
    """``"pid 123 (java)"``-style names of who holds ``port``, or ``""`` when unknown."""
    names = set()
    for pid in _listening(port):
        if pid is None:
            names.add("a process of another user")
            continue
        try:
            names.add(f"pid {pid} ({psutil.Process(pid).name()})")
        except psutil.Error:
            names.add(f"pid {pid}")
    return ", ".join(sorted(names))
