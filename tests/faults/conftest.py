"""The fault tier: the session's services (``tests/support/services.py``), and the reset guard."""

from __future__ import annotations

import pytest

from streamstack.settings import Settings


@pytest.fixture
def resettable_stack(settings: Settings) -> None:
    """The reset tests delete the stack's state: only ever the tests' own (tests/isolation.py)."""
    import isolation

    ours = isolation.state_dir(isolation.shard())
    if settings.state_dir != ours:
        pytest.fail(f"refusing to reset {settings.state_dir}: it is not the tests' stack ({ours})")
