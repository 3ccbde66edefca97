"""Finding #3 / fault suite: `stack down` stops the continuous Spark jobs too; no process is left.

Runs a private one-broker stack (own state dir, own ports in the caller's block) so that
stopping it does not stop the session's shared broker.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import psutil
import pytest
from support import spark_testkit as kit

from streamstack.runtime.process import ID_VARIABLE
from streamstack.settings import Settings
from streamstack.spark.control import SparkJobControl
from streamstack.stack import Stack
from streamstack.topics import TopicAdmin, load_topics

pytestmark = pytest.mark.integration


def _ours(state_dir: Path) -> list[psutil.Process]:
    """Live processes carrying a streamstack identity under ``state_dir``."""
    marker = f"{ID_VARIABLE}=".encode()
    root = str(state_dir.resolve()).encode()
    found = []
    for proc in psutil.process_iter():
        try:
            environ = Path(f"/proc/{proc.pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(e.startswith(marker) and root in e for e in environ) and proc.status() != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


def test_stack_down_stops_continuous_jobs_and_leaves_no_process(settings: Settings, tmp_path: Path) -> None:
    base = settings.kafka_port - settings.kafka_port % 1000  # the caller's port block, e.g. 15000
    private = replace(
        settings, state_dir=tmp_path / "state", kafka_port=base + 150, kafka_controller_port=base + 151
    )
    stack = Stack(private, names=["kafka"])
    try:
        stack.up(print)
        topics = load_topics(private.topics_file)
        TopicAdmin(private.kafka_client_config()).apply(topics)
        kit.produce_catalogue(private.kafka_client_config(), topics["products"].name, kit.catalogue())
        control = SparkJobControl(private, topics=topics)
        driver = control.start("purchases_enrichment", interval="1 second", conf=kit.LIGHT_CONF)
        assert psutil.pid_exists(driver)

        started = time.monotonic()
        stack.down(print)  # what `streamstack stack down` and `make down` run
        print(f"stack down took {time.monotonic() - started:.1f}s")

        assert control.holder("purchases_enrichment") is None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _ours(private.state_dir):
            time.sleep(0.5)
        left = _ours(private.state_dir)
        assert not left, f"left running after stack down: {[(p.pid, p.name()) for p in left]}"
        assert not psutil.pid_exists(driver) or psutil.Process(driver).status() == psutil.STATUS_ZOMBIE
    finally:
        for proc in _ours(private.state_dir):  # never leave a stray JVM on a shared machine
            os.killpg(proc.pid, 9) if proc.pid == os.getpgid(proc.pid) else proc.kill()
        stack.down(lambda _: None)
