"""The test session runs on a stack of its own: another state dir and other ports than the user's."""

from __future__ import annotations

from unittest import mock

import isolation

from streamstack.flink.config import FlinkConfig
from streamstack.pinot.endpoints import PinotEndpoints
from streamstack.settings import Settings
from streamstack.superset.endpoints import superset_connection


def _ports(settings: Settings) -> set[int]:
    flink = FlinkConfig.from_env(settings)
    pinot = PinotEndpoints.from_env()
    return {settings.kafka_port, settings.kafka_controller_port, settings.airflow_port, flink.rest_port,
            pinot.controller_port, pinot.broker_port, pinot.server_port, pinot.zk_port}


def test_the_session_points_at_the_tests_stack_not_the_users() -> None:
    ours = Settings.from_env()
    with mock.patch.dict("os.environ", {}, clear=True):
        users = Settings.from_env()
        user_ports = _ports(users)
        user_superset = superset_connection(users)
    assert ours.state_dir == isolation.state_dir(isolation.shard()) != users.state_dir
    assert ours.airflow_home != users.airflow_home
    assert _ports(ours).isdisjoint(user_ports), _ports(ours) & user_ports
    assert superset_connection(ours) != user_superset


def test_printed_for_commands_outside_pytest(capsys) -> None:
    import runpy

    runpy.run_path(isolation.__file__, run_name="__main__")
    lines = capsys.readouterr().out.splitlines()
    assert f"STREAMSTACK_STATE_DIR={isolation.STATE_DIR}" in lines
    assert "STREAMSTACK_KAFKA_PORT=19092" in lines and len(lines) == 1 + len(isolation.PORTS)


def test_each_xdist_shard_has_a_stack_of_its_own_and_knows_the_users_environment() -> None:
    """make test runs two shards side by side: neither may share a port or a state dir with the
    other or with the user's stack, and a worker (which inherits the controller's environment)
    must still see the user's own variables, not the controller's shard."""
    user = {"PATH": "/bin", "STREAMSTACK_AIRFLOW_PORT": "8080"}
    controller = dict(user)
    isolation.apply(controller)
    worker = {**controller, "PYTEST_XDIST_WORKER": "gw1"}
    isolation.apply(worker)
    assert isolation.user_environ(worker) == user
    assert worker["STREAMSTACK_STATE_DIR"] == str(isolation.STATE_DIR.with_name(".stack-test-1"))
    assert worker["STREAMSTACK_KAFKA_PORT"] == "29092" and controller["STREAMSTACK_KAFKA_PORT"] == "19092"
    first, second = isolation.test_stack_environment(0), isolation.test_stack_environment(1)
    assert {v for k, v in first.items()}.isdisjoint(v for k, v in second.items())
    with mock.patch.dict("os.environ", {}, clear=True):
        assert _ports(Settings.from_env()).isdisjoint(int(v) for k, v in second.items() if k.endswith("_PORT"))


def test_the_platform_tiers_and_the_rest_run_in_two_shards() -> None:
    """Services are started by one shard only: Superset and Airflow by the platform shard."""
    assert {isolation.shard_of(n) for n in ("tests/e2e/test_platform.py::t", "tests/faults/test_kills.py::t",
                                            "tests/integration/superset/test_superset_dag.py::t")} == {"platform"}
    assert {isolation.shard_of(n) for n in ("tests/unit/test_files.py::t", "tests/conformance/test_spark.py::t",
                                            "tests/integration/spark/test_enrichment.py::t")} == {"core"}
