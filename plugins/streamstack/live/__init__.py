"""The live pipeline: the engine's jobs running continuously, the generator selling, Pinot ingesting,
watched by a supervisor (``config/live.yaml``: what healthy means)."""

from streamstack.live.config import Bounds, LiveConfig, load_live_config
from streamstack.live.supervisor import (
    LIVE_KEY,
    Finding,
    LiveUnhealthy,
    Supervision,
    default_config,
    default_store,
    live_record,
    live_since,
    supervise,
    table_specs,
)

__all__ = ["LIVE_KEY", "Bounds", "Finding", "LiveConfig", "LiveUnhealthy", "Supervision", "default_config",
           "default_store", "live_record", "live_since", "load_live_config", "supervise", "table_specs"]
