"""What runs on top of the stack and must stop with it: continuous Spark jobs and any other
process started under the state dir (by the CLI or a DAG task).

Continuous jobs run in sessions of their own (they must outlive the command or task that
started them), so stopping Airflow's process group does not reach them; left running they
spin against a dead broker, and ``make clean`` then deletes their checkpoints underneath.
Each is first stopped cleanly through its lock (between micro-batches), then anything still
carrying a streamstack identity under the state dir is terminated.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from streamstack.runtime.process import ID_VARIABLE, pid_alive
from streamstack.settings import Settings


def _identities(state_dir: Path, exclude: set[str]) -> dict[int, str]:
    """Pid -> identity of the live processes started under ``state_dir`` (minus ``exclude``)."""
    root = str(state_dir.resolve())
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for item in environ:
            if item.startswith(f"{ID_VARIABLE}=".encode()):
                identity = item.decode(errors="replace").partition("=")[2]
                _, _, run_dir = identity.partition("@")
                if (run_dir == root or run_dir.startswith(root + os.sep)) and identity not in exclude:
                    found[int(entry.name)] = identity
                break
    return {pid: ident for pid, ident in found.items() if pid_alive(pid)}


def stop_dependents(
    settings: Settings, report: Callable[[str], None], *, keep: set[str], timeout: float = 30.0
) -> None:
    """Stop the Spark jobs of ``settings`` and every other process started under its state dir.

    :param keep: identities (``name@run_dir``) of the stack services; they stop on their own.
    """
    from streamstack.spark.control import SparkJobControl
    from streamstack.spark.jobs import JOBS
    from streamstack.topics import TopicSpecs

    control = SparkJobControl(settings, topics=TopicSpecs(settings.topics_file, ()))
    for job in JOBS:
        if control.stop(job, timeout=timeout):
            report(f"spark {job}: stopped")
    leftovers = _identities(settings.state_dir, keep)
    if not leftovers:
        return
    for pid in leftovers:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(pid_alive(p) for p in leftovers):
        time.sleep(0.2)
    for pid in leftovers:
        if pid_alive(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
    for ident in sorted(set(leftovers.values())):
        report(f"{ident.partition('@')[0]}: stopped (started under {settings.state_dir})")


#: State that records another service's offsets or metadata and is wrong without it: Pinot's
#: consuming segments (ZooKeeper) hold Kafka offsets, Pinot's segments and ZooKeeper's Helix
#: metadata name each other. Resetting one resets the others.
RESET_WITH: dict[str, tuple[str, ...]] = {
    "kafka": ("pinot-zk", "pinot"),
    "pinot": ("pinot-zk",),
    "pinot-zk": ("pinot",),
}


def reset_closure(names: set[str]) -> set[str]:
    """``names`` plus every service whose state depends on one of them."""
    todo, out = list(names), set(names)
    while todo:
        for other in RESET_WITH.get(todo.pop(), ()):
            if other not in out:
                out.add(other)
                todo.append(other)
    return out


def reset_spark_state(settings: Settings, report: Callable[[str], None], keep: set[str]) -> None:
    """Stop the jobs and delete the Spark checkpoints: their offsets belong to the deleted topics."""
    import shutil

    from streamstack.spark.jobs import checkpoint_root

    stop_dependents(settings, report, keep=keep)
    root = checkpoint_root(settings)
    if root.exists():
        shutil.rmtree(root)
    report(f"spark checkpoints: deleted ({root}); the jobs restart from the new topics' start")
    reset_other_engines(settings, report)


#: Other engines' state that records offsets of Kafka topics (under the state dir).
ENGINE_OFFSET_STATE = {
    "flink savepoints": ("flink", "savepoints"),
    "flink checkpoints": ("flink", "checkpoints"),
    "kafka streams local state": ("kstreams", "state"),
}


def reset_other_engines(settings: Settings, report: Callable[[str], None]) -> None:
    """Delete Flink's savepoints and checkpoints and Kafka Streams' local stores: like Spark's
    checkpoints they hold offsets (and totals) of the deleted topics, so a resumed job would start
    past the new topics' end or add to stale totals. (The Kafka Streams apps, processes under the
    state dir, were stopped by ``stop_dependents``; jobs inside a running Flink cluster are not.)"""
    import shutil

    for what, parts in ENGINE_OFFSET_STATE.items():
        path = settings.state_dir.joinpath(*parts)
        if path.exists():
            shutil.rmtree(path)
            report(f"{what}: deleted ({path}); the next start begins at the new topics' start")
