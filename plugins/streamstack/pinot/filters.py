"""Pinot ingestion filters generated from the event contract (``config/contract.yaml``).

A Pinot table that reads a topic whose records the engines validate themselves (the products
topic) must not ingest what every engine dead-letters. Pinot 0.11 cannot call the engines'
validator, so :func:`contract_filter` writes the contract's structural checks of that record kind
as a Pinot ``filterConfig.filterFunction``: an expression of Pinot's built-in scalar functions
(no Groovy) that is TRUE for a record to drop. The rules stay declared once, in the contract; the
expression is derived from its field schema and timestamp format every time the tables are
rendered.

What the expression checks, field by field in schema order, exactly as
``streamstack.contract.check_product`` does: a field that is not nullable is absent or null
(``missing_field``); a present value does not have its field's logical type (``mistyped_field``).
The type test looks at the value's JSON text (``jsonFormat``), so ``"1.5"`` is no double, ``1.0``
no int and ``"yes"`` no boolean, as in Python; a timestamp must be the contract's format with a
real calendar date (leap years included).

What Pinot 0.11 cannot check, because its Kafka consumer hands the decoder neither the record key
nor the raw value: ``key_mismatch`` (the key is not the ``key_field``) and ``too_large``. A value
that is not a JSON object never reaches the filter: Pinot's JSON decoder drops it. Pinot drops a
filtered record without a trace; the engines dead-letter it with its reason, so the record still
has exactly one outcome, its dead letter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from streamstack.errors import ConfigError

#: The JSON text of a value of each logical type (Java regexes, matched with ``find``: anchored).
_NUMBER = "^-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][-+]?[0-9]+)?$"
_INTEGER = "^-?(0|[1-9][0-9]*)$"
TYPE_PATTERNS = {
    "string": '^"',
    # Pinot's JSON record reader hands a JSON boolean over as the text "true"/"false".
    "boolean": '^"(true|false)"$',
    "int": _INTEGER,
    "double": _NUMBER,
}
#: int is 32-bit (``contract._type_ok``); a JSON integer of at most 11 characters fits a Java long,
#: so the numeric comparison never sees a BigInteger.
INT_RANGE = (-(2**31), 2**31 - 1)
INT_MAX_CHARS = 11

#: strptime directives of the contract's timestamp format, as the fixed-width text Java writes.
_DIRECTIVES = {
    "%H": "([01][0-9]|2[0-3])",
    "%M": "[0-5][0-9]",
    "%S": "[0-5][0-9]",
    "%f": "[0-9]{6}",
}
#: ``%Y-%m-%d`` as a real date of years 0001-9999: month lengths, and 29 February in leap years only.
_DATE = (
    "(?!0000)("
    "[0-9]{4}-("
    "(0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])"
    "|(0[469]|11)-(0[1-9]|[12][0-9]|30)"
    "|02-(0[1-9]|1[0-9]|2[0-8]))"
    "|([0-9]{2}(0[48]|[2468][048]|[13579][26])|([02468][048]|[13579][26])00)-02-29"
    ")"
)
_WIDTHS = {"%Y-%m-%d": 10, "%H": 2, "%M": 2, "%S": 2, "%f": 6}


def timestamp_pattern(python_format: str, length: int) -> str:
    """The JSON text of a timestamp in ``python_format`` (a quoted string) as an anchored regex.

    Only fixed-width directives are supported (``%Y-%m-%d`` together, ``%H %M %S %f``), and the
    width must be the contract's ``timestamp.length``; anything else is a ConfigError, not a
    filter that lets wrong timestamps through.
    """
    out, width, rest = [], 0, python_format
    while rest:
        if rest.startswith("%Y-%m-%d"):
            out.append(_DATE)
            width += _WIDTHS["%Y-%m-%d"]
            rest = rest[len("%Y-%m-%d"):]
        elif rest[:2] in _DIRECTIVES:
            out.append(_DIRECTIVES[rest[:2]])
            width += _WIDTHS[rest[:2]]
            rest = rest[2:]
        elif rest.startswith("%"):
            raise ConfigError(f"timestamp format {python_format!r}: {rest[:2]!r} has no Pinot filter form "
                              "(supported: %Y-%m-%d, %H, %M, %S, %f)", key="timestamp.python")
        else:
            out.append(re.escape(rest[0]) if rest[0] not in " -:" else rest[0])
            width += 1
            rest = rest[1:]
    if width != length:
        raise ConfigError(f"timestamp format {python_format!r} is {width} characters, not timestamp.length {length}",
                          key="timestamp.length")
    return '^"' + "".join(out) + '"$'


def _literal(text: str) -> str:
    """A SQL string literal (Pinot parses the filter as a SQL expression: quotes doubled, no escapes)."""
    return "'" + text.replace("'", "''") + "'"


def _not_matching(column: str, pattern: str) -> str:
    """TRUE when the JSON text of ``column`` does not match ``pattern`` (regexpExtract gives '' then)."""
    return f"strcmp(regexpExtract(jsonFormat({column}), {_literal(pattern)}), '') = 0"


def _mistyped(column: str, logical: str, contract: Mapping[str, Any]) -> str:
    if logical == "timestamp":
        stamp = contract["timestamp"]
        return _not_matching(column, timestamp_pattern(stamp["python"], int(stamp["length"])))
    if logical == "int":
        low, high = INT_RANGE
        # OR stops at the first TRUE: the comparisons only see short JSON integers.
        return (f"{_not_matching(column, TYPE_PATTERNS['int'])} OR length(jsonFormat({column})) > {INT_MAX_CHARS}"
                f" OR {column} < {low} OR {column} > {high}")
    if logical in TYPE_PATTERNS:
        return _not_matching(column, TYPE_PATTERNS[logical])
    raise ConfigError(f"field {column!r}: type {logical!r} has no Pinot filter form "
                      f"(supported: {sorted([*TYPE_PATTERNS, 'timestamp'])})")


def _column(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ConfigError(f"field {name!r} cannot be named in a Pinot filter")
    return name


def contract_filter(contract: Mapping[str, Any], section: str = "products") -> str:
    """The Pinot ``filterFunction`` that is TRUE for a record of ``section`` the contract rejects.

    :param contract: the resolved contract (``streamstack.contract.load_contract``).
    :param section: the contract section whose record kind the table reads (``products``).
    """
    schema = contract["schemas"][contract[section]["schema"]]
    missing = [f"isNull({_column(f['name'])})" for f in schema if not f["nullable"]]
    mistyped = []
    for f in schema:
        check = _mistyped(_column(f["name"]), f["type"], contract)
        # A nullable field that is absent is fine; AND stops at the first FALSE.
        mistyped.append(f"({check})" if not f["nullable"] else f"(isNotNull({f['name']}) AND ({check}))")
    # Missing fields first: OR stops at the first TRUE, so no type test sees a null.
    return " OR ".join(missing + mistyped)
