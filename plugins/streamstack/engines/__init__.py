"""Stream engines: which one writes the output topics, and one protocol for all three.

- :mod:`~streamstack.engines.choice`: the engine setting and the output topics;
- :mod:`~streamstack.engines.protocol`: submit, status, stop and reset, implemented by
  ``streamstack.spark.engine``, ``streamstack.flink.engine`` and ``streamstack.kstreams.engine``;
- :mod:`~streamstack.engines.claims`: two engines never write one topic at once;
- :mod:`~streamstack.engines.store`: the records every worker must see.
"""

from streamstack.engines.choice import (
    DEFAULT_ENGINE,
    ENGINES,
    ENV,
    JOBS,
    OUTPUT_FLAGS,
    OUTPUT_TOPICS,
    command,
    comparison_topics,
    engine,
    output_topics,
)
from streamstack.engines.claims import Claim, TopicClaimed, claim, claims, holder, release, this_process
from streamstack.engines.protocol import (
    JobFailed,
    JobStatus,
    Mode,
    State,
    StreamEngine,
    check_jobs,
    get,
    reset_jobs,
    wait,
)
from streamstack.engines.rebuild import WouldShrink, check_rebuild
from streamstack.engines.store import StateStore

__all__ = [
    "DEFAULT_ENGINE", "ENGINES", "ENV", "JOBS", "OUTPUT_FLAGS", "OUTPUT_TOPICS", "Claim", "JobFailed", "JobStatus", "Mode",
    "State", "StateStore", "StreamEngine", "TopicClaimed", "WouldShrink", "check_jobs", "check_rebuild", "claim", "claims", "command", "comparison_topics",
    "engine", "get", "holder", "output_topics", "release", "reset_jobs", "this_process", "wait",
]
