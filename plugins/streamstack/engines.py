"""Which stream engine feeds the enriched, totals and windows topics: one setting, one place.

``STREAMSTACK_ENGINE`` (default ``spark``; the DAG's ``engine`` param overrides it per run) picks
the engine. Two engines must never write one topic at once, so an engine *claims* each output
topic before it starts writing and releases it when it stops; a claim held by another engine is
refused with a one-line error naming the holder. A comparison run (conformance kit, benchmark)
gives each engine topics of its own (:func:`comparison_topics`), so nothing is claimed twice.
Other engines plug in by adding their name to ``ENGINES`` and claiming through :func:`claim`.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from streamstack.errors import ConfigError, StreamstackError

ENGINES = ("spark", "flink", "kstreams")
DEFAULT_ENGINE = "spark"
ENV = "STREAMSTACK_ENGINE"
#: Logical topics an engine writes (config/topics.yaml).
OUTPUT_TOPICS = ("purchases_enriched", "running_totals", "sales_windows", "purchases_invalid")


class TopicClaimed(StreamstackError):
    """An output topic is being written by another engine."""


def engine(value: str | None = None) -> str:
    """The engine to use: ``value`` (a DAG param), else ``STREAMSTACK_ENGINE``, else spark."""
    chosen = (value or os.environ.get(ENV) or DEFAULT_ENGINE).strip().lower()
    if chosen not in ENGINES:
        raise ConfigError(f"engine {chosen!r} is not one of {list(ENGINES)} (setting {ENV} or the DAG param 'engine')")
    return chosen


def comparison_topics(names: dict[str, str], engine_name: str) -> dict[str, str]:
    """Topic names for one engine of a comparison run: inputs shared, outputs suffixed by engine."""
    return {k: (f"{v}.{engine_name}" if k in OUTPUT_TOPICS else v) for k, v in names.items()}


def _claims_dir(state_dir: Path) -> Path:
    return state_dir / "engine-claims"


def holder(state_dir: Path, topic: str) -> str | None:
    file = _claims_dir(state_dir) / f"{topic}.json"
    return json.loads(file.read_text())["engine"] if file.exists() else None


def claim(state_dir: Path, topics: list[str], engine_name: str) -> None:
    """Claim ``topics`` for ``engine_name``, all or none; re-claiming one's own topic is a no-op."""
    engine(engine_name)
    taken = {t: h for t in topics if (h := holder(state_dir, t)) not in (None, engine_name)}
    if taken:
        detail = ", ".join(f"{t} (held by {h})" for t, h in taken.items())
        raise TopicClaimed(f"{engine_name} cannot write {detail}: stop that engine's jobs first "
                           f"(or release with `streamstack engine release`)")
    d = _claims_dir(state_dir)
    d.mkdir(parents=True, exist_ok=True)
    for t in topics:
        tmp = d / f".{t}.tmp"
        tmp.write_text(json.dumps({"engine": engine_name, "at": time.time()}) + "\n")
        tmp.replace(d / f"{t}.json")


def release(state_dir: Path, topics: list[str], engine_name: str | None = None) -> None:
    """Release claims (only ``engine_name``'s when given)."""
    for t in topics:
        file = _claims_dir(state_dir) / f"{t}.json"
        if file.exists() and (engine_name is None or holder(state_dir, t) == engine_name):
            file.unlink()
