"""The fault tier: the integration tier's fixtures (one shared stack per session), reused.

pytest sees a conftest's fixtures only below its folder, so the integration fixtures are
loaded from their file and re-exported here rather than copied.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from streamstack.settings import Settings

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



@pytest.fixture
def resettable_stack(settings: Settings) -> None:
    """The reset tests delete the stack's state: only ever the tests' own (tests/isolation.py)."""
    import isolation

    if settings.state_dir != isolation.STATE_DIR:
        pytest.fail(f"refusing to reset {settings.state_dir}: it is not the tests' stack ({isolation.STATE_DIR})")
