"""ManagedProcess: pid files that survive the CLI, and never trust a stale or reused pid."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from streamstack.errors import StackError
from streamstack.runtime.process import ManagedProcess

SLEEPER = [sys.executable, "-c", "import time; print('sleeping', flush=True); time.sleep(60)"]


@pytest.fixture
def proc(tmp_path: Path):
    managed = ManagedProcess("sleeper", tmp_path)
    yield managed
    managed.stop(timeout=5)


def test_start_records_pid_and_log(proc: ManagedProcess) -> None:
    pid = proc.start(SLEEPER)
    assert proc.pid() == pid
    assert proc.pid_file.read_text().split()[0] == str(pid)
    # Another object for the same run dir (a later CLI call) sees the same process.
    assert ManagedProcess("sleeper", proc.run_dir).pid() == pid


def test_second_start_is_refused(proc: ManagedProcess) -> None:
    proc.start(SLEEPER)
    with pytest.raises(StackError, match="already running"):
        proc.start(SLEEPER)


def test_stop_kills_and_removes_pid_file(proc: ManagedProcess) -> None:
    pid = proc.start(SLEEPER)
    assert proc.stop(timeout=5) is True
    assert proc.pid() is None and not proc.pid_file.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert proc.stop() is False  # nothing left to stop


def test_stale_pid_file_of_a_dead_process_is_removed(proc: ManagedProcess) -> None:
    proc.run_dir.mkdir(exist_ok=True)
    proc.pid_file.write_text("999999\n")
    assert proc.pid() is None
    assert not proc.pid_file.exists()
    assert "stale pid file" in proc.notes[0]


def test_reused_pid_of_an_unrelated_process_is_not_trusted(proc: ManagedProcess) -> None:
    # Our own pid is alive but is not a process streamstack started for this service.
    proc.run_dir.mkdir(exist_ok=True)
    proc.pid_file.write_text(f"{os.getpid()}\n")
    assert proc.pid() is None
    assert proc.stop() is False  # and it is certainly not killed


def test_log_tail(proc: ManagedProcess) -> None:
    assert "no log file" in proc.log_tail()
    proc.start(SLEEPER)
    import time

    for _ in range(50):
        if "sleeping" in proc.log_tail():
            break
        time.sleep(0.1)
    assert "sleeping" in proc.log_tail()


def test_own_child_is_trusted_before_exec(proc: ManagedProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    """Between fork and exec a child's environ is still the parent's (no identity yet).

    The process that started it must not mistake it for a stranger and delete its pid file
    (this raced under load: "exited during start-up (exit code None)").
    """
    from streamstack.runtime import process as module

    pid = proc.start(SLEEPER)
    monkeypatch.setattr(module, "_environ_has", lambda _pid, _entry: False)
    assert proc.pid() == pid
    assert proc.pid_file.exists()
    # Another CLI call has no Popen handle: the pid file's start time names the process (with
    # the environ check alone it called it a stranger and deleted the pid file).
    assert ManagedProcess("sleeper", proc.run_dir).pid() == pid
    assert proc.pid_file.exists()


def test_a_pid_file_names_its_process_by_pid_and_start_time(tmp_path: Path) -> None:
    """The pid and start time identify the process, whatever /proc/<pid>/environ says at that
    moment (a second CLI call once read a just-started service's environ without its identity
    and deleted its pid file); the same pid with another start time is a reused pid."""
    import subprocess

    from streamstack.runtime.process import start_ticks

    stranger = subprocess.Popen(SLEEPER[:2] + ["import time; time.sleep(30)"])  # no identity in its environ
    try:
        managed = ManagedProcess("sleeper", tmp_path)
        tmp_path.mkdir(exist_ok=True)
        managed.pid_file.write_text(f"{stranger.pid} {start_ticks(stranger.pid)}\n")
        assert managed.pid() == stranger.pid
        managed.pid_file.write_text(f"{stranger.pid} {int(start_ticks(stranger.pid)) - 1}\n")
        assert managed.pid() is None and not managed.pid_file.exists()
        managed.pid_file.write_text(f"{stranger.pid}\n")  # an older pid file: the environ decides
        assert managed.pid() is None
    finally:
        stranger.kill()
        stranger.wait()
