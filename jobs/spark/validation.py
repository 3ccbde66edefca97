"""Schemas and purchase validation of the Spark jobs, built from the resolved event contract.

The contract (``config/contract.yaml``, resolved by ``streamstack contract write``) is plain
JSON: the field lists of every event and the ordered purchase checks. This module turns it into
Spark column expressions and keeps no rule or number of its own, so the Spark jobs accept exactly
what replay, the quality gate and the other engines accept. Bad input never stops a job: the
validation turns it into a reason, not an exception. A value is looked at as bytes first: one
over ``records.max_bytes`` or not UTF-8 is never parsed (Spark would parse invalid UTF-8 with
replacement characters), and a dead letter carries the value bounded (``dead_letters``), so no
record can make a write exceed the broker's limit.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

CORRUPT = "_corrupt_record"
#: Spark's JSON reader also takes {'a': 1}; JSON (and the reference, Python's json) does not.
JSON_OPTIONS = {"columnNameOfCorruptRecord": CORRUPT, "allowSingleQuotes": "false"}
#: A purchase line's identity: a line sent twice is one line (Pinot's dedup key too).
IDENTITY = ("transaction_id", "line_number")
#: The dead-letter fields that keep the original value, bounded (``contract.dead_letter_payload``).
PAYLOAD_FIELDS = ("payload", "payload_encoding", "payload_truncated", "payload_bytes", "payload_sha256")

_SPARK_TYPES: dict[str, T.DataType] = {
    "string": T.StringType(),
    "int": T.IntegerType(),
    "long": T.LongType(),
    "double": T.DoubleType(),
    "boolean": T.BooleanType(),
    "timestamp": T.StringType(),  # kept as the event's text; validated and parsed explicitly
}


class Contract:
    """The resolved contract document, with the accessors the jobs need."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.ts_pattern: str = doc["timestamp"]["java"]
        self.ts_length: int = int(doc["timestamp"]["length"])
        self.epsilon: float = float(doc["epsilon"])
        self.checks: list[dict[str, Any]] = doc["purchase"]["checks"]
        self.legacy: dict[str, Any] = doc.get("legacy") or {}
        self.missing_version_code: str = doc["enrichment"]["missing_version_code"]
        self.max_bytes: int = int(doc["records"]["max_bytes"])
        self.payload_max_chars: int = int(doc["dead_letters"]["payload_max_chars"])

    @classmethod
    def read(cls, path: str | Path) -> Contract:
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def fields(self, schema: str) -> list[dict[str, Any]]:
        return self.doc["schemas"][schema]

    def names(self, schema: str) -> list[str]:
        return [f["name"] for f in self.fields(schema)]


# ---------------------------------------------------------------- schemas and value helpers
def struct_type(fields: list[dict[str, Any]]) -> T.StructType:
    """The Spark schema of an event type; timestamps stay strings (their text is the contract)."""
    return T.StructType([T.StructField(f["name"], _SPARK_TYPES[f["type"]], True) for f in fields])


def _raw_struct_type(fields: list[dict[str, Any]]) -> T.StructType:
    """Every field as text plus the corrupt-record column: tells missing from mistyped from not-JSON."""
    return T.StructType(
        [T.StructField(f["name"], T.StringType(), True) for f in fields] + [T.StructField(CORRUPT, T.StringType(), True)]
    )


def _typed_struct_type(fields: list[dict[str, Any]]) -> T.StructType:
    return T.StructType([*struct_type(fields).fields, T.StructField(CORRUPT, T.StringType(), True)])


def parse_ts(col: Column, contract: Contract) -> Column:
    """Event timestamp text -> TIMESTAMP (UTC session), null when not exactly the event format."""
    # Year 0000 parses in Java but is no date in Python's datetime (the reference): refused, as Flink does.
    return F.when((F.length(col) == contract.ts_length) & (F.substring(col, 1, 4) != F.lit("0000")),
                  F.try_to_timestamp(col, F.lit(contract.ts_pattern)))


def format_ts(col: Column, contract: Contract) -> Column:
    return F.date_format(col, contract.ts_pattern)


def money(col: Column) -> Column:
    """Money as DECIMAL(12,2): exact sums, and JSON keeps 2 decimals (``2.10``) as in PRODUCT.md."""
    return F.round(col.cast("decimal(14,4)"), 2).cast("decimal(12,2)")


def _raw_ok(raw_col: str, logical: str, contract: Contract) -> Column:
    """Whether the text of a JSON value can be the logical type (the typed parse catches quoted ones)."""
    raw = F.col(raw_col)
    if logical in ("int", "long"):
        target = "int" if logical == "int" else "bigint"
        return raw.rlike(r"^-?[0-9]+$") & F.expr(f"try_cast(`{raw_col}` AS {target})").isNotNull()
    if logical == "double":
        return raw.rlike(r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")
    if logical == "boolean":
        return raw.isin("true", "false")
    if logical == "timestamp":
        return parse_ts(raw, contract).isNotNull()
    return F.lit(True)


def _unquoted(name: str, typed: Column) -> Column:
    """Whether a string field's value was a JSON number or boolean, which Spark's reader turns into text.

    ``"transaction_id": 12`` is read as the string "12"; the reference (and every other engine) says
    ``mistyped_field``. Only a value that looks like such a literal is looked up in the record's text:
    its key followed by a quote. (A nested object with the same key could mislead it: no real record.)
    """
    literal = typed.rlike(r'^"?(-?[0-9][0-9.eE+-]*|[-+]?Infinity|NaN|true|false)"?$')  # -Infinity comes quoted
    quoted = F.col("_text").rlike(r'"' + re.escape(name) + r'"\s*:\s*"')
    return typed.isNotNull() & literal & ~quoted


# ---------------------------------------------------------------- raw values (bytes)
def _utf8_text(value: Column) -> tuple[Column, Column]:
    """(the value as text, whether its bytes are strict UTF-8); both null for a null value.

    ``cast("string")`` never fails on bad bytes, and ``decode(value, 'UTF-8')`` raises
    MALFORMED_CHARACTER_CODING in Spark 4 (it would fail the batch), so validity is asked of the
    text: ``is_valid_utf8`` rejects what Python's strict decoder rejects (overlongs, surrogates).
    """
    text = value.cast("string")
    return text, F.is_valid_utf8(text)


def too_large(value: Column, code: str, contract: Contract) -> tuple[Column, Column]:
    """(failed, reason) of the size check: more than ``records.max_bytes`` bytes, the first check."""
    size = F.octet_length(value)
    return size > F.lit(contract.max_bytes), F.format_string(f"{code}: %d bytes, more than {contract.max_bytes}", size)


def parseable_text(value: Column, contract: Contract) -> Column:
    """The value as text when it may be parsed (within the size limit, UTF-8), else null (not JSON)."""
    text, utf8 = _utf8_text(value)
    return F.when((F.octet_length(value) <= F.lit(contract.max_bytes)) & utf8, text)


def payload_columns(value: Column, contract: Contract) -> dict[str, Column]:
    """The five payload fields of a dead letter for a raw (binary) value, as ``dead_letter_payload``.

    UTF-8 text is cut to ``payload_max_chars`` code points (Spark's string length counts code
    points); other bytes are base64 of just the head that can show. Spark's ``base64`` wraps its
    output every 76 characters (MIME); the line breaks are removed, as the alphabet has none.
    """
    limit = contract.payload_max_chars
    text, utf8 = _utf8_text(value)
    size = F.octet_length(value)
    head = F.substring(value, 1, -(-limit // 4) * 3)
    b64 = F.substring(F.translate(F.base64(head), "\r\n", ""), 1, limit)
    b64_chars = F.floor((size + F.lit(2)) / F.lit(3)) * F.lit(4)
    return {
        "payload": F.when(utf8, F.substring(text, 1, limit)).otherwise(b64),
        "payload_encoding": F.when(value.isNotNull(), F.when(utf8, F.lit("utf-8")).otherwise(F.lit("base64"))),
        "payload_truncated": F.when(utf8, F.length(text) > F.lit(limit)).otherwise(b64_chars > F.lit(limit)),
        "payload_bytes": size.cast("long"),
        "payload_sha256": F.sha2(value, 256),
    }


# ---------------------------------------------------------------- the contract's checks
def _in_set(col: Column, values: list[Any], eps: float) -> Column:
    cond = F.lit(False)
    for v in values:
        cond = cond | (F.abs(col - F.lit(float(v))) <= F.lit(eps))
    return cond


def _check(check: dict[str, Any], col: dict[str, Column], eps: float) -> tuple[Column, Column]:
    """(failed, reason text) of one contract check over the typed columns."""
    name, code, kind = check["field"], check["code"], check["kind"]
    value = col[name]
    if kind == "pattern":
        # Anchored as Python's re.fullmatch: Java's `$` also matches before a final newline ("123\n").
        return ~value.rlike(r"\A(?:" + check["pattern"] + r")\z"), F.format_string(
            f"{code}: {name} '%s' does not match {check['pattern']}", value
        )
    if kind == "range":
        ok = F.lit(True)
        bounds = []
        for key, op in (("min", "__ge__"), ("max", "__le__"), ("min_exclusive", "__gt__"), ("max_exclusive", "__lt__")):
            if key in check:
                ok = ok & getattr(value, op)(F.lit(check[key]))
                bounds.append(f"{key} {check[key]}")
        return ~ok, F.format_string(f"{code}: {name} %s outside {', '.join(bounds)}", value)
    if kind == "allowed":
        by = col[check["by"]]
        when_true, when_false = check["values"]["true"], check["values"]["false"]
        ok = F.when(by, _in_set(value, when_true, eps)).otherwise(_in_set(value, when_false, eps))
        return ~ok, F.format_string(
            f"{code}: {name} %s not allowed when {check['by']} is %s", value, F.lower(by.cast("string"))
        )
    if kind == "total":
        expected = F.round(col["quantity"] * (col["price"] + col["supplement_price"]) * (1 - col["member_discount"]), 2)
        return F.abs(value - expected) > F.lit(float(check["tolerance"]) + eps), F.format_string(
            f"{code}: {name} %s, formula gives %.2f", value, expected
        )
    if kind == "catalogue":
        return ~value.isin(list(check["values"])), F.format_string(f"{code}: {name} '%s' is not in the catalogue", value)
    raise ValueError(f"contract check kind {kind!r} is not known to the Spark jobs")


def _derived_line_number(contract: Contract) -> Column:
    """A legacy line's line_number from its Kafka coordinates (contract ``legacy.line_number``)."""
    rule = contract.legacy.get("line_number") or {}
    factor, max_partitions = int(rule.get("offset_factor", 16)), int(rule.get("max_partitions", 16))
    number = F.col("source_offset") * F.lit(factor) + F.col("source_partition") + F.lit(1)
    return F.when((F.col("source_partition") < max_partitions) & (number < F.lit(2**31)), number.cast("int"))


def validate_purchases(kafka_rows: DataFrame, contract: Contract) -> DataFrame:
    """Parse Kafka rows of purchases; add ``reason`` (null when valid) and the typed fields.

    Output columns: ``source_topic, source_partition, source_offset, value`` (the raw bytes: a
    dead letter bounds them itself, see ``dead_letter_value``), ``reason``, every purchase field
    (typed; ``transaction_time`` as text; a legacy record's derived identity filled in),
    ``identity_derived`` and ``transaction_ts`` (TIMESTAMP). The first failing check in the
    contract's order gives the reason, so each record has exactly one.

    A value over ``records.max_bytes`` is ``too_large`` and one that is not UTF-8 ``not_json``;
    neither is parsed. One typed parse for every other record. Only a *suspicious* record (not an
    object, a value that does not fit its type, a null or missing field, a NaN/Infinity double) is
    parsed a second time, all fields as text, to tell missing from mistyped from not-JSON; for any
    other record those checks cannot fail, so only the timestamp format and the contract's value
    checks run.
    """
    fields = contract.fields("purchases")
    df = kafka_rows.select(
        F.col("topic").alias("source_topic"),
        F.col("partition").alias("source_partition"),
        F.col("offset").alias("source_offset"),
        F.col("value"),
        parseable_text(F.col("value"), contract).alias("_text"),
    )
    df = df.select(
        "*", F.from_json("_text", _typed_struct_type(fields), JSON_OPTIONS).alias("_t")
    )
    t = F.col("_t")
    suspicious = t.isNull() | F.col(f"_t.{CORRUPT}").isNotNull()
    for f in fields:
        suspicious = suspicious | F.col(f"_t.{f['name']}").isNull()
        if f["type"] == "double":
            v = F.col(f"_t.{f['name']}")
            suspicious = suspicious | F.isnan(v) | v.isin(float("inf"), float("-inf"))
        if f["type"] == "string":
            suspicious = suspicious | _unquoted(f["name"], F.col(f"_t.{f['name']}"))
    # The text parse sits inside the CASE branch, so a clean record never pays for it.
    raw = F.when(suspicious, F.from_json("_text", _raw_struct_type(fields), JSON_OPTIONS))
    ts_fields = [f["name"] for f in fields if f["type"] == "timestamp"]
    df = df.select(
        "*",
        suspicious.alias("_suspicious"),
        raw.alias("_r"),
        *[parse_ts(F.col(f"_t.{name}"), contract).alias(f"_ts_{name}") for name in ts_fields],
    )
    df = df.select("*", *[F.col(f"_r.{f['name']}").alias(f"_raw_{f['name']}") for f in fields])

    # Legacy purchases (the original demo's schema): a missing identity field is derived.
    derivable = set(contract.legacy.get("derived_fields") or []) if contract.legacy.get("accept") else set()
    absent = {name: F.col("_suspicious") & F.col("_r").isNotNull() & F.col(f"_raw_{name}").isNull() for name in derivable}
    derived_value: dict[str, Column] = {}
    if "line_number" in derivable:
        derived_value["line_number"] = F.when(absent["line_number"], _derived_line_number(contract))
    if "transaction_id" in derivable:
        micros = F.unix_micros(F.col("_ts_transaction_time")).cast("string")
        derived_value["transaction_id"] = F.when(absent["transaction_id"], micros)
    df = df.select(
        "*",
        *[F.coalesce(F.col(f"_t.{n}"), derived_value[n]).alias(f"_v_{n}") for n in derived_value],
    )
    col: dict[str, Column] = {f["name"]: F.col(f"_t.{f['name']}") for f in fields}
    for n in derived_value:
        col[n] = F.col(f"_v_{n}")
    identity_derived = F.lit(False)
    for n in derived_value:
        identity_derived = identity_derived | (absent[n] & derived_value[n].isNotNull())

    early: list[tuple[Column, Column]] = [
        too_large(F.col("value"), "too_large", contract),
        (
            F.col("_r").isNull() | F.col(f"_r.{CORRUPT}").isNotNull(),
            F.lit("not_json: payload is not a JSON object"),
        )
    ]
    for f in fields:
        name = f["name"]
        missing = F.col(f"_raw_{name}").isNull()
        if name in derived_value:
            missing = missing & col[name].isNull()
        if not f["nullable"]:
            early.append((missing, F.lit(f"missing_field: {name}")))
    typed_checks: list[tuple[Column, Column]] = []
    clean_checks: list[tuple[Column, Column]] = []
    for f in fields:
        name = f["name"]
        text = F.lit(f"mistyped_field: {name} is not a {f['type']}")
        present = F.col(f"_raw_{name}").isNotNull()
        wrong = ~_raw_ok(f"_raw_{name}", f["type"], contract) | F.col(f"_t.{name}").isNull()
        if f["type"] == "string":
            wrong = wrong | _unquoted(name, F.col(f"_t.{name}"))
        typed_checks.append((present & wrong, text))
        if f["type"] == "timestamp":  # a string in the typed parse: its format is checked for every record
            clean_checks.append((F.col(f"_ts_{name}").isNull(), text))
    late = [_check(check, col, contract.epsilon) for check in contract.checks]
    # A flat coalesce of WHENs, not 40 nested CASEs: same "first failing check" result, smaller code.
    full = F.coalesce(*[F.when(cond, reason) for cond, reason in early + typed_checks + late])
    clean = F.coalesce(*[F.when(cond, reason) for cond, reason in clean_checks + late])
    reason = F.when(F.col("_suspicious"), full).otherwise(clean)
    return df.select(
        "source_topic",
        "source_partition",
        "source_offset",
        "value",
        reason.alias("reason"),
        *[col[f["name"]].alias(f["name"]) for f in fields],
        identity_derived.alias("identity_derived"),
        F.col("_ts_transaction_time").alias("transaction_ts"),
    )


# ---------------------------------------------------------------- product records
def _variant_type_ok(value: Column, kind: Column, logical: str, contract: Contract) -> Column:
    """Whether a JSON value (a VARIANT and its ``schema_of_variant``) has the logical type.

    The variant keeps JSON's own types, so a number in a string field is told from a string
    (a text parse would read ``42`` as ``"42"``), as the reference validator does.
    """
    if logical == "string":
        return kind == "STRING"
    if logical == "boolean":
        return kind == "BOOLEAN"
    if logical == "int":
        return (kind == "BIGINT") & F.try_variant_get(value, "$", "int").isNotNull()
    if logical == "long":
        return kind == "BIGINT"
    if logical == "double":
        return kind.isin("BIGINT", "DOUBLE", "FLOAT") | kind.startswith("DECIMAL")
    if logical == "timestamp":
        return (kind == "STRING") & parse_ts(F.try_variant_get(value, "$", "string"), contract).isNotNull()
    raise ValueError(f"unknown logical type {logical!r}")


def validate_products(kafka_rows: DataFrame, contract: Contract) -> DataFrame:
    """Check each record of the products topic (the contract's ``products``); add ``reason`` and typed fields.

    Output columns: ``source_topic, source_partition, source_offset``, the five bounded
    ``PAYLOAD_FIELDS`` (the catalogue is collected to the driver: never the raw value), ``reason``
    (null for a valid product version), every product field typed (timestamps as text) and
    ``valid_from`` (the ``event_time`` as TIMESTAMP). The first failing check gives the reason:
    over the size limit (not parsed), not a JSON object (bytes that are not UTF-8 included), a
    missing or null field, a mistyped field (schema order), a key other than the ``key_field``.
    Products are few (tens per catalogue publish), so this favours exactness over speed.
    """
    section = contract.doc["products"]
    codes, key_field = section["codes"], section["key_field"]
    fields = contract.fields(section["schema"])
    df = kafka_rows.select(
        F.col("topic").alias("source_topic"),
        F.col("partition").alias("source_partition"),
        F.col("offset").alias("source_offset"),
        F.col("key").cast("string").alias("_key"),
        F.col("value"),
        *[c.alias(n) for n, c in payload_columns(F.col("value"), contract).items()],
        F.try_parse_json(parseable_text(F.col("value"), contract)).alias("_v"),
    )
    values = {f["name"]: F.try_variant_get(F.col("_v"), f"$.{f['name']}", "variant") for f in fields}
    df = df.select(
        "*",
        F.schema_of_variant("_v").alias("_root"),
        *[values[f["name"]].alias(f"_x_{f['name']}") for f in fields],
    )
    df = df.select("*", *[F.schema_of_variant(f"_x_{f['name']}").alias(f"_k_{f['name']}") for f in fields])
    checks: list[tuple[Column, Column]] = [
        too_large(F.col("value"), codes["too_large"], contract),
        (F.col("_v").isNull() | ~F.coalesce(F.col("_root").startswith("OBJECT<"), F.lit(False)),
         F.lit(f"{codes['not_json']}: payload is not a JSON object")),
    ]
    for f in fields:
        if not f["nullable"]:
            value = F.col(f"_x_{f['name']}")
            checks.append((value.isNull() | F.is_variant_null(value), F.lit(f"{codes['missing_field']}: {f['name']}")))
    for f in fields:
        value, kind = F.col(f"_x_{f['name']}"), F.col(f"_k_{f['name']}")
        present = value.isNotNull() & ~F.is_variant_null(value)
        checks.append((present & ~_variant_type_ok(value, kind, f["type"], contract),
                       F.lit(f"{codes['mistyped_field']}: {f['name']} is not a {f['type']}")))
    key_value = F.try_variant_get(F.col("_v"), f"$.{key_field}", "string")
    checks.append((F.col("_key").isNull() | (F.col("_key") != key_value),
                   F.lit(f"{codes['key_mismatch']}: {key_field} is not the record key")))
    reason = F.coalesce(*[F.when(cond, text) for cond, text in checks])
    typed = {
        f["name"]: F.try_variant_get(F.col("_v"), f"$.{f['name']}", _SPARK_TYPES[f["type"]].simpleString())
        for f in fields
    }
    return df.select(
        "source_topic", "source_partition", "source_offset", *PAYLOAD_FIELDS, reason.alias("reason"),
        *[typed[f["name"]].alias(f["name"]) for f in fields],
        parse_ts(typed["event_time"], contract).alias("valid_from"),
    )


# ---------------------------------------------------------------- serialisation
def dead_letter_value(rejected_by: str, contract: Contract, payload: dict[str, Column] | None = None) -> Column:
    """The dead-letter JSON of a row with ``source_*`` and ``reason`` (purchases_invalid order).

    ``payload``: the five ``PAYLOAD_FIELDS``; by default computed from the row's raw ``value``, in
    the expression itself, so only a rejected row pays for the hash and the cut.
    """
    exprs = {
        "source_topic": F.col("source_topic"),
        "source_partition": F.col("source_partition"),
        "source_offset": F.col("source_offset"),
        "rejected_at": format_ts(F.current_timestamp(), contract),
        "rejected_by": F.lit(rejected_by),
        "reason": F.col("reason"),
        **(payload or payload_columns(F.col("value"), contract)),
    }
    names = contract.names("purchases_invalid")
    if set(exprs) != set(names):
        raise RuntimeError(f"dead-letter columns {sorted(exprs)} differ from the contract's purchases_invalid {names}")
    return F.to_json(F.struct(*[exprs[n].alias(n) for n in names]), {"ignoreNullFields": "false"})


def json_value(exprs: dict[str, Column], names: list[str]) -> Column:
    """``exprs`` serialised as one JSON object in the field order ``names`` (an event's schema)."""
    if list(exprs) != names:
        raise RuntimeError(f"output columns {list(exprs)} differ from the event schema {names}")
    return F.to_json(F.struct(*[exprs[n].alias(n) for n in names]))


def kafka_key(exprs: dict[str, Column], key: str | tuple[str, ...]) -> Column:
    """The record key: a column, or several fields of ``exprs`` as a JSON object in that order
    (``config/topics.yaml``'s composite key, as Flink's json key format writes it)."""
    if isinstance(key, str):
        return F.col(key).cast("string")
    return F.to_json(F.struct(*[exprs[name].alias(name) for name in key]))


def to_kafka_value(df: DataFrame, exprs: dict[str, Column], names: list[str], key: str | tuple[str, ...]) -> DataFrame:
    """Serialise ``exprs`` in the order ``names`` as ``key``/``value`` for the Kafka sink."""
    return df.select(kafka_key(exprs, key).alias("key"), json_value(exprs, names).alias("value"))
