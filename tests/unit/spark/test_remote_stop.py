"""A Spark driver on another machine (shared checkpoint storage) is stopped through its stop file."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from streamstack.settings import Settings
from streamstack.spark.control import SparkJobControl
from streamstack.spark.lock import job_paths

#: Stands in for a driver elsewhere: holds the lock, says so with another host name, and stops
#: between "micro-batches" once its stop file appears (as jobs/spark/runner.py does).
DRIVER = """
import fcntl, json, sys, time, pathlib
lock, stop = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
handle = open(lock, "a+")
fcntl.flock(handle, fcntl.LOCK_EX)
handle.write(json.dumps({"pid": 999999, "ppid": 0, "host": "worker-2.elsewhere", "mode": "processing-time",
                         "started": "now"}) + "\\n")
handle.flush()
print("locked", flush=True)
while not stop.exists():
    time.sleep(0.05)
"""


def test_stop_reaches_a_driver_on_another_machine_through_its_stop_file(tmp_path: Path) -> None:
    settings = replace(Settings.from_env(), state_dir=tmp_path / "state")
    control = SparkJobControl(settings, checkpoint_dir=tmp_path / "checkpoints")
    paths = job_paths(control.checkpoint_dir, "running_totals")
    paths["lock"].parent.mkdir(parents=True)
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(paths["lock"]), str(paths["stop"])],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert driver.stdout.readline().strip() == "locked"
        holder = control.holder("running_totals")
        assert holder is not None and holder.host == "worker-2.elsewhere" and not holder.here
        started = time.monotonic()
        assert control.stop("running_totals", timeout=20)  # its pid is no process here
        assert driver.wait(timeout=5) == 0 and time.monotonic() - started < 20
        assert control.holder("running_totals") is None
    finally:
        driver.kill()


def test_a_remote_driver_that_does_not_stop_is_reported_never_killed_here(tmp_path: Path) -> None:
    """``stack reset kafka`` stops the jobs before deleting their checkpoints: a driver elsewhere that
    keeps running fails the stop (and so the reset) instead of being "stopped" by a local kill."""
    import pytest

    from streamstack.errors import StackError

    settings = replace(Settings.from_env(), state_dir=tmp_path / "state")
    control = SparkJobControl(settings, checkpoint_dir=tmp_path / "checkpoints")
    paths = job_paths(control.checkpoint_dir, "running_totals")
    paths["lock"].parent.mkdir(parents=True)
    stubborn = DRIVER.replace("while not stop.exists():", "while True:")
    driver = subprocess.Popen([sys.executable, "-c", stubborn, str(paths["lock"]), str(paths["stop"])],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert driver.stdout.readline().strip() == "locked"
        with pytest.raises(StackError, match="on worker-2.elsewhere .* did not stop"):
            control.stop("running_totals", timeout=1)
        with pytest.raises(StackError, match="kill it there"):
            control.kill("running_totals")
        assert driver.poll() is None and control.holder("running_totals") is not None
    finally:
        driver.kill()
