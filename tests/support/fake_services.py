"""Stand-ins for the stack's Java services: a real tiny HTTP server behind the ``Service`` contract."""

from __future__ import annotations

import socket
import sys

from streamstack.runtime.ports import port_open
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
