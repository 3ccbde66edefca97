"""The test suite's own stack: a state directory and ports of its own, never the user's.

``make test`` beside a running ``make demo`` stack must leave that stack alone: its topics, Pinot
tables, checkpoints and savepoints. So every test session runs the services under
``<project>/.stack-test`` on these ports (the demo's plus 10000), set before anything reads the
settings (``tests/conftest.py``). ``make test`` runs two shards side by side (pytest-xdist,
one per group of tiers, ``tests/conftest.py``); shard N > 0 has a stack of its own too,
``.stack-test-N`` on the demo's ports plus 10000 * (N + 1). ``python tests/isolation.py [N]``
prints a shard's variables as ``KEY=VALUE`` lines, for the commands outside pytest that must
reach the same stack (``.ci/run``'s final ``stack down``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, MutableMapping
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
STATE_DIR = PROJECT_DIR / ".stack-test"
#: The user's environment as the session's first process saw it, for the processes it starts.
USER_ENVIRON = "STREAMSTACK_TEST_USER_ENVIRON"

#: Every port the embedded stack opens, for the tests (shard 0): the default + 10000.
PORTS = {
    "STREAMSTACK_KAFKA_PORT": 19092,
    "STREAMSTACK_KAFKA_CONTROLLER_PORT": 19093,
    "STREAMSTACK_KAFKA_SASL_PORT": 19094,
    "STREAMSTACK_KAFKA_SASL_CONTROLLER_PORT": 19095,
    "STREAMSTACK_AIRFLOW_PORT": 18080,
    "STREAMSTACK_FLINK_PORT": 18081,
    "STREAMSTACK_FLINK_RPC_PORT": 16123,
    "STREAMSTACK_KSTREAMS_PORT": 17070,
    "STREAMSTACK_PINOT_ZK_PORT": 12191,
    "STREAMSTACK_PINOT_CONTROLLER_PORT": 19000,
    "STREAMSTACK_PINOT_BROKER_PORT": 18099,
    "STREAMSTACK_PINOT_SERVER_PORT": 18098,
    "STREAMSTACK_PINOT_SERVER_ADMIN_PORT": 18097,
    "STREAMSTACK_PINOT_SERVER_GRPC_PORT": 18090,
    "STREAMSTACK_SUPERSET_PORT": 18088,
    "STREAMSTACK_JUPYTER_PORT": 18888,
}


#: Tiers (or test folders) of the "platform" shard: the ones that need the whole platform
#: (Airflow, Superset) or stop and reset services. The "core" shard runs the rest, so no
#: service is started by both.
PLATFORM_SHARD = ("tests/faults/", "tests/e2e/", "tests/integration/superset/")


def shard_of(nodeid: str) -> str:
    """The group of tiers a test runs in under ``make test`` (``tests/conftest.py``)."""
    return "platform" if nodeid.startswith(PLATFORM_SHARD) else "core"


def shard(environ: Mapping[str, str] = os.environ) -> int:
    """This process's shard: pytest-xdist's worker number (``gw1`` -> 1), 0 outside xdist."""
    worker = environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker.removeprefix("gw")) if worker.removeprefix("gw").isdigit() else 0


def state_dir(shard: int = 0) -> Path:
    return STATE_DIR if shard == 0 else STATE_DIR.with_name(f"{STATE_DIR.name}-{shard}")


def test_stack_environment(shard: int = 0) -> dict[str, str]:
    """The variables that point every part of the platform at one shard's test stack."""
    return {"STREAMSTACK_STATE_DIR": str(state_dir(shard)), **{k: str(v + 10000 * shard) for k, v in PORTS.items()}}


test_stack_environment.__test__ = False  # a helper, not a test


def user_environ(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The user's environment: as handed down by the session's first process, else ``environ``."""
    return json.loads(environ[USER_ENVIRON]) if USER_ENVIRON in environ else dict(environ)


def apply(environ: MutableMapping[str, str] = os.environ) -> None:
    """Point this process (and what it starts) at its shard's test stack; a remote cluster is refused.

    The user's environment goes along (``USER_ENVIRON``) so an xdist worker, which inherits the
    controller's changes, can tell the user's settings from the ones a test process made."""
    user = user_environ(environ)
    if user.get("STREAMSTACK_BOOTSTRAP_SERVERS"):
        raise RuntimeError("STREAMSTACK_BOOTSTRAP_SERVERS is set: the tests run on a stack of their own; unset it")
    environ[USER_ENVIRON] = json.dumps(user)
    environ.update(test_stack_environment(shard(environ)))


def user_stack_snapshot(environ: MutableMapping[str, str]) -> dict[str, object] | None:
    """What the tests must leave as it is of the user's stack (``environ`` as before :func:`apply`).

    None when the user's broker is not running. Otherwise its topics' end offsets, the names of
    the files under its Spark checkpoints and Flink savepoints, and its Pinot tables' row counts.
    """
    from dataclasses import replace
    from unittest import mock

    from streamstack.clients import admin_client
    from streamstack.pinot.client import PinotClient
    from streamstack.pinot.endpoints import PinotEndpoints, pinot_credentials
    from streamstack.settings import Settings
    from streamstack.stack import Stack
    from streamstack.topics.offsets import end_offsets

    with mock.patch.dict(os.environ, dict(environ), clear=True):
        user = Settings.from_env()
        pinot = PinotEndpoints.from_env(user)
    if user.state_dir.name.startswith(STATE_DIR.name) or not Stack(user, names=["kafka"]).get("kafka").is_running():
        return None
    user = replace(user, bootstrap_override=None)
    config = user.kafka_client_config()
    topics = sorted(t for t in admin_client(config).list_topics(timeout=10).topics if not t.startswith("__"))
    files = sorted(str(p.relative_to(user.state_dir)) for sub in ("spark/checkpoints", "flink/savepoints")
                   for p in (user.state_dir / sub).rglob("*") if p.is_file() and not p.name.startswith("."))
    rows: dict[str, int] = {}
    if Stack(user, names=["pinot"]).get("pinot").is_running():
        client = PinotClient(pinot.controller_url, pinot.broker_url, auth=pinot_credentials(user))
        rows = {table: client.count(table) for table in sorted(client.tables())}
    return {"state_dir": str(user.state_dir), "end_offsets": {t: end_offsets(config, t) for t in topics},
            "files": files, "pinot_rows": rows}


if __name__ == "__main__":
    for key, value in test_stack_environment(int(sys.argv[1]) if sys.argv[1:2] and sys.argv[1].isdigit() else 0).items():
        print(f"{key}={value}")
