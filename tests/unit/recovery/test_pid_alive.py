"""A killed JVM is gone only when all its threads are: its main thread is a zombie first while the
other threads still exit and hold its ports (a restart then found its ports taken)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from streamstack.runtime.process import pid_alive

# The main thread exits (a zombie), another thread keeps running: what a multi-threaded process
# looks like between its main thread's exit and its last thread's.
ZOMBIE_LEADER = (
    "import ctypes, threading, time\n"
    "threading.Thread(target=time.sleep, args=(60,)).start()\n"
    "ctypes.CDLL(None).pthread_exit(None)\n"
)


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_a_zombie_main_thread_with_live_threads_is_alive() -> None:
    proc = subprocess.Popen([sys.executable, "-c", ZOMBIE_LEADER])
    try:
        deadline = time.monotonic() + 20
        while _state(proc.pid) != "Z":
            assert time.monotonic() < deadline, "the main thread did not exit"
            time.sleep(0.05)
        assert pid_alive(proc.pid), "a process whose threads still run was reported dead"
    finally:
        proc.kill()
        proc.wait(10)
    assert not pid_alive(proc.pid)
