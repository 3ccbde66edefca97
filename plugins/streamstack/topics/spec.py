"""Parse and validate ``config/topics.yaml``.

Topics are declared under a logical name (``purchases``) that code uses, with the real topic
name beside it (``demo.purchases``): topic names live in this one file and are read everywhere.
Every mistake is reported with the file, the topic and the key, because a typo in a topic
config is otherwise silently ignored by nothing but the broker's rejection at apply time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from streamstack import events
from streamstack.config_files import load_yaml_text
from streamstack.errors import ConfigError
from streamstack.settings import Settings

TOPIC_KEYS = {"name", "partitions", "replication_factor", "key", "description", "configs"}
TOP_KEYS = {"defaults", "topics"}
DEFAULT_KEYS = {"replication_factor", "configs"}
LEGAL_TOPIC_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")

#: Topic-level configs of Kafka 4.x (``org.apache.kafka.common.config.TopicConfig``).
KAFKA_TOPIC_CONFIGS = frozenset(
    {
        "cleanup.policy",
        "compression.type",
        "compression.gzip.level",
        "compression.lz4.level",
        "compression.zstd.level",
        "delete.retention.ms",
        "file.delete.delay.ms",
        "flush.messages",
        "flush.ms",
        "follower.replication.throttled.replicas",
        "index.interval.bytes",
        "leader.replication.throttled.replicas",
        "local.retention.bytes",
        "local.retention.ms",
        "max.compaction.lag.ms",
        "max.message.bytes",
        "message.timestamp.after.max.ms",
        "message.timestamp.before.max.ms",
        "message.timestamp.type",
        "min.cleanable.dirty.ratio",
        "min.compaction.lag.ms",
        "min.insync.replicas",
        "preallocate",
        "remote.storage.enable",
        "remote.log.copy.disable",
        "remote.log.delete.on.disable",
        "retention.bytes",
        "retention.ms",
        "segment.bytes",
        "segment.index.bytes",
        "segment.jitter.ms",
        "segment.ms",
        "unclean.leader.election.enable",
    }
)


@dataclass(frozen=True)
class TopicSpec:
    """The declared state of one topic.

    :param logical: the name code refers to (``purchases``).
    :param name: the Kafka topic name (``demo.purchases``).
    :param key: the event field used as message key; several fields (a record whose identity is a
        pair, such as a window) make a JSON object of them in their order; None for keyless topics.
    """

    logical: str
    name: str
    partitions: int
    replication_factor: int
    configs: dict[str, str] = field(default_factory=dict)
    key: str | tuple[str, ...] | None = None
    description: str = ""

    @property
    def key_label(self) -> str:
        """The key for messages: ``product_id``, or ``window_start+product_id`` for a composite one."""
        return self.key if isinstance(self.key, str) else "+".join(self.key or ())

    def record_key(self, value: Mapping[str, Any]) -> str | None:
        """The message key of an event ``value`` on this topic, as every engine must write it.

        One field: its text. Several: ``{"a":...,"b":...}`` in the declared order without spaces,
        which is what Flink's ``json`` key format and Spark's ``to_json(struct(...))`` both write."""
        if self.key is None:
            return None
        if isinstance(self.key, str):
            return str(value[self.key])
        return json.dumps({name: value[name] for name in self.key}, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class TopicSpecs:
    """All declared topics of one file, addressable by logical name."""

    file: Path
    topics: tuple[TopicSpec, ...]

    def __getitem__(self, logical: str) -> TopicSpec:
        for spec in self.topics:
            if spec.logical == logical:
                return spec
        raise ConfigError(
            f"no topic '{logical}' declared (known: {', '.join(s.logical for s in self.topics)})",
            file=self.file,
            key=f"topics.{logical}",
        )

    def __iter__(self) -> Iterator[TopicSpec]:
        return iter(self.topics)

    def names(self) -> dict[str, str]:
        return {spec.logical: spec.name for spec in self.topics}

    def suffixed(self, suffix: str) -> TopicSpecs:
        """The same declarations on topics named ``<name>.<suffix>``: a separate set for one run,
        e.g. to compare engines on the same input, or a test's own topics."""
        from dataclasses import replace

        return TopicSpecs(file=self.file, topics=tuple(replace(s, name=f"{s.name}.{suffix}") for s in self.topics))


def _config_value(value: Any, file: Path, key: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str) and str(value) != "":
        return str(value)
    raise ConfigError(f"value {value!r} must be a non-empty string, number or boolean", file=file, key=key)


def _configs(raw: Any, file: Path, where: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError("must be a mapping of Kafka topic configs", file=file, key=where)
    out = {}
    for name, value in raw.items():
        if name not in KAFKA_TOPIC_CONFIGS:
            raise ConfigError(f"unknown Kafka topic config '{name}'", file=file, key=f"{where}.{name}")
        out[name] = _config_value(value, file, f"{where}.{name}")
    return out


def _positive_int(value: Any, file: Path, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"must be a positive integer, got {value!r}", file=file, key=key)
    return value


def _key(raw: Any, fields: Any, logical: str, file: Path, where: str) -> str | tuple[str, ...] | None:
    """A field name, or a list of distinct field names (a composite key), each a field of the events."""
    if raw is None:
        return None
    names = [raw] if isinstance(raw, str) else raw
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise ConfigError("must be an event field name or a list of them", file=file, key=where)
    if len(set(names)) != len(names):
        raise ConfigError(f"names a field twice: {names}", file=file, key=where)
    known = events.field_names(fields) if fields is not None else None
    for name in names:
        if known is not None and name not in known:
            raise ConfigError(
                f"'{name}' is not a field of the {logical} events (fields: {', '.join(known)})", file=file, key=where
            )
    return raw if isinstance(raw, str) else tuple(names)


def parse_topics(data: Any, file: Path) -> TopicSpecs:
    """Validate the loaded YAML document ``data`` read from ``file``."""
    if not isinstance(data, dict):
        raise ConfigError("the document must be a mapping with a 'topics' key", file=file)
    for key in data:
        if key not in TOP_KEYS:
            raise ConfigError(f"unknown key (allowed: {sorted(TOP_KEYS)})", file=file, key=str(key))
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ConfigError("must be a mapping", file=file, key="defaults")
    for key in defaults:
        if key not in DEFAULT_KEYS:
            raise ConfigError(
                f"unknown key (allowed: {sorted(DEFAULT_KEYS)})", file=file, key=f"defaults.{key}"
            )
    default_rf = _positive_int(defaults.get("replication_factor", 1), file, "defaults.replication_factor")
    default_configs = _configs(defaults.get("configs"), file, "defaults.configs")

    raw_topics = data.get("topics")
    if not isinstance(raw_topics, dict) or not raw_topics:
        raise ConfigError("must be a non-empty mapping of logical name -> topic", file=file, key="topics")
    specs, seen = [], {}
    for logical, raw in raw_topics.items():
        where = f"topics.{logical}"
        if not isinstance(raw, dict):
            raise ConfigError("must be a mapping", file=file, key=where)
        for key in raw:
            if key not in TOPIC_KEYS:
                raise ConfigError(
                    f"unknown key in topic '{logical}' (allowed: {sorted(TOPIC_KEYS)})",
                    file=file,
                    key=f"{where}.{key}",
                )
        name = raw.get("name")
        if not isinstance(name, str) or not LEGAL_TOPIC_NAME.match(name) or name in {".", ".."}:
            raise ConfigError(f"'{name}' is not a legal Kafka topic name", file=file, key=f"{where}.name")
        if name in seen:
            raise ConfigError(
                f"topic name '{name}' is also declared by '{seen[name]}'", file=file, key=f"{where}.name"
            )
        seen[name] = logical
        if "partitions" not in raw:
            raise ConfigError("is required", file=file, key=f"{where}.partitions")
        key = _key(raw.get("key"), events.SCHEMAS.get(str(logical)), str(logical), file, f"{where}.key")
        specs.append(
            TopicSpec(
                logical=str(logical),
                name=name,
                partitions=_positive_int(raw["partitions"], file, f"{where}.partitions"),
                replication_factor=_positive_int(
                    raw.get("replication_factor", default_rf), file, f"{where}.replication_factor"
                ),
                configs={**default_configs, **_configs(raw.get("configs"), file, f"{where}.configs")},
                key=key,
                description=str(raw.get("description", "")),
            )
        )
    for spec in specs:
        if "compact" in spec.configs.get("cleanup.policy", "") and not spec.key:
            raise ConfigError(
                "a compacted topic needs a message key (compaction rejects keyless records)",
                file=file,
                key=f"topics.{spec.logical}.key",
            )
    return TopicSpecs(file=file, topics=tuple(specs))


def load_topics(path: Path | str | None = None) -> TopicSpecs:
    """Read and validate a topics file (default: ``config/topics.yaml`` of the settings)."""
    file = Path(path) if path else Settings.from_env().topics_file
    try:
        text = file.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read topics file: {exc.strerror}", file=file) from exc
    return parse_topics(load_yaml_text(text, file), file)


@lru_cache(maxsize=8)
def _cached(path: str) -> TopicSpecs:
    return load_topics(path)


def topic_name(logical: str, path: Path | str | None = None) -> str:
    """The Kafka topic name of a logical topic, e.g. ``topic_name("purchases") == "demo.purchases"``."""
    return _cached(str(path or Settings.from_env().topics_file))[logical].name
