"""What every streamstack DAG shares: one ``default_args``, so a retry policy is changed once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

#: Owner, and two retries 30 s apart (tasks that must not retry say ``retries=0`` themselves).
DEFAULT_ARGS: dict[str, Any] = {"owner": "streamstack", "retries": 2, "retry_delay": timedelta(seconds=30)}
