"""Pinot schemas and tables as code: read ``config/pinot/``, fill in topics, check, apply.

Table files carry three kinds of placeholders so one file serves every environment:
``${topic:<logical name>}`` (resolved through ``config/topics.yaml``),
``${kafka.bootstrap_servers}`` and ``${contract:<section>}`` (the ingestion filter that drops
what the event contract rejects, :func:`streamstack.pinot.filters.contract_filter`). Each schema
is checked against the event fields of ``streamstack.events`` so a renamed field fails here, not
as silently-null columns in Pinot.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamstack import events
from streamstack.config_files import load_json_text
from streamstack.engines import OUTPUT_TOPICS
from streamstack.errors import ConfigError
from streamstack.pinot.client import Change, PinotClient
from streamstack.pinot.filters import contract_filter
from streamstack.pinot.stream_security import is_secret_key
from streamstack.settings import Settings

PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
TOPIC_KEY = "stream.kafka.topic.name"
#: Pinot 0.11's kafka20 consumer: read_committed hides aborted and open transactions.
ISOLATION_KEY = "stream.kafka.isolation.level"
#: Tables in dependency-free apply order; the names are also the schema names.
TABLES = ("products", "purchases", "purchasesEnriched", "runningTotals", "deadLetters", "salesWindows", "events")
#: Tables whose rows are events of another kind than their topic's. ``purchases`` holds raw
#: purchase lines but reads the enriched topic: only purchases the event contract accepted are
#: there (the raw topic also carries what the jobs dead-letter), with the same identity and
#: de-duplication as ``purchasesEnriched``; ``price``/``quantity`` come from an ingestion
#: transform of ``purchase_price``/``purchase_quantity``.
TABLE_EVENTS = {"purchases": "purchases"}
#: Topics that carry records the contract has not checked: no Pinot table may read them.
UNVALIDATED_TOPICS = ("purchases",)
#: Topics a table may read only through the contract's ingestion filter (logical topic -> contract
#: section): the engines validate the products topic themselves and dead-letter what fails, so a
#: table on it must drop the same records, with ``filterConfig.filterFunction: "${contract:products}"``.
FILTERED_TOPICS = {"products": "products"}
FILTER_KEY = "ingestionConfig.filterConfig.filterFunction"


@dataclass(frozen=True)
class TableSpec:
    """One Pinot table: its schema, its rendered REALTIME config and where it reads from."""

    name: str
    schema: dict[str, Any]
    table: dict[str, Any]
    logical_topic: str
    topic: str

    @property
    def time_column(self) -> str:
        return str(self.table["segmentsConfig"]["timeColumnName"])

    @property
    def mode(self) -> str:
        """``upsert``, ``dedup`` or ``append``: decides how row counts relate to topic offsets."""
        return table_mode(self.table)


def table_mode(table: Mapping[str, Any]) -> str:
    """``upsert``, ``dedup`` or ``append``: what a REALTIME table config (ours or Pinot's echo) makes of duplicates."""
    if str((table.get("upsertConfig") or {}).get("mode", "NONE")).upper() != "NONE":
        return "upsert"
    if str((table.get("dedupConfig") or {}).get("dedupEnabled", False)).lower() == "true":
        return "dedup"
    return "append"


#: The keys Pinot 0.11's TableConfig and its parts read (``org.apache.pinot.spi.config.table``).
#: Pinot ignores any other key without a word, so a typo (``dedupConfg``) silently turns a
#: de-duplicating table into an append-only one: unknown keys are refused here.
TABLE_KEYS = {
    "tableName", "tableType", "segmentsConfig", "tenants", "tableIndexConfig", "metadata", "quota",
    "task", "routing", "query", "instanceAssignmentConfigMap", "fieldConfigList", "upsertConfig",
    "dedupConfig", "ingestionConfig", "tierConfigs", "isDimTable", "tunerConfigs",
    "instancePartitionsMap", "segmentAssignmentConfigMap",
}
SECTION_KEYS = {
    "segmentsConfig": {
        "timeColumnName", "timeType", "retentionTimeUnit", "retentionTimeValue", "replication",
        "replicasPerPartition", "schemaName", "segmentPushType", "segmentPushFrequency",
        "segmentAssignmentStrategy", "peerSegmentDownloadScheme", "completionConfig",
        "crypterClassName", "minimizeDataMovement", "deletedSegmentsRetentionPeriod",
        "replicaGroupStrategyConfig",
    },
    "dedupConfig": {"dedupEnabled", "hashFunction"},
    "upsertConfig": {
        "mode", "comparisonColumn", "hashFunction", "partialUpsertStrategies",
        "defaultPartialUpsertStrategy", "enableSnapshot", "metadataTTL", "deleteRecordColumn",
    },
    "tenants": {"broker", "server", "tagOverrideConfig"},
    "routing": {"segmentPrunerTypes", "instanceSelectorType", "routingTableBuilderName"},
}
#: Keys without which the table does not work as this project uses it.
REQUIRED = {"segmentsConfig": ("timeColumnName",)}


def _check_table_keys(raw: dict[str, Any], file: Path) -> None:
    for key in raw:
        if key not in TABLE_KEYS:
            raise ConfigError(f"unknown table config key (Pinot would ignore it); known: {sorted(TABLE_KEYS)}", file=file, key=key)
    for section, known in SECTION_KEYS.items():
        value = raw.get(section)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise ConfigError("must be an object", file=file, key=section)
        for key in value:
            if key not in known:
                raise ConfigError(
                    f"unknown key in {section} (Pinot would ignore it); known: {sorted(known)}",
                    file=file, key=f"{section}.{key}",
                )
    for section, keys in REQUIRED.items():
        if not isinstance(raw.get(section), dict):
            raise ConfigError("is required", file=file, key=section)
        for key in keys:
            if key not in raw[section]:
                raise ConfigError("is required", file=file, key=f"{section}.{key}")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=path) from exc
    data = load_json_text(text, path)
    if not isinstance(data, dict):
        raise ConfigError("must be a JSON object", file=path)
    return data


def _render(value: Any, values: Mapping[str, str], file: Path) -> Any:
    if isinstance(value, dict):
        return {k: _render(v, values, file) for k, v in value.items()}
    if isinstance(value, list):
        return [_render(v, values, file) for v in value]
    if isinstance(value, str):

        def sub(match: re.Match[str]) -> str:
            key = match.group(1)
            if key not in values:
                raise ConfigError(f"unknown placeholder ${{{key}}} (known: {sorted(values)})", file=file)
            return values[key]

        return PLACEHOLDER.sub(sub, value)
    return value


def _derived_columns(table: dict[str, Any]) -> set[str]:
    """Columns an ingestion transform computes (``ingestionConfig.transformConfigs``)."""
    transforms = (table.get("ingestionConfig") or {}).get("transformConfigs") or []
    return {t["columnName"] for t in transforms if isinstance(t, dict) and "columnName" in t}


def _check_schema(schema: dict[str, Any], logical_topic: str, file: Path, derived: Iterable[str] = ()) -> None:
    """The schema's columns are the event's fields, plus columns computed by an ingestion transform."""
    fields = events.SCHEMAS.get(logical_topic)
    if fields is None:
        raise ConfigError(f"topic '{logical_topic}' has no event schema in streamstack.events", file=file)
    expected = events.field_names(fields)
    columns = [
        spec["name"]
        for group in ("dimensionFieldSpecs", "metricFieldSpecs", "dateTimeFieldSpecs")
        for spec in schema.get(group, [])
        if spec["name"] in expected or spec["name"] not in derived
    ]
    if sorted(columns) != sorted(expected):
        missing = sorted(set(expected) - set(columns))
        extra = sorted(set(columns) - set(expected))
        raise ConfigError(
            f"columns differ from the '{logical_topic}' events: missing {missing}, not in events {extra}",
            file=file,
        )


def load_specs(
    config_dir: Path,
    topic_names: Mapping[str, str],
    bootstrap_servers: str,
    names: Iterable[str] = TABLES,
    stream_configs: Mapping[str, str] | None = None,
    contract: Mapping[str, Any] | None = None,
) -> list[TableSpec]:
    """Read, render and check the schema and table files of ``names``.

    :param config_dir: the ``config/pinot`` folder (``schemas/`` and ``tables/``).
    :param topic_names: logical topic -> Kafka topic name (``TopicSpecs.names()``).
    :param bootstrap_servers: Kafka address Pinot's server consumes from.
    :param stream_configs: the connection's security settings for Pinot's consumer
        (``stream_security.stream_security_configs``), added to every table's stream configs.
    :param contract: the resolved event contract the ``${contract:...}`` filters are made from
        (default: ``streamstack.contract.load_contract()``, read only if a table needs it).
    """
    values = {f"topic:{k}": v for k, v in topic_names.items()}
    values["kafka.bootstrap_servers"] = bootstrap_servers
    specs = []
    for name in names:
        schema_file = config_dir / "schemas" / f"{name}.json"
        table_file = config_dir / "tables" / f"{name}.json"
        schema = _read_json(schema_file)
        raw = _read_json(table_file)
        if schema.get("schemaName") != name or raw.get("tableName") != name:
            raise ConfigError(f"schemaName and tableName must both be '{name}'", file=table_file)
        _check_table_keys(raw, table_file)
        if raw.get("tableType") != "REALTIME":
            raise ConfigError("only REALTIME tables are managed here", file=table_file, key="tableType")
        template = raw.get("tableIndexConfig", {}).get("streamConfigs", {}).get(TOPIC_KEY, "")
        found = re.fullmatch(r"\$\{topic:([^}]+)\}", template)
        if not found:
            raise ConfigError(
                f"{TOPIC_KEY} must be a '${{topic:<logical name>}}' placeholder, not {template!r}",
                file=table_file,
            )
        for key in raw["tableIndexConfig"]["streamConfigs"]:
            # Credentials come from the Kafka connection (stream_security), never from a table file
            # in the repository; neither do the config providers that stream_security sets.
            if is_secret_key(key) or key.startswith("config.providers"):
                raise ConfigError(
                    "credentials do not belong in a table file: Pinot's Kafka security settings come from "
                    "the Kafka connection (streamstack.pinot.stream_security)",
                    file=table_file, key=f"tableIndexConfig.streamConfigs.{key}",
                )
        logical = found.group(1)
        if logical in UNVALIDATED_TOPICS:
            raise ConfigError(
                f"reads topic '{logical}', whose records the event contract has not checked (dead letters "
                "would reach Pinot); read the validated topic (purchases_enriched) instead",
                file=table_file, key=f"tableIndexConfig.streamConfigs.{TOPIC_KEY}",
            )
        isolation = raw["tableIndexConfig"]["streamConfigs"].get(ISOLATION_KEY)
        if logical in OUTPUT_TOPICS and isolation != "read_committed":
            raise ConfigError(
                f"reads '{logical}', which stream jobs write with transactions (Flink and Kafka Streams, "
                f"exactly-once): set {ISOLATION_KEY} to read_committed, not {isolation!r} (an aborted write would "
                "reach Pinot)", file=table_file, key=f"tableIndexConfig.streamConfigs.{ISOLATION_KEY}",
            )
        section = FILTERED_TOPICS.get(logical)
        if section is not None:
            placeholder = f"${{contract:{section}}}"
            function = ((raw.get("ingestionConfig") or {}).get("filterConfig") or {}).get("filterFunction")
            if function != placeholder:
                raise ConfigError(
                    f"reads topic '{logical}', whose records every engine validates and dead-letters when they fail the "
                    f"event contract: set {FILTER_KEY} to {placeholder!r} (not {function!r}) so Pinot drops them too",
                    file=table_file, key=FILTER_KEY,
                )
            if f"contract:{section}" not in values:
                if contract is None:
                    from streamstack.contract import load_contract

                    contract = load_contract()
                values[f"contract:{section}"] = contract_filter(contract, section)
        _check_schema(schema, TABLE_EVENTS.get(name, logical), schema_file, _derived_columns(raw))
        table = _render(raw, values, table_file)
        if stream_configs:
            table["tableIndexConfig"]["streamConfigs"].update(stream_configs)
        specs.append(
            TableSpec(name, schema, table, logical, table["tableIndexConfig"]["streamConfigs"][TOPIC_KEY])
        )
    return specs


def apply_specs(
    client: PinotClient,
    specs: Iterable[TableSpec],
    *,
    existing_topics: set[str] | None = None,
    dry_run: bool = False,
    recreate: Iterable[str] = (),
) -> list[Change]:
    """Create or update every schema, then its table; idempotent.

    :param existing_topics: if given, a table whose topic is not in it is refused up front
        (Pinot 0.11 answers a missing topic with an opaque HTTP 500 NullPointerException).
    :param recreate: tables to drop and create anew (with their schema), for incompatible schema
        changes: only what their topic still retains is read back (:func:`recreate_loss` says how
        much is lost; ask first). A failed creation puts the old table back.
    """
    specs = list(specs)
    if existing_topics is not None:
        missing = sorted({s.topic for s in specs} - existing_topics)
        if missing:
            raise ConfigError(f"Kafka topics {missing} do not exist; run `streamstack topics apply` first")
    changes: list[Change] = []
    drop = set(recreate)
    for spec in specs:
        if spec.name in drop and not dry_run:
            changes += _recreate(client, spec)
            continue
        if spec.name not in drop:
            _check_mode(client, spec)
        changes.append(client.apply_schema(spec.schema, dry_run=dry_run))
        changes.append(client.apply_table(spec.table, dry_run=dry_run))
    return changes


def _check_mode(client: PinotClient, spec: TableSpec) -> None:
    """Refuse to switch an existing table between append, dedup and upsert in place.

    Pinot 0.11 takes the new config (``PUT /tables``) without a word, but the server keeps the
    consuming segment's mode and the rows already there stay as they are: a table turned to dedup
    would go on counting duplicates (seen on the real Pinot). Only a re-created table has the mode.
    """
    from streamstack.pinot.client import PinotError

    existing = client.get_table(spec.name)
    if existing and table_mode(existing) != spec.mode:
        raise PinotError(
            f"table {spec.name}: is {table_mode(existing)} in Pinot and {spec.mode} in config/pinot; Pinot cannot switch "
            f"it in place (the rows and the consuming segment keep the old mode): re-create it with "
            f"`streamstack pinot apply --recreate {spec.name}` (it re-reads what its topic retains)"
        )


def _recreate(client: PinotClient, spec: TableSpec) -> list[Change]:
    """Drop ``spec``'s table and schema and create them anew; never leave the table missing.

    The new config is checked by Pinot before anything is dropped; should the creation still
    fail, the old schema and table are put back (their rows re-consumed from what the topic
    retains) and the error says so.
    """
    from streamstack.pinot.client import PinotError

    old_schema, old_table = client.get_schema(spec.name), client.get_table(spec.name)
    client.validate(spec.schema, spec.table)
    client.drop_table(spec.name)
    try:
        return [client.apply_schema(spec.schema), client.apply_table(spec.table)]
    except PinotError as exc:
        if old_schema is not None and old_table is not None:
            client.drop_table(spec.name)
            client.apply_schema(old_schema)
            client.apply_table({**old_table, "tableName": spec.name})
            raise PinotError(f"table {spec.name}: re-creating it failed ({exc}); the old schema and table "
                             "are back, re-reading what their topic retains") from exc
        raise


@dataclass(frozen=True)
class RecreateLoss:
    """What dropping a table loses: its rows, of which the topic still holds ``retained``."""

    table: str
    topic: str
    rows: int
    retained: int
    retention_ms: int | None

    @property
    def lost(self) -> int:
        return max(0, self.rows - self.retained)

    def line(self) -> str:
        kept = "forever" if self.retention_ms in (None, -1) else f"{self.retention_ms / 86_400_000:g} days"
        return (f"{self.table}: {self.rows:,} rows now; topic {self.topic} retains {self.retained:,} records "
                f"(retention {kept}): about {self.lost:,} rows would be gone for good")


def recreate_loss(client: PinotClient, spec: TableSpec, kafka_config: Mapping[str, Any]) -> RecreateLoss:
    """How many of the table's rows a re-created table could not read back from its topic."""
    from streamstack.topics.offsets import record_counts

    rows = client.count(spec.name) if client.get_table(spec.name) is not None else 0
    retained = record_counts(kafka_config, [spec.topic])[spec.topic]
    return RecreateLoss(spec.name, spec.topic, rows, retained, _topic_retention(kafka_config, spec.topic))


def _topic_retention(kafka_config: Mapping[str, Any], topic: str) -> int | None:
    from confluent_kafka.admin import ConfigResource

    from streamstack.clients import admin_client

    admin = admin_client(dict(kafka_config))
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    configs = admin.describe_configs([resource])[resource].result(timeout=30)
    value = configs.get("retention.ms")
    return int(value.value) if value is not None and value.value is not None else None


def existing_topics(kafka_config: Mapping[str, str], timeout: float = 10.0) -> set[str]:
    """Names of the topics on the broker (to refuse tables on missing topics with a clear error)."""
    from streamstack.clients import admin_client, reach

    return set(reach(admin_client(dict(kafka_config)), kafka_config, timeout=timeout).topics)


def local_specs(
    settings: Settings | None,
    names: Iterable[str] = TABLES,
    bootstrap_servers: str | None = None,
    kafka_config: Mapping[str, Any] | None = None,
    kafka_source: str = "the Kafka connection",
) -> list[TableSpec]:
    """The specs of ``config/pinot``: topics from ``config/topics.yaml``.

    :param bootstrap_servers: the Kafka Pinot consumes from (default: ``kafka_config``'s, else the
        local stack's broker).
    :param kafka_config: the Kafka connection's librdkafka settings; its TLS/SASL settings become
        stream configs (the password through a 0600 file, see ``stream_security``).
    :param kafka_source: where ``kafka_config`` came from (e.g. "connection 'kafka_default'"), named
        when one of its secrets is refused.
    """
    from streamstack.pinot.stream_security import secrets_dir, stream_security_configs
    from streamstack.topics import load_topics

    settings = settings or Settings.from_env()
    security = (stream_security_configs(kafka_config, secrets_dir(settings), kafka_source)
                if kafka_config else None)
    return load_specs(
        settings.config_dir / "pinot",
        load_topics(settings.topics_file).names(),
        bootstrap_servers or (kafka_config or {}).get("bootstrap.servers") or settings.bootstrap_servers,
        names,
        security,
    )
