"""The job lock seen from SparkJobControl, with a plain process holding it (no Spark)."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from streamstack.settings import Settings
from streamstack.spark.control import SparkJobControl

HOLDER = """
import fcntl, json, os, signal, sys, time
handle = open(sys.argv[1], "a+")
fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
handle.truncate(0)
if sys.argv[3] == "slow-info":
    print("locked", flush=True)
    time.sleep(0.5)
handle.write(json.dumps({"pid": os.getpid(), "ppid": os.getppid(), "mode": sys.argv[2], "started": "now"})); handle.flush()
if sys.argv[3] == "ignore-term":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if sys.argv[3] != "slow-info":
    print("locked", flush=True)
time.sleep(120)
"""


@pytest.fixture
def control(tmp_path: Path) -> SparkJobControl:
    settings = replace(Settings.from_env(), state_dir=tmp_path / "state")
    return SparkJobControl(settings, checkpoint_dir=tmp_path / "ck")


def hold(control: SparkJobControl, mode: str, on_term: str = "exit") -> subprocess.Popen:
    lock = control.checkpoint_dir / "running_totals.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock), mode, on_term], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_no_lock_file_or_released_lock_means_not_running(control: SparkJobControl) -> None:
    assert control.holder("running_totals") is None
    proc = hold(control, "processing-time")
    proc.kill()
    proc.wait()
    assert control.holder("running_totals") is None  # the file stays, the lock died with its holder


def test_holder_is_reported_and_stopped_with_sigterm(control: SparkJobControl) -> None:
    proc = hold(control, "processing-time")
    try:
        holder = control.holder("running_totals")
        assert holder is not None and holder.pid == proc.pid and holder.mode == "processing-time"
        assert control.stop("running_totals", timeout=10) is True
        assert proc.wait(timeout=5) == -15
        assert control.holder("running_totals") is None
    finally:
        proc.kill()


def test_a_holder_ignoring_sigterm_is_killed_after_the_timeout(control: SparkJobControl) -> None:
    proc = hold(control, "available-now", on_term="ignore-term")
    try:
        started = time.monotonic()
        assert control.stop("running_totals", timeout=1) is True
        assert proc.wait(timeout=20) == -9
        assert time.monotonic() - started < 20
    finally:
        proc.kill()
    assert control.stop("running_totals") is False


def test_a_holder_that_has_not_written_its_info_yet_is_waited_for(control: SparkJobControl) -> None:
    """Locked and emptied, its info a moment later (how every job takes its lock): not "no job info"."""
    proc = hold(control, "processing-time", "slow-info")
    try:
        holder = control.holder("running_totals")
        assert holder is not None and holder.pid == proc.pid
    finally:
        proc.kill()
