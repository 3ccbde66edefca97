"""Two engines never write one topic: claims, their liveness probes and the release command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from streamstack import engines
from streamstack.runtime.process import start_ticks


@pytest.fixture
def store(tmp_path: Path) -> engines.StateStore:
    return engines.StateStore(tmp_path / "store")


@pytest.fixture
def child():
    """A live process standing in for a Kafka Streams app's JVM."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield {"pid": proc.pid, "started": start_ticks(proc.pid)}
    proc.kill()
    proc.wait()


def test_a_live_holder_refuses_another_engine_naming_itself_and_real_commands(store: engines.StateStore, tmp_path: Path, child) -> None:
    engines.claim(store, ["demo.running.totals", "demo.purchases.invalid"], "kstreams", "running_totals", child)
    with pytest.raises(engines.TopicClaimed) as refused:
        engines.claim(store, ["demo.running.totals", "demo.sales.windows"], "spark", "running_totals", {"lock": "x"})
    message = str(refused.value)
    assert "demo.running.totals is written by kstreams job running_totals" in message
    assert "`streamstack engine stop --engine kstreams running_totals`" in message
    assert "`streamstack engine release demo.running.totals`" in message
    assert engines.holder(store, "demo.sales.windows") is None  # all or none


def test_a_claim_whose_job_has_ended_lapses(store: engines.StateStore, tmp_path: Path) -> None:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    handle = {"pid": int(ended.stdout), "started": "0"}
    engines.claim(store, ["t"], "kstreams", "running_totals", handle)
    engines.claim(store, ["t"], "flink", "running_totals", {"waiter": engines.this_process()})
    assert [(c.engine, c.job) for c in engines.claims(store)] == [("flink", "running_totals")]


def test_one_engines_jobs_share_a_topic_and_release_only_their_own(store: engines.StateStore, tmp_path: Path, child) -> None:
    engines.claim(store, ["dlq", "enriched"], "kstreams", "purchases_enrichment", child)
    engines.claim(store, ["dlq", "windows"], "kstreams", "sales_windows", child)
    engines.release(store, ["dlq", "windows"], "kstreams", "sales_windows")
    assert {(c.topic, c.job) for c in engines.claims(store)} == {("dlq", "purchases_enrichment"),
                                                                     ("enriched", "purchases_enrichment")}
    engines.release(store, ["dlq"], "spark")  # not spark's: kept
    assert engines.holder(store, "dlq") == "kstreams"


def test_a_process_waiting_for_its_bounded_run_holds_the_claim(store: engines.StateStore, tmp_path: Path) -> None:
    """Before a job has a handle of its own (Spark's driver takes its lock seconds later), the
    claim lives while the process that started it and waits for it does."""
    engines.claim(store, ["t"], "spark", "running_totals", {"lock": str(tmp_path / "free.lock"),
                                                               "waiter": engines.this_process()})
    with pytest.raises(engines.TopicClaimed, match="written by spark job running_totals"):
        engines.claim(store, ["t"], "kstreams", "running_totals")


def test_spark_probe_is_the_checkpoint_lock(store: engines.StateStore, tmp_path: Path) -> None:
    import fcntl

    from streamstack.spark.lock import lock_is_held

    lock = tmp_path / "job.lock"
    assert not lock_is_held({"lock": str(lock)})
    with open(lock, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write('{"pid": 1}')
        handle.flush()
        # flock is per open file description: ask from another process, as another engine would.
        probe = ("import sys; from streamstack.spark.lock import lock_is_held; "
                 f"sys.exit(0 if lock_is_held({{'lock': {str(lock)!r}}}) else 1)")
        assert subprocess.run([sys.executable, "-c", probe], env=os.environ.copy()).returncode == 0


def test_flink_probe_reads_the_job_state_and_treats_an_unknown_job_as_ended(monkeypatch) -> None:
    from streamstack.flink import control
    from streamstack.flink.jobs import FlinkError

    states = {"a": "RUNNING", "b": "FINISHED"}

    def job(self, jid):
        if jid not in states:
            raise FlinkError(f"Flink REST GET {self.url}/jobs/{jid}: HTTP 404: not found")
        return {"state": states[jid]}

    monkeypatch.setattr(control.FlinkRest, "job", job)
    assert control.job_is_alive({"rest": "http://x", "jid": "a"})
    assert not control.job_is_alive({"rest": "http://x", "jid": "b"})
    assert not control.job_is_alive({"rest": "http://x", "jid": "gone"})
    assert not control.job_is_alive({"waiter": {}})  # not submitted yet: the waiter decides


def test_an_unanswerable_probe_refuses_and_says_why(store: engines.StateStore, tmp_path: Path, monkeypatch) -> None:
    """A cluster that refuses connections runs no job; one that does not answer cannot tell."""
    import socket

    from streamstack.flink import rest

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    engines.claim(store, ["t"], "flink", "running_totals", {"rest": f"http://127.0.0.1:{port}", "jid": "a"})
    engines.claim(store, ["t"], "spark", "running_totals", {"lock": "x"})  # refused connection: ended
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts, never answers
    monkeypatch.setattr(rest.FlinkRest.__init__, "__defaults__", (0.5,))  # timeout
    try:
        engines.claim(store, ["u"], "flink", "running_totals",
                      {"rest": f"http://127.0.0.1:{silent.getsockname()[1]}", "jid": "a"})
        with pytest.raises(engines.TopicClaimed, match="cannot tell whether it still runs"):
            engines.claim(store, ["u"], "spark", "running_totals", {"lock": "x"})
    finally:
        silent.close()


def test_release_command_keeps_a_running_jobs_claim_unless_forced(tmp_path: Path, child, monkeypatch) -> None:
    from streamstack.cli import cli

    monkeypatch.setenv("STREAMSTACK_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("STREAMSTACK_STATE_STORE", raising=False)
    store = engines.StateStore.default(tmp_path)
    engines.claim(store, ["t"], "kstreams", "running_totals", child)
    engines.claim(store, ["u"], "flink", "sales_windows", {"rest": "http://x"})  # never submitted: ended
    runner = CliRunner()
    listed = runner.invoke(cli, ["engine", "claims"])
    assert "t: kstreams job running_totals since" in listed.output and "running" in listed.output
    assert "u: flink job sales_windows since" in listed.output and "ended" in listed.output
    kept = runner.invoke(cli, ["engine", "release", "t", "u"])
    assert kept.exit_code == 1 and "`streamstack engine stop --engine kstreams running_totals`" in kept.output
    assert "released u (flink job sales_windows)" in kept.output
    assert [c.topic for c in engines.claims(store)] == ["t"]
    forced = runner.invoke(cli, ["engine", "release", "--force", "t"])
    assert forced.exit_code == 0 and engines.claims(store) == []
