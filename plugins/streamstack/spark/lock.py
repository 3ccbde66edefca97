"""Which process writes a Spark job: the driver holding ``<checkpoint-dir>/<job>.lock``.

The lock (taken with ``flock`` by ``jobs/spark/runner.py``) is the truth about whether a copy
is writing: it cannot go stale, survives a lost pid file, and a second copy refuses to start on
it. The file names the holder (pid, parent, mode, start, host), so a stop reaches the right
process, and a driver on another machine (checkpoints on shared storage) is never signalled from
here: its stop file reaches it instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamstack.errors import StackError
from streamstack.runtime.process import pid_alive


@dataclass(frozen=True)
class Holder:
    """The live process holding a job's lock."""

    pid: int
    ppid: int | None
    mode: str
    started: str
    #: The machine the driver runs on (None: a driver started before the lock recorded it).
    host: str | None = None

    @property
    def here(self) -> bool:
        """On this machine: its pid can be signalled (else only its stop file reaches it)."""
        return self.host in (None, socket.gethostname())


def job_paths(checkpoint_dir: Path, job: str) -> dict[str, Path]:
    """The files of the job contract (mirrors ``jobs/spark/runner.paths``)."""
    return {
        "checkpoint": checkpoint_dir / job,
        "lock": checkpoint_dir / f"{job}.lock",
        "progress": checkpoint_dir / f"{job}.progress.json",
        "stop": checkpoint_dir / f"{job}.stop",
    }


def held_lock_text(lock: Path) -> str | None:
    """The text of a job's lock file while a process holds the lock; None when nobody does."""
    if not lock.exists():
        return None
    with open(lock, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            return handle.read().strip()
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None


def lock_is_held(handle: dict[str, Any]) -> bool:
    """The engines' probe (``streamstack.engines.PROBES``): a job writes while its driver holds its lock."""
    return held_lock_text(Path(handle["lock"])) is not None


def holder(lock: Path) -> Holder | None:
    """The process holding ``lock``, or None when no copy runs."""
    # A copy that has just taken the lock empties the file, then writes its info: read between
    # the two (CI did, stopping a job another test run had just started), the file is held and
    # empty for a moment.
    deadline = time.monotonic() + 5.0
    while True:
        text = held_lock_text(lock)
        if text is None:
            return None
        if text or time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    try:
        info = json.loads(text)
    except json.JSONDecodeError:
        raise StackError(f"{lock} is held but holds no job info ({text!r}); is it a streamstack job?") from None
    return Holder(pid=int(info["pid"]), ppid=info.get("ppid"), mode=str(info.get("mode")),
                  started=str(info.get("started")), host=info.get("host"))


def kill(holder: Holder) -> None:
    """SIGKILL the driver and, if it is spark-submit's JVM, its parent; wait until gone."""
    victims = [holder.pid]
    if holder.ppid and _is_spark_submit(holder.ppid):
        victims.append(holder.ppid)
    for pid in victims:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(pid_alive(p) for p in victims):
        time.sleep(0.1)


def _is_spark_submit(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"org.apache.spark.deploy.SparkSubmit" in cmdline
