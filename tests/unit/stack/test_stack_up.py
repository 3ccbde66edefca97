"""``stack up`` starts independent services side by side and dependent ones in order."""

from __future__ import annotations

import threading

import pytest

from streamstack.errors import StackError
from streamstack.settings import Settings
from streamstack.stack import Stack
from streamstack.stack.stack import SERVICE_FACTORIES, start_chains


def test_chains_keep_dependencies_in_order_and_the_rest_apart() -> None:
    names = [f(Settings.from_env()).name for f in SERVICE_FACTORIES]
    assert start_chains(names) == [
        ["kafka", "pinot-zk", "pinot"],
        ["superset"],
        ["airflow"],
        ["flink-jobmanager", "flink-taskmanager"],
        ["jupyter"],
    ]
    # A selection without the predecessor starts on its own.
    assert start_chains(["pinot", "superset"]) == [["pinot"], ["superset"]]


class FakeService:
    """Records when ``up`` ran; ``gate`` makes it wait for a service of another chain."""

    def __init__(self, name: str, log: list[str], gate: threading.Barrier | None = None,
                 fail: bool = False, fetch_gate: threading.Barrier | None = None,
                 fetch_fails: bool = False) -> None:
        self.name, self.log, self.gate, self.fail = name, log, gate, fail
        self.fetch_gate, self.fetch_fails = fetch_gate, fetch_fails

    def is_running(self) -> bool:
        return False

    def resolve(self) -> None:
        if self.fetch_gate is not None:
            self.fetch_gate.wait()
        if self.fetch_fails:
            raise StackError(f"Maven could not resolve {self.name}")
        self.log.append(f"{self.name} fetched")

    def up(self) -> str:
        self.log.append(f"{self.name} up")
        if self.gate is not None:
            self.gate.wait()  # BrokenBarrierError unless another chain reaches it meanwhile
        if self.fail:
            raise StackError(f"{self.name} did not become ready")
        self.log.append(f"{self.name} ready")
        return f"{self.name}: started"


def stack_of(*services: FakeService) -> Stack:
    stack = Stack(Settings.from_env(), names=["kafka"])
    stack.services = list(services)  # type: ignore[list-item]
    return stack


def test_independent_chains_start_at_once_dependent_services_after_their_predecessor() -> None:
    log: list[str] = []
    both = threading.Barrier(2, timeout=10)
    stack = stack_of(FakeService("kafka", log), FakeService("pinot-zk", log, gate=both),
                     FakeService("superset", log, gate=both), FakeService("pinot", log))
    lines: list[str] = []
    stack.up(lines.append)
    assert sorted(lines) == ["kafka: started", "pinot-zk: started", "pinot: started", "superset: started"]
    assert log.index("kafka ready") < log.index("pinot-zk up") < log.index("pinot-zk ready") < log.index("pinot up")


def test_a_failed_chain_does_not_stop_the_others_and_every_failure_is_raised() -> None:
    log: list[str] = []
    stack = stack_of(FakeService("kafka", log, fail=True), FakeService("pinot-zk", log),
                     FakeService("superset", log, fail=True), FakeService("airflow", log))
    lines: list[str] = []
    with pytest.raises(StackError, match="kafka did not become ready; superset did not become ready"):
        stack.up(lines.append)
    assert lines == ["airflow: started"]
    assert "pinot-zk up" not in log  # never started on top of a broker that is not ready


def test_later_services_fetch_their_jars_while_the_first_of_their_chain_starts() -> None:
    log: list[str] = []
    kafka_starting = threading.Barrier(2, timeout=10)  # kafka's start waits for pinot's fetch
    stack = stack_of(FakeService("kafka", log, gate=kafka_starting),
                     FakeService("pinot-zk", log), FakeService("pinot", log, fetch_gate=kafka_starting))
    stack.up(lambda line: None)
    assert log.index("kafka up") < log.index("kafka ready")
    assert "pinot fetched" in log and log.index("kafka ready") < log.index("pinot up")


def test_a_failed_fetch_fails_its_chain_at_that_service_with_maven_s_message() -> None:
    log: list[str] = []
    stack = stack_of(FakeService("kafka", log), FakeService("pinot-zk", log, fetch_fails=True),
                     FakeService("pinot", log), FakeService("airflow", log))
    lines: list[str] = []
    with pytest.raises(StackError, match="Maven could not resolve pinot-zk"):
        stack.up(lines.append)
    assert sorted(lines) == ["airflow: started", "kafka: started"]
    assert "pinot-zk up" not in log and "pinot up" not in log


def test_jars_are_fetched_in_stack_order_and_each_service_starts_after_its_own() -> None:
    log: list[str] = []
    stack = stack_of(FakeService("kafka", log), FakeService("pinot-zk", log), FakeService("pinot", log),
                     FakeService("superset", log), FakeService("airflow", log))
    stack.up(lambda line: None)
    fetches = [line.split()[0] for line in log if line.endswith("fetched")]
    assert fetches == ["kafka", "pinot-zk", "pinot", "superset", "airflow"]
    for name in fetches:
        assert log.index(f"{name} fetched") < log.index(f"{name} up")
