"""Where the embedded services listen: ``STREAMSTACK_BIND_HOST`` (127.0.0.1 unless set).

Each service is configured to its bind host where it has a setting for it (Kafka listeners,
Airflow's api-server and scheduler health server, Spark's driver). Sockets that have no host
setting (Pinot's netty and gRPC query servers and its ZooKeeper, Airflow's log servers) are
kept off other interfaces by ``tools/bindshim/bindshim.c``, a tiny LD_PRELOAD library compiled
once into the cache that rewrites a wildcard TCP bind to the bind host. Setting
``STREAMSTACK_BIND_HOST=0.0.0.0`` exposes everything on purpose (and needs no shim).
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import shutil
import socket
import subprocess
import threading
from pathlib import Path

from streamstack.errors import ConfigError, StackError
from streamstack.settings import Settings

BIND_VARIABLE = "STREAMSTACK_BIND_HOST"
DEFAULT_BIND_HOST = "127.0.0.1"


def bind_host() -> str:
    """The validated bind address: an IP literal (a name could resolve to a public address)."""
    raw = os.environ.get(BIND_VARIABLE) or DEFAULT_BIND_HOST
    try:
        ipaddress.ip_address(raw)
    except ValueError:
        raise ConfigError(
            f"environment variable {BIND_VARIABLE}={raw!r} is not an IP address (e.g. 127.0.0.1 or 0.0.0.0)"
        ) from None
    return raw


def is_wildcard(host: str) -> bool:
    return ipaddress.ip_address(host).is_unspecified


def shim_source(settings: Settings) -> Path:
    return settings.project_dir / "tools" / "bindshim" / "bindshim.c"


def shim_library(settings: Settings) -> Path:
    """The compiled shim, built once per source version into the shared cache."""
    source = shim_source(settings)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    target = settings.cache_dir / "bindshim" / f"bindshim-{digest}.so"
    if target.exists():
        return target
    compiler = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if not compiler:
        raise StackError(
            f"binding the stack to {bind_host()} needs a C compiler for {source} (apt-get install gcc); "
            f"or set {BIND_VARIABLE}=0.0.0.0 to listen on every interface"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    # Per thread too: the stack starts services side by side, each may build the shim first.
    tmp = target.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    proc = subprocess.run(
        [compiler, "-shared", "-fPIC", "-O2", "-o", str(tmp), str(source), "-ldl"],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        raise StackError(f"compiling {source} failed (exit {proc.returncode}): {proc.stderr.strip()[-1000:]}")
    tmp.replace(target)
    return target


def bind_environment(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """Variables that keep a process and its children on the bind host (LD_PRELOAD + the host)."""
    host = bind_host()
    env = {BIND_VARIABLE: host}
    if not is_wildcard(host):
        preload = (base if base is not None else os.environ).get("LD_PRELOAD", "")
        library = str(shim_library(settings))
        if library not in preload.split():
            env["LD_PRELOAD"] = f"{library} {preload}".strip()
    return env


def port_free(host: str, port: int) -> bool:
    """True when ``host:port`` can be bound now, i.e. the address the service will bind is free.

    A connect test asks a different question (a listener on another address, or one that does
    not accept, is missed); binding the very address is the truth.
    """
    family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True
