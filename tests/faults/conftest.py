"""The fault tier: the integration tier's fixtures (one shared stack per session), reused.

pytest sees a conftest's fixtures only below its folder, so the integration fixtures are
loaded from their file and re-exported here rather than copied.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from streamstack.settings import Settings
from streamstack.stack import Stack

_spec = importlib.util.spec_from_file_location(
    "streamstack_integration_conftest", Path(__file__).resolve().parents[1] / "integration" / "conftest.py"
)
assert _spec and _spec.loader
_integration = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_integration)

settings = _integration.settings
kafka = _integration.kafka
pinot = _integration.pinot
kafka_config = _integration.kafka_config
fresh_topics = _integration.fresh_topics

# Whether a stack was running before this session started anything (conftests are imported at
# collection, before any fixture runs): the reset tests delete the stack's state, so they run
# only on a stack of the session's own, unless STREAMSTACK_FAULTS_RESET=1 says otherwise.
_STACK_WAS_RUNNING = Stack(Settings.from_env(), names=["kafka"]).get("kafka").is_running()


@pytest.fixture
def resettable_stack() -> None:
    if _STACK_WAS_RUNNING and os.environ.get("STREAMSTACK_FAULTS_RESET") != "1":
        pytest.skip("the stack was running before the tests: a reset would delete its data "
                    "(set STREAMSTACK_FAULTS_RESET=1 to allow)")
