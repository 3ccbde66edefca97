"""Lifecycle of the Kafka Streams apps: start, health, interactive queries, stop, reset, bounded runs.

Each app runs as a managed process (pid and log under ``<state>/kstreams/run``, identity checked
through ``/proc`` like every stack service). Its truth about itself is its HTTP endpoint on
127.0.0.1: ``/health`` gives the Kafka Streams state (RUNNING, REBALANCING, ERROR, ...),
``/totals`` the running totals from its state store. A stop is SIGTERM: the JVM's shutdown hook
closes Kafka Streams with LEAVE_GROUP (last transaction committed, state flushed, the group left
at once so the next start does not wait out a session timeout); only after ``timeout`` is it
killed. A reset is Kafka's application reset tool's (``streamstack.kstreams.reset``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamstack import engines
from streamstack.clients import admin_client
from streamstack.contract import write_contract
from streamstack.errors import StackError
from streamstack.kstreams.apps import (
    app_spec,
    default_application_id,
    http_port,
    launch,
    write_client_properties,
)
from streamstack.kstreams.build import Build, build
from streamstack.kstreams.reset import ResetReport, internal_topics, reset_application
from streamstack.runtime.java import find_java
from streamstack.runtime.process import ManagedProcess, pid_alive, start_ticks
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs, load_topics
from streamstack.topics.offsets import Lag, end_offsets, group_offsets, lag


@dataclass
class AppHealth:
    """One app as seen from outside: its process and what its endpoint says."""

    app: str
    application_id: str
    running: bool
    pid: int | None = None
    port: int | None = None
    state: str | None = None
    threads: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def process_is_alive(handle: dict[str, Any]) -> bool:
    """The engines' probe (``streamstack.engines.PROBES``): the app's JVM still runs (same start time)."""
    if "pid" not in handle:
        return False
    pid = int(handle["pid"])
    return pid_alive(pid) and start_ticks(pid) == handle.get("started")


class KStreamsControl:
    """Start, stop, query and reset the apps of ``jobs/kstreams``.

    :param settings: the stack settings (state dir, broker).
    :param topics: topic declarations (default ``config/topics.yaml``; tests pass suffixed ones).
    :param kafka_config: librdkafka settings of the cluster (the ``kafka_default`` connection's in
        Airflow; the local broker's by default). Written for the JVM as a 0600 properties file.
    :param run_dir: pid, log, port, contract and client files (default ``<state>/kstreams/run``).
    :param application_ids: per-app override of the Kafka Streams ``application.id``.
    :param ports: per-app HTTP port; 0 picks a free one (default ``STREAMSTACK_KSTREAMS_PORT`` + offset).
    :param app_args: per-app extra options of the app, e.g. ``["--commit-interval-ms", "50"]``.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        topics: TopicSpecs | None = None,
        kafka_config: dict[str, Any] | None = None,
        run_dir: Path | None = None,
        application_ids: dict[str, str] | None = None,
        ports: dict[str, int] | None = None,
        app_args: dict[str, list[str]] | None = None,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self.topics = topics or load_topics(self.settings.topics_file)
        self.kafka_config = dict(kafka_config or self.settings.kafka_client_config())
        self.run_dir = run_dir or self.settings.state_dir / "kstreams" / "run"
        self.application_ids = dict(application_ids or {})
        self.ports = dict(ports or {})
        self.app_args = dict(app_args or {})
        self.store = engines.StateStore.default(self.settings.state_dir)

    def application_id(self, app: str) -> str:
        app_spec(app)
        return self.application_ids.get(app) or default_application_id(app)

    def _process(self, app: str) -> ManagedProcess:
        app_spec(app)
        return ManagedProcess(f"kstreams-{app}", self.run_dir)

    def log_file(self, app: str) -> Path:
        return self._process(app).log_file

    def output_topics(self, app: str) -> list[str]:
        """The topics ``app`` writes (its output and dead-letter topics)."""
        return engines.output_topics({flag: self.topics[logical].name for flag, logical in app_spec(app).topics.items()})

    def _claim(self, app: str, pid: int | None = None) -> None:
        """Claim ``app``'s output topics for Kafka Streams (``streamstack.engines``): while its JVM
        runs (``pid``), or, before it starts, while this process does."""
        handle = {"pid": pid, "started": start_ticks(pid)} if pid else {"waiter": engines.this_process()}
        engines.claim(self.store, self.output_topics(app), "kstreams", app, handle)

    def _release(self, app: str) -> None:
        engines.release(self.store, self.output_topics(app), "kstreams", app)

    def _spawn(self, app: str, mode: str, built: Build, threads: int, **record: Any) -> ManagedProcess:
        """Claim ``app``'s topics, start its JVM in ``mode`` and record what it was asked (the store).
        The process object returned is the one that can tell when the JVM exits (``exited``)."""
        self._claim(app)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        contract_file = write_contract(self.run_dir / "contract.json")
        props = write_client_properties(self.run_dir / f"kstreams-{app}.client.properties", self.kafka_config)
        port = self.ports.get(app, http_port(app) if mode == "continuous" else 0)
        run = launch(
            app, built, settings=self.settings, topics=self.topics, contract_file=contract_file,
            client_properties=props, run_dir=self.run_dir, mode=mode, application_id=self.application_id(app),
            http_port=port, threads=threads, java=find_java(), extra_args=self.app_args.get(app),
        )
        proc = self._process(app)
        pid = proc.start(run.command, cwd=self.settings.project_dir)
        self._claim(app, pid)
        self.store.put(self.record_key(app), {"mode": mode, "pid": pid, **record, "at": time.time()})
        return proc

    def port(self, app: str) -> int | None:
        """The port the running app listens on (from its port file), or None."""
        file = self.run_dir / f"kstreams-{app}.port.json"
        pid = self._process(app).pid()
        if pid is None or not file.exists():
            return None
        with contextlib.suppress(ValueError, KeyError):
            info = json.loads(file.read_text())
            if int(info["pid"]) == pid:
                return int(info["port"])
        return None

    def _get(self, app: str, path: str, timeout: float = 5.0) -> tuple[int, Any]:
        port = self.port(app)
        if port is None:
            raise StackError(f"Kafka Streams app {app} is not running (no endpoint); start it first")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def start(self, app: str, *, wait: float = 120.0, threads: int = 1) -> AppHealth:
        """Start ``app`` long-running, replacing a running copy; return once it is RUNNING."""
        built = build(self.settings)
        self.stop(app)
        proc = self._spawn(app, "continuous", built, threads)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if proc.exited() is not None:
                raise StackError(f"Kafka Streams app {app} exited {proc.exited()} at start:\n{proc.log_tail(40)}")
            report = self.health(app)
            if report.state == "RUNNING":
                return report
            if report.state == "ERROR":
                break
            time.sleep(0.25)
        tail = proc.log_tail(40)
        self.stop(app, timeout=30)
        raise StackError(f"Kafka Streams app {app} did not reach RUNNING within {wait:.0f}s:\n{tail}")

    def stop(self, app: str, *, timeout: float = 90.0) -> bool:
        """Stop ``app`` cleanly (close with LEAVE_GROUP); killed after ``timeout``. True if it ran."""
        stopped = self._process(app).stop(timeout=timeout)
        self._release(app)
        record = self.record(app)
        if stopped and record is not None:
            self.store.put(self.record_key(app), {**record, "stopped": time.time()})
        return stopped

    def record_key(self, app: str) -> str:
        return f"kstreams/jobs/{self.application_id(app)}"

    def record(self, app: str) -> dict[str, Any] | None:
        """What ``app`` was last asked to do (mode, pid, a bounded run's target offsets), from the store."""
        return self.store.get(self.record_key(app))

    def inputs(self, app: str) -> list[str]:
        return [self.topics[logical].name for flag, logical in app_spec(app).topics.items()
                if flag in ("purchases-topic", "products-topic")]

    def launch_bounded(self, apps: list[str], *, threads: int = 1) -> dict[str, ManagedProcess]:
        """Start ``apps`` bounded in the background and return their processes at once.

        Each processes its inputs up to the end offsets they have now, then exits. Those offsets
        are recorded in the state store, so anyone can tell later whether the run got there (the
        app's consumer group committed them) or ended before (``streamstack.kstreams.engine``).
        """
        running = [app for app in apps if self._process(app).pid() is not None]
        if running:
            raise StackError(f"Kafka Streams apps {running} run already; stop them first")
        built = build(self.settings)
        procs = {}
        for app in apps:
            target = {t: {str(p): o for p, o in end_offsets(self.kafka_config, t).items()} for t in self.inputs(app)}
            procs[app] = self._spawn(app, "bounded", built, threads, target=target)
        return procs

    def kill(self, app: str) -> bool:
        """SIGKILL ``app`` at once, no clean close: for tests of crash recovery."""
        proc = self._process(app)
        pid = proc.pid()
        if pid is None:
            return False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        proc.stop(timeout=10)
        return True

    def health(self, app: str) -> AppHealth:
        """Process and Kafka Streams state (lag: ``input_lag``)."""
        proc = self._process(app)
        report = AppHealth(app=app, application_id=self.application_id(app), running=False)
        report.pid = proc.pid()
        report.running = report.pid is not None
        if report.running:
            report.port = self.port(app)
            if report.port is not None:
                try:
                    _, body = self._get(app, "/health")
                    report.state = body.get("state")
                    report.threads = body.get("threads") or []
                except (OSError, ValueError) as exc:
                    report.error = f"endpoint not answering: {exc}"
        elif proc.log_file.exists():
            tail = [line for line in proc.log_tail(15).splitlines() if "ERROR" in line or "error:" in line]
            report.error = tail[-1] if tail else None
        return report

    def input_lag(self, app: str) -> Lag:
        """The app's consumer group (its application id) behind its input topics and its repartition
        topics: a line re-keyed but not joined yet is not processed either."""
        group = self.application_id(app)
        repartition = internal_topics(admin_client(self.kafka_config), group, ("-repartition",))
        return lag(self.kafka_config, [*self.inputs(app), *repartition], group_offsets(self.kafka_config, group))

    def totals(self, product_id: str | None = None, *, app: str = "running_totals") -> Any:
        """The running totals from the app's state store (all, or one product's; None if it has none)."""
        path = "/totals" if product_id is None else f"/totals/{urllib.request.quote(product_id, safe='')}"
        status, body = self._get(app, path)
        if status == 404 and product_id is not None:
            return None
        if status != 200:
            raise StackError(f"{app}: GET {path} answered {status}: {body}")
        return body

    def reset(self, app: str) -> ResetReport:
        """Delete the app's committed offsets, internal topics and local state (stop it first)."""
        if self._process(app).pid() is not None:
            raise StackError(f"Kafka Streams app {app} is running: stop it before a reset")
        group = self.application_id(app)
        report = reset_application(self.kafka_config, group, self.settings.state_dir / "kstreams" / "state" / group, app)
        self.store.delete(self.record_key(app))
        return report

    def run_bounded(self, apps: str | list[str], *, timeout: float = 600.0, threads: int = 1) -> float:
        """Run ``apps`` bounded side by side (``launch_bounded``) until each exits; seconds taken.

        For tests and benchmarks that must wait. If one fails or times out, the others are
        stopped and every failure is raised together.
        """
        apps = [apps] if isinstance(apps, str) else list(apps)
        started = time.monotonic()
        pending = self.launch_bounded(apps, threads=threads)
        failures: list[str] = []
        while pending and not failures and time.monotonic() - started < timeout:
            for app, proc in list(pending.items()):
                code = proc.exited()
                if code is not None:
                    proc.pid()  # forget the pid file
                    del pending[app]
                    if code != 0:
                        failures.append(f"Kafka Streams app {app} (bounded) exited {code}:\n{proc.log_tail(40)}")
            time.sleep(0.2)
        for app, proc in pending.items():
            tail = proc.log_tail(40)
            proc.stop(timeout=30)
            if not failures:
                failures.append(f"Kafka Streams app {app} (bounded) did not catch up within {timeout:.0f}s:\n{tail}")
        if failures:
            raise StackError("\n".join(failures))
        return time.monotonic() - started
