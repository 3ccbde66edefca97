"""A background process with a pid file and a log file, safe against stale and reused pids.

A service started by ``stack up`` must outlive the CLI, and ``stack down`` must stop exactly
what ``up`` started, never an unrelated process that happens to reuse the pid. So the pid file
holds the pid and the process's start time (``/proc/<pid>/stat``, clock ticks since boot): a
reused pid has another. Each process also gets an identity in its environment
(``STREAMSTACK_SERVICE_ID``), the check for pid files written before the start time was kept.
(The environment alone raced: under load a second CLI call once read a just-started process's
``/proc/<pid>/environ`` without the identity, called it a stranger and deleted its pid file.)
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections import deque
from pathlib import Path

from streamstack.errors import StackError

ID_VARIABLE = "STREAMSTACK_SERVICE_ID"


def pid_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, exited but not reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped) counts as dead, but only once all its threads are gone:
    # a killed JVM's main thread shows Z while its other threads still exit and hold its ports.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return _live_threads(pid) > 0
    return True


def _live_threads(pid: int) -> int:
    """Threads of ``pid`` other than a zombie main thread (0 when they cannot be read)."""
    live = 0
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                if (task / "stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
                    live += 1
    return live


def start_ticks(pid: int) -> str | None:
    """When ``pid`` started, in clock ticks since boot (field 22 of ``/proc/<pid>/stat``), or None."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _environ_has(pid: int, entry: str) -> bool:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return entry.encode() in raw.split(b"\0")


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and make it 0700: the state dir holds secrets and data."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def private_file(path: Path) -> None:
    """Make an existing secrets file 0600 (one written before the stack set its umask)."""
    if path.exists() and path.stat().st_mode & 0o077:
        path.chmod(0o600)


class ManagedProcess:
    """One long-running child process of the stack.

    :param name: the service name, used for the pid and log file names.
    :param run_dir: where ``<name>.pid`` and ``<name>.log`` live.
    """

    def __init__(self, name: str, run_dir: Path) -> None:
        self.name = name
        self.run_dir = run_dir
        self.pid_file = run_dir / f"{name}.pid"
        self.log_file = run_dir / f"{name}.log"
        self.identity = f"{ID_VARIABLE}={name}@{run_dir.resolve()}"
        self.notes: list[str] = []

    def pid(self) -> int | None:
        """The pid of the running process, or None; removes a stale pid file on the way."""
        if not self.pid_file.exists():
            return None
        text = self.pid_file.read_text().strip()
        pid_text, _, started = text.partition(" ")
        pid = int(pid_text) if pid_text.isdigit() else None
        own = getattr(self, "_popen", None)
        if pid is not None and own is not None and own.pid == pid:
            # Our own child: trust the Popen handle.
            return pid if own.poll() is None else self._forget(pid)
        if pid is not None and pid_alive(pid) and (
            start_ticks(pid) == started if started else _environ_has(pid, self.identity)
        ):
            return pid
        self.pid_file.unlink(missing_ok=True)
        self.notes.append(
            f"removed stale pid file {self.pid_file} (pid {text or '?'} is not our {self.name})"
        )
        return None

    def _forget(self, pid: int) -> None:
        self.pid_file.unlink(missing_ok=True)
        self.notes.append(f"{self.name} (pid {pid}) has exited")
        return None

    def start(self, command: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> int:
        """Start ``command`` detached (own session), output appended to the log file."""
        if self.pid() is not None:
            raise StackError(f"{self.name} is already running (pid file {self.pid_file})")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        child_env = {**os.environ, **(env or {})}
        key, _, value = self.identity.partition("=")
        child_env[key] = value
        with open(self.log_file, "ab") as log:
            log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(command)}\n".encode())
            log.flush()
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd or self.run_dir,
                env=child_env,
                start_new_session=True,
                # State, logs and secrets a service writes (e.g. Airflow's generated admin
                # password) are the user's alone.
                umask=0o077,
            )
        self.pid_file.write_text(f"{proc.pid} {start_ticks(proc.pid) or ''}".strip() + "\n")
        self._popen = proc
        return proc.pid

    def exited(self) -> int | None:
        """Exit code if the process started by this object has ended, else None."""
        proc = getattr(self, "_popen", None)
        return proc.poll() if proc is not None else None

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the process group: SIGTERM, then SIGKILL after ``timeout``. False if nothing ran."""
        pid = self.pid()
        if pid is None:
            return False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and pid_alive(pid):
            self._reap()
            time.sleep(0.2)
        if pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            while pid_alive(pid):
                self._reap()
                time.sleep(0.1)
        self._reap()
        self.pid_file.unlink(missing_ok=True)
        return True

    def _reap(self) -> None:
        proc = getattr(self, "_popen", None)
        if proc is not None:
            proc.poll()

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_file.exists():
            return f"(no log file at {self.log_file})"
        with open(self.log_file, errors="replace") as f:
            return "".join(deque(f, maxlen=lines))
