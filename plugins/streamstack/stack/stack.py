"""The stack: the ordered list of local services, started side by side where nothing depends on
another, stopped in reverse order."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from streamstack.errors import StackError
from streamstack.settings import Settings
from streamstack.stack.airflow import AirflowService
from streamstack.stack.dependents import reset_closure, reset_spark_state, stop_dependents
from streamstack.stack.flink import FlinkJobManagerService, FlinkTaskManagerService
from streamstack.stack.jupyter import JupyterService
from streamstack.stack.kafka_sasl import kafka_service
from streamstack.stack.pinot import PinotService, PinotZookeeperService
from streamstack.stack.service import Service, ServiceStatus
from streamstack.stack.superset import SupersetService

#: The order of ``status`` and the reverse order of ``down``.
SERVICE_FACTORIES: list[Callable[[Settings], Service]] = [
    kafka_service,
    PinotZookeeperService,
    PinotService,
    SupersetService,
    AirflowService,
    FlinkJobManagerService,
    FlinkTaskManagerService,
    JupyterService,
]

#: A service that must be ready before another starts. Pinot comes after Kafka: on a restart its
#: server resumes consuming the real-time tables' topics at once. Every other chain starts side
#: by side: a cold start waits mostly on downloads, database migrations and JVM warm-up, and the
#: sum of those in sequence was the longest part of a first ``make demo``.
STARTS_AFTER: dict[str, str] = {
    "pinot-zk": "kafka",
    "pinot": "pinot-zk",
    "flink-taskmanager": "flink-jobmanager",
}


def start_chains(names: list[str]) -> list[list[str]]:
    """``names`` (in stack order) grouped into chains: each starts in order, chains in parallel."""
    chains: list[list[str]] = []
    for name in names:
        before = STARTS_AFTER.get(name)
        chain = next((c for c in chains if before in c), None)
        if chain is None:
            chains.append([name])
        else:
            chain.append(name)
    return chains


class Stack:
    """All local services of one state directory."""

    def __init__(self, settings: Settings | None = None, names: list[str] | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.services = [factory(self.settings) for factory in SERVICE_FACTORIES]
        known = [s.name for s in self.services]
        if names:
            unknown = sorted(set(names) - set(known))
            if unknown:
                raise StackError(f"unknown service(s) {unknown}; known: {known}")
            self.services = [s for s in self.services if s.name in names]

    def up(self, report: Callable[[str], None] = print) -> None:
        """Start every selected service, chains side by side; each line is reported when ready.

        Jars are fetched first thing for every service (``Service.resolve``, idempotent).

        A failed chain does not stop the others (each service stops what it started itself);
        all failures are raised together once every chain has ended.
        """
        by_name = {s.name: s for s in self.services}
        chains = start_chains(list(by_name))
        # Jars first, one service after another in stack order (Kafka, then Pinot: the longest
        # chain), each service starting once its own are there. Maven runs one at a time anyway
        # (runtime/maven.py); started by each chain, a cold Kafka fetch waited behind the others,
        # and Pinot's behind Kafka's start.
        pending = [name for name in by_name if not by_name[name].is_running()]

        def run(chain: list[str]) -> None:
            for name in chain:
                if name in fetched:
                    fetched[name].result()  # a failed fetch fails this chain here, with its message
                report(by_name[name].up())

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="stack-fetch") as fetcher, \
                ThreadPoolExecutor(max_workers=max(1, len(chains)), thread_name_prefix="stack-up") as pool:
            # One worker: the fetches run one after another, in the order submitted.
            fetched = {name: fetcher.submit(by_name[name].resolve) for name in pending}
            futures = [pool.submit(run, chain) for chain in chains]
        errors = [e for f in futures if (e := f.exception()) is not None]
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise StackError("; ".join(str(e) for e in errors))

    def down(self, report: Callable[[str], None] = print) -> None:
        if any(s.name == "kafka" for s in self.services):  # jobs on top stop first (stack/dependents.py)
            stop_dependents(self.settings, report, keep=self._service_identities())
        for service in reversed(self.services):
            report(service.down())

    def _service_identities(self) -> set[str]:
        """Every service's identity, also of those not selected (they are not dependents)."""
        return {f(self.settings).process.identity.partition("=")[2] for f in SERVICE_FACTORIES}

    def status(self) -> list[ServiceStatus]:
        return [service.status() for service in self.services]

    def reset(self, report: Callable[[str], None] = print) -> None:
        """Stop and delete the state of the selected services (data, logs, pid files) and of
        what depends on it (``stack/dependents.py``: Kafka -> Pinot and the Spark checkpoints)."""
        selected = reset_closure({s.name for s in self.services})
        services = [s for s in (f(self.settings) for f in SERVICE_FACTORIES) if s.name in selected]
        if "kafka" in selected:
            reset_spark_state(self.settings, report, keep=self._service_identities())
        for service in reversed(services):
            service.down()
            if service.state_dir.exists():
                shutil.rmtree(service.state_dir)
            report(f"{service.name}: state deleted ({service.state_dir})")

    def get(self, name: str) -> Service:
        for service in self.services:
            if service.name == name:
                return service
        raise StackError(f"service {name!r} is not part of this stack")
