"""The contract every local service of the stack follows.

A service knows how to get its binaries (``resolve``), prepare its state (``prepare``), what
to run (``command``), and how to tell it is ready (``ready``). ``up`` adds what all share:
idempotent start, port checks, a bounded wait that fails with the log tail, and ``down``
stopping only what ``up`` started.
"""

from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

from streamstack.errors import StackError
from streamstack.runtime.bind import bind_environment, bind_host, port_free
from streamstack.runtime.ports import describe_listeners
from streamstack.runtime.process import ManagedProcess, private_dir
from streamstack.settings import Settings


@dataclass
class ServiceStatus:
    """What ``stack status`` prints for one service."""

    name: str
    running: bool
    pid: int | None
    ready: bool
    endpoints: dict[str, str] = field(default_factory=dict)
    log_file: Path | None = None
    notes: list[str] = field(default_factory=list)


class Service(ABC):
    """A real service run as a background process of the embedded stack."""

    #: Short name: state sub-directory, pid and log file names, CLI argument.
    name: str = ""
    #: Seconds between SIGTERM and SIGKILL on ``down``.
    stop_timeout: float = 30.0

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.state_dir = settings.state_dir / self.name
        self.process = ManagedProcess(self.name, self.state_dir)

    # -- what a service defines -------------------------------------------------------------
    @abstractmethod
    def ports(self) -> dict[str, int]:
        """Named ports this service binds; checked free before start."""

    @abstractmethod
    def endpoints(self) -> dict[str, str]:
        """Human-readable addresses (for ``stack status``)."""

    def resolve(self) -> None:  # noqa: B027 - optional hook
        """Fetch binaries (jars) once into the cache; idempotent."""

    def prepare(self) -> None:  # noqa: B027 - optional hook
        """Write config and initialise state before start; idempotent."""

    @abstractmethod
    def command(self) -> list[str]:
        """The command line of the process."""

    def env(self) -> dict[str, str]:
        return {}

    def venv_bin(self, venv: Path, name: str) -> str:
        """An executable of the venv of the service's own (``make <name>-venv``, part of ``make install``)."""
        path = venv / "bin" / name
        if not path.exists():
            raise StackError(f"{self.name}: {path} not found; run `make {self.name}-venv` (part of `make install`)")
        return str(path)

    @abstractmethod
    def ready(self) -> bool:
        """One quick health probe: True when the service answers real requests."""

    @property
    def start_timeout(self) -> float:
        return self.settings.start_timeout

    # -- shared behaviour -------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.process.pid() is not None

    def up(self) -> str:
        """Start the service and wait until ready. Returns a one-line report."""
        private_dir(self.settings.state_dir)
        if self.is_running():
            self.wait_ready()
            return f"{self.name}: already running (pid {self.process.pid()})"
        host = bind_host()
        taken = {n: p for n, p in self.ports().items() if not port_free(host, p)}
        if taken:
            desc = ", ".join(
                f"{n} {host}:{p}" + (f" held by {who}" if (who := describe_listeners(p)) else "")
                for n, p in taken.items()
            )
            raise StackError(
                f"{self.name}: port already in use by a process streamstack did not start ({desc}). "
                f"Stop it, or choose other ports with the STREAMSTACK_* settings."
            )
        self.resolve()
        self.prepare()
        started = time.monotonic()
        env = self.env()
        env = {**env, **bind_environment(self.settings, {**os.environ, **env})}
        pid = self.process.start(self.command(), env=env, cwd=self.state_dir)
        try:
            self.wait_ready()
        except BaseException:
            # A start that failed must not leave a half-started process holding ports and state.
            self.process.stop(timeout=self.stop_timeout)
            raise
        return f"{self.name}: started (pid {pid}) in {time.monotonic() - started:.1f}s"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            code = self.process.exited()
            if code is not None or (self.process.pid() is None):
                raise StackError(
                    f"{self.name} exited during start-up (exit code {code}); "
                    f"last lines of {self.process.log_file}:\n{self.process.log_tail()}"
                )
            if self.ready():
                return
            time.sleep(0.5)
        raise StackError(
            f"{self.name} did not become ready within {self.start_timeout:.0f}s "
            f"(set STREAMSTACK_START_TIMEOUT to wait longer); "
            f"last lines of {self.process.log_file}:\n{self.process.log_tail()}"
        )

    def down(self) -> str:
        stopped = self.process.stop(timeout=self.stop_timeout)
        return f"{self.name}: {'stopped' if stopped else 'not running'}"

    def status(self) -> ServiceStatus:
        pid = self.process.pid()
        return ServiceStatus(
            name=self.name,
            running=pid is not None,
            pid=pid,
            ready=pid is not None and self.ready(),
            endpoints=self.endpoints(),
            log_file=self.process.log_file,
            notes=list(self.process.notes),
        )
