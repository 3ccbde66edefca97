"""The event contract: ``config/contract.yaml`` resolved against the generator's settings.

The rules of a valid purchase are declared once, as data, and every validator reads the resolved
document: replay and the quality suite through this module, the Spark, Flink and Kafka Streams
jobs through the JSON file that :func:`write_contract` writes (``--contract FILE``). Nothing
here imports a third-party package besides PyYAML, so the Spark job can import it on a worker.

:func:`check_purchase` is the plain-Python validator of that document; the conformance kit and
replay use it, and each engine must give the same reason for the same record.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from streamstack import events
from streamstack.errors import ConfigError

ENV_CONTRACT_FILE = "STREAMSTACK_CONTRACT_FILE"
CHECK_KINDS = {"pattern", "range", "allowed", "total", "catalogue"}
STRUCTURAL_CODES = ("too_large", "not_json", "missing_field", "mistyped_field")
#: The checks of a product record, in the order they run (``products.codes`` maps each to its code).
PRODUCT_CHECKS = ("too_large", "not_json", "missing_field", "mistyped_field", "key_mismatch")
#: Encodings of a dead letter's payload: the text itself, or the bytes in base64 when they are not UTF-8.
PAYLOAD_ENCODINGS = ("utf-8", "base64")
_RANGE_KEYS = {"min", "max", "min_exclusive", "max_exclusive"}


def default_contract_file() -> Path:
    from streamstack.settings import Settings

    return Path(os.environ.get(ENV_CONTRACT_FILE) or Settings.from_env().config_dir / "contract.yaml")


# ------------------------------------------------------------------------------------ resolve
def _resolve_value(value: Any, generator: Any, product_ids: list[str], file: Path, key: str) -> Any:
    if isinstance(value, list):
        out: list[Any] = []
        for i, v in enumerate(value):
            item = _resolve_value(v, generator, product_ids, file, f"{key}[{i}]")
            # A reference to a list inside a list is spliced in: [0.0, {generator: non_member_discounts}].
            if isinstance(v, dict) and "generator" in v and isinstance(item, list):
                out.extend(item)
            else:
                out.append(item)
        return out
    if not isinstance(value, dict):
        return value
    if set(value) <= {"generator", "count"} and "generator" in value:
        name = value["generator"]
        if not hasattr(generator, name) or name in ("producer", "source", "catalogue_file"):
            raise ConfigError(f"unknown generator setting {name!r}", file=file, key=key)
        resolved = getattr(generator, name)
        if value.get("count"):
            return len(resolved)
        return list(resolved) if isinstance(resolved, tuple) else resolved
    if set(value) == {"catalogue"}:
        if value["catalogue"] != "product_ids":
            raise ConfigError(f"unknown catalogue reference {value['catalogue']!r}", file=file, key=key)
        return list(product_ids)
    return {k: _resolve_value(v, generator, product_ids, file, f"{key}.{k}") for k, v in value.items()}


def _check_check(check: Any, index: int, reasons: Mapping[str, str], fields: set[str], file: Path) -> None:
    key = f"purchase.checks[{index}]"
    if not isinstance(check, dict):
        raise ConfigError("a check must be a mapping", file=file, key=key)
    kind = check.get("kind")
    if kind not in CHECK_KINDS:
        raise ConfigError(f"kind {kind!r} is not one of {sorted(CHECK_KINDS)}", file=file, key=f"{key}.kind")
    if check.get("field") not in fields:
        raise ConfigError(f"field {check.get('field')!r} is not a purchase field", file=file, key=f"{key}.field")
    if check.get("code") not in reasons:
        raise ConfigError(f"code {check.get('code')!r} is not declared under reasons", file=file, key=f"{key}.code")
    allowed = {
        "pattern": {"pattern"},
        "range": _RANGE_KEYS,
        "allowed": {"by", "values"},
        "total": {"formula", "tolerance"},
        "catalogue": {"values"},
    }[kind] | {"kind", "field", "code"}
    unknown = sorted(set(check) - allowed)
    if unknown:
        raise ConfigError(f"unknown key(s) {unknown} for a {kind} check", file=file, key=key)
    if kind == "allowed" and (check.get("by") not in fields or set(check.get("values") or {}) != {"true", "false"}):
        raise ConfigError("an allowed check needs `by: <boolean field>` and values for 'true' and 'false'",
                          file=file, key=key)


def _check_products(products: Any, reasons: Mapping[str, str], file: Path) -> None:
    """The ``products`` section: which schema, key and dead-letter topic, and a code per check."""
    if not isinstance(products, dict):
        raise ConfigError("products must be a mapping (the checks of a product record)", file=file, key="products")
    unknown = sorted(set(products) - {"schema", "key_field", "dead_letters", "codes"})
    if unknown:
        raise ConfigError(f"unknown key(s) {unknown}", file=file, key="products")
    if products.get("schema") != "products":
        raise ConfigError("products.schema must be 'products'", file=file, key="products.schema")
    if products.get("key_field") not in {f.name for f in events.PRODUCT}:
        raise ConfigError(f"key_field {products.get('key_field')!r} is not a product field", file=file,
                          key="products.key_field")
    if events.SCHEMAS.get(products.get("dead_letters")) is not events.INVALID_PURCHASE:
        raise ConfigError("products.dead_letters must name the dead-letter topic 'purchases_invalid'", file=file,
                          key="products.dead_letters")
    codes = products.get("codes")
    if not isinstance(codes, dict) or set(codes) != set(PRODUCT_CHECKS):
        raise ConfigError(f"products.codes must map exactly {list(PRODUCT_CHECKS)} to reason codes", file=file,
                          key="products.codes")
    for check, code in codes.items():
        if code not in reasons:
            raise ConfigError(f"code {code!r} is not declared under reasons", file=file, key=f"products.codes.{check}")


def _check_positive(data: Mapping[str, Any], section: str, key: str, file: Path) -> None:
    """``section`` is a mapping of exactly ``key``, a whole number above zero."""
    value = data.get(section)
    if not isinstance(value, dict) or set(value) != {key}:
        raise ConfigError(f"{section} must be a mapping with exactly `{key}`", file=file, key=section)
    if not isinstance(value[key], int) or isinstance(value[key], bool) or value[key] < 1:
        raise ConfigError(f"{value[key]!r} is not a whole number above 0", file=file, key=f"{section}.{key}")


def _check_windows(windows: Any, reasons: Mapping[str, str], file: Path) -> None:
    """Whole minutes above zero, a size that is a multiple of the slide, a declared late code."""
    keys = {"size_minutes", "slide_minutes", "allowed_lateness_minutes", "late_code"}
    if not isinstance(windows, dict) or set(windows) != keys:
        raise ConfigError(f"windows must be a mapping with exactly {sorted(keys)}", file=file, key="windows")
    for key in ("size_minutes", "slide_minutes", "allowed_lateness_minutes"):
        value = windows[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < (0 if "lateness" in key else 1):
            raise ConfigError(f"{value!r} is not a whole number of minutes", file=file, key=f"windows.{key}")
    if windows["size_minutes"] % windows["slide_minutes"]:
        raise ConfigError(f"{windows['size_minutes']} is not a multiple of windows.slide_minutes "
                          f"({windows['slide_minutes']})", file=file, key="windows.size_minutes")
    if windows["late_code"] not in reasons:
        raise ConfigError(f"code {windows['late_code']!r} is not declared under reasons", file=file,
                          key="windows.late_code")


def resolve(data: Any, file: Path, generator: Any, product_ids: list[str]) -> dict[str, Any]:
    """The contract document with every reference replaced by its value, and the event schemas."""
    if not isinstance(data, dict):
        raise ConfigError("the contract must be a mapping", file=file)
    known = {"version", "timestamp", "epsilon", "records", "dead_letters", "reasons", "purchase", "products",
             "enrichment", "windows", "legacy"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown key(s) {unknown} (known: {sorted(known)})", file=file)
    reasons = data.get("reasons")
    if not isinstance(reasons, dict) or not all(code in reasons for code in STRUCTURAL_CODES):
        raise ConfigError(f"reasons must declare at least {list(STRUCTURAL_CODES)}", file=file, key="reasons")
    purchase = data.get("purchase") or {}
    if purchase.get("schema") != "purchases":
        raise ConfigError("purchase.schema must be 'purchases'", file=file, key="purchase.schema")
    fields = {f.name for f in events.PURCHASE}
    checks = purchase.get("checks")
    if not isinstance(checks, list) or not checks:
        raise ConfigError("purchase.checks must be a non-empty list", file=file, key="purchase.checks")
    for index, check in enumerate(checks):
        _check_check(check, index, reasons, fields, file)
    enrichment = data.get("enrichment") or {}
    if enrichment.get("missing_version_code") not in reasons:
        raise ConfigError("enrichment.missing_version_code must be a declared reason", file=file,
                          key="enrichment.missing_version_code")
    _check_products(data.get("products"), reasons, file)
    _check_windows(data.get("windows"), reasons, file)
    _check_positive(data, "records", "max_bytes", file)
    _check_positive(data, "dead_letters", "payload_max_chars", file)
    resolved = _resolve_value(data, generator, product_ids, file, "")
    resolved["source"] = {"contract": str(file), "generator": str(getattr(generator, "source", ""))}
    resolved["schemas"] = {name: events.describe(schema) for name, schema in events.SCHEMAS.items()}
    return resolved


def load_contract(
    path: Path | str | None = None, generator_config: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Read ``config/contract.yaml`` and resolve it against the generator settings and catalogue."""
    from streamstack.generator.catalogue import load_catalogue
    from streamstack.generator.config import load_config

    file = Path(path) if path else default_contract_file()
    from streamstack.config_files import load_yaml_text

    try:
        data = load_yaml_text(file.read_text(encoding="utf-8"), file)
    except OSError as exc:
        raise ConfigError(f"cannot read the event contract: {exc.strerror}", file=file) from exc
    generator = load_config(generator_config, environ)
    catalogue = load_catalogue(generator.catalogue_file)
    return resolve(data, file, generator, [p.product_id for p in catalogue.products])


def write_contract(target: Path | str, contract: dict[str, Any] | None = None) -> Path:
    """Write the resolved contract as JSON (what the jobs read); returns the path."""
    from streamstack.files import replace_text

    return replace_text(Path(target), json.dumps(contract or load_contract(), indent=2, sort_keys=False) + "\n")


def read_resolved(path: Path | str) -> dict[str, Any]:
    """A resolved contract written by :func:`write_contract`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------ the validator
def _check_by(contract: Mapping[str, Any], code: str) -> dict[str, Any] | None:
    return next((c for c in contract["purchase"]["checks"] if c["code"] == code), None)


def quantity_range(contract: Mapping[str, Any]) -> tuple[int, int]:
    check = next(c for c in contract["purchase"]["checks"] if c["kind"] == "range" and c["field"] == "quantity")
    return int(check["min"]), int(check["max"])


def allowed_values(contract: Mapping[str, Any], field: str) -> dict[bool, list[float]]:
    check = next(c for c in contract["purchase"]["checks"] if c["kind"] == "allowed" and c["field"] == field)
    return {True: [float(v) for v in check["values"]["true"]], False: [float(v) for v in check["values"]["false"]]}


def total_tolerance(contract: Mapping[str, Any]) -> float:
    check = next(c for c in contract["purchase"]["checks"] if c["kind"] == "total")
    return float(check["tolerance"])


def product_ids(contract: Mapping[str, Any]) -> list[str]:
    check = next(c for c in contract["purchase"]["checks"] if c["kind"] == "catalogue")
    return list(check["values"])


def window_spec(contract: Mapping[str, Any]) -> tuple[int, int, int]:
    """(size, slide, allowed lateness) of the sales windows, in milliseconds."""
    w = contract["windows"]
    return tuple(int(w[k]) * 60_000 for k in ("size_minutes", "slide_minutes", "allowed_lateness_minutes"))  # type: ignore[return-value]


def window_starts(epoch_ms: int, contract: Mapping[str, Any]) -> list[int]:
    """Starts (epoch ms) of the windows an event at ``epoch_ms`` is in, earliest first."""
    size, slide, _ = window_spec(contract)
    last = epoch_ms - epoch_ms % slide
    return [last - slide * n for n in reversed(range(size // slide))]


def late_for_windows(lines: Iterable[tuple[int, int, str]], contract: Mapping[str, Any]) -> set[tuple[int, int]]:
    """(partition, offset) of the valid lines that are late for the sales windows.

    ``lines``: (partition, offset, transaction_time) of every valid purchase record, in offset
    order per partition. A line is late when its time is more than ``allowed_lateness_minutes``
    behind the newest time of the valid lines before it on its partition: what Flink and Kafka
    Streams apply exactly (whatever order the partitions are read in); Spark's watermark is per
    micro-batch (docs/contract.md).
    """
    lateness = timedelta(minutes=int(contract["windows"]["allowed_lateness_minutes"]))
    newest: dict[int, datetime] = {}
    late: set[tuple[int, int]] = set()
    for partition, offset, time_text in lines:
        moment = events.parse_timestamp(time_text)
        latest = newest.get(partition)
        if latest is not None and moment < latest - lateness:
            late.add((partition, offset))
        if latest is None or moment > latest:
            newest[partition] = moment
    return late


def _type_ok(value: Any, logical: str, contract: Mapping[str, Any]) -> bool:
    if logical == "string":
        return isinstance(value, str)
    if logical in ("int", "long"):
        limit = 2**31 if logical == "int" else 2**63
        return isinstance(value, int) and not isinstance(value, bool) and -limit <= value < limit
    if logical == "double":
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if logical == "boolean":
        return isinstance(value, bool)
    if logical == "timestamp":
        if not isinstance(value, str) or len(value) != contract["timestamp"]["length"]:
            return False
        try:
            events.parse_timestamp(value)
        except ValueError:
            return False
        return True
    raise ValueError(f"unknown logical type {logical!r}")


def derive_identity(record: dict[str, Any], contract: Mapping[str, Any], partition: int | None,
                    offset: int | None) -> bool:
    """Fill in a legacy record's missing ``transaction_id``/``line_number``; True if anything was derived.

    Needs the record's Kafka coordinates for ``line_number``; without them (or past the limits of
    the contract) the field stays missing and the record is rejected as ``missing_field``.
    """
    legacy = contract.get("legacy") or {}
    if not legacy.get("accept"):
        return False
    derived = False
    if record.get("transaction_id") is None and "transaction_id" in legacy["derived_fields"]:
        time = record.get("transaction_time")
        if _type_ok(time, "timestamp", contract):
            moment = events.parse_timestamp(time)
            record["transaction_id"] = str(int(moment.timestamp()) * 1_000_000 + moment.microsecond)
            derived = True
    if record.get("line_number") is None and "line_number" in legacy["derived_fields"]:
        factor = int(legacy["line_number"]["offset_factor"])
        max_partitions = int(legacy["line_number"]["max_partitions"])
        if partition is not None and offset is not None and 0 <= partition < max_partitions:
            number = offset * factor + partition + 1
            if number < 2**31:
                record["line_number"] = number
                derived = True
    return derived


def check_purchase(
    payload: str | bytes | None, contract: Mapping[str, Any], partition: int | None = None,
    offset: int | None = None,
) -> tuple[dict[str, Any] | None, str | None, bool]:
    """Validate one raw purchase value: ``(record, reason, identity_derived)``.

    ``reason`` is ``None`` for a valid purchase, else ``"<code>: <detail>"`` of the first failing
    check in the contract's order. ``record`` is the parsed object (with a derived identity filled
    in) whenever the payload was a JSON object.
    """
    too_large = _too_large(payload, contract)
    if too_large:
        return None, f"too_large: {too_large}", False
    record = _parse_object(payload)
    if record is None:
        return None, "not_json: payload is not a JSON object", False
    derived = derive_identity(record, contract, partition, offset)
    reason = _field_reason(record, contract["schemas"]["purchases"], contract, "missing_field", "mistyped_field")
    if reason:
        return record, reason, derived
    eps = float(contract["epsilon"])
    for check in contract["purchase"]["checks"]:
        reason = _run_check(check, record, eps)
        if reason:
            return record, f"{check['code']}: {reason}", derived
    return record, None, derived


def _as_bytes(payload: str | bytes | None) -> bytes | None:
    return payload.encode("utf-8", errors="surrogatepass") if isinstance(payload, str) else payload


def _too_large(payload: str | bytes | None, contract: Mapping[str, Any]) -> str | None:
    """The detail of ``too_large`` when the value is longer than ``records.max_bytes``, else None."""
    size = len(_as_bytes(payload) or b"")
    limit = int(contract["records"]["max_bytes"])
    return f"{size} bytes, more than {limit}" if size > limit else None


def _parse_object(payload: str | bytes | None) -> dict[str, Any] | None:
    """The JSON object of a value; bytes must be UTF-8 (json.loads would also guess UTF-16 and -32)."""
    try:
        text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
        record = json.loads(text) if text is not None else None
    except (ValueError, UnicodeDecodeError):
        return None
    return record if isinstance(record, dict) else None


def dead_letter_payload(payload: str | bytes | None, contract: Mapping[str, Any]) -> dict[str, Any]:
    """The five payload fields of a dead letter (``events.INVALID_PURCHASE``) for a raw value.

    The text when the value is UTF-8, else base64 of its bytes; cut to ``dead_letters.payload_max_chars``
    code points, with the original size and SHA-256, so no dead letter can outgrow the broker's limit.
    """
    raw = _as_bytes(payload)
    if raw is None:
        return {"payload": None, "payload_encoding": None, "payload_truncated": None, "payload_bytes": None,
                "payload_sha256": None}
    try:
        text, encoding = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(raw).decode("ascii"), "base64"
    limit = int(contract["dead_letters"]["payload_max_chars"])
    return {"payload": text[:limit], "payload_encoding": encoding, "payload_truncated": len(text) > limit,
            "payload_bytes": len(raw), "payload_sha256": hashlib.sha256(raw).hexdigest()}


def _field_reason(record: Mapping[str, Any], schema: list[dict[str, Any]], contract: Mapping[str, Any],
                  missing: str, mistyped: str) -> str | None:
    """The structural reason of a parsed record: the first missing field, then the first mistyped one."""
    for f in schema:
        if record.get(f["name"]) is None and not f["nullable"]:
            return f"{missing}: {f['name']}"
    for f in schema:
        value = record.get(f["name"])
        if value is not None and not _type_ok(value, f["type"], contract):
            return f"{mistyped}: {f['name']} is not a {f['type']}"
    return None


def product_codes(contract: Mapping[str, Any]) -> dict[str, str]:
    """Check -> reason code of a product record (``products.codes``)."""
    return dict(contract["products"]["codes"])


def check_product(
    payload: str | bytes | None, contract: Mapping[str, Any], key: str | bytes | None = None,
) -> tuple[dict[str, Any] | None, str | None]:
    """Validate one raw record of the products topic: ``(record, reason)``.

    ``reason`` is ``None`` for a valid product version, else ``"<code>: <detail>"`` of the first
    failing check (``products`` in the contract): not a JSON object, a missing field, a mistyped
    field, a record key other than the ``key_field``. A record with a reason is not a version:
    every engine dead-letters it and no purchase joins it.
    """
    section = contract["products"]
    codes = section["codes"]
    too_large = _too_large(payload, contract)
    if too_large:
        return None, f"{codes['too_large']}: {too_large}"
    record = _parse_object(payload)
    if record is None:
        return None, f"{codes['not_json']}: payload is not a JSON object"
    reason = _field_reason(record, contract["schemas"][section["schema"]], contract,
                           codes["missing_field"], codes["mistyped_field"])
    if reason:
        return record, reason
    if isinstance(key, bytes):
        key = key.decode("utf-8", errors="replace")
    if key != record[section["key_field"]]:
        return record, f"{codes['key_mismatch']}: {section['key_field']} is not the record key"
    return record, None


def _run_check(check: Mapping[str, Any], record: Mapping[str, Any], eps: float) -> str | None:
    name, kind = check["field"], check["kind"]
    value = record[name]
    if kind == "pattern":
        return None if re.fullmatch(check["pattern"], value) else f"{name} {value!r} does not match {check['pattern']}"
    if kind == "range":
        ok = (
            ("min" not in check or value >= check["min"])
            and ("max" not in check or value <= check["max"])
            and ("min_exclusive" not in check or value > check["min_exclusive"])
            and ("max_exclusive" not in check or value < check["max_exclusive"])
        )
        if ok:
            return None
        bounds = ", ".join(f"{k} {check[k]}" for k in ("min", "max", "min_exclusive", "max_exclusive") if k in check)
        return f"{name} {value} outside {bounds}"
    if kind == "allowed":
        flag = record[check["by"]]
        allowed = check["values"]["true" if flag else "false"]
        if any(abs(value - float(v)) <= eps for v in allowed):
            return None
        return f"{name} {value} not allowed when {check['by']} is {str(flag).lower()} (allowed: {allowed})"
    if kind == "total":
        expected = events.total_purchase(record["price"], record["quantity"], record["supplement_price"],
                                         record["member_discount"])
        if abs(value - expected) <= float(check["tolerance"]) + eps:
            return None
        return f"{name} {value}, formula gives {expected:.2f}"
    if kind == "catalogue":
        return None if value in check["values"] else f"{name} {value!r} is not in the catalogue"
    raise ValueError(f"unknown check kind {kind!r}")
