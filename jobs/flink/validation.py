"""Purchase validation as Flink SQL, generated from the resolved event contract (no Python UDF).

``checked_view_sql(contract)`` returns one ``CREATE TEMPORARY VIEW`` whose rows carry the reason
of the first failing check (null when valid) and the typed fields, with the reason codes *and*
detail strings of the reference validator ``streamstack.contract.check_purchase``: the same
order (too_large on the value's bytes, not_json, missing_field, mistyped_field in schema order,
then the contract's checks) and the same text, Python's ``repr``/``str`` of the values included.
Nothing here imports PyFlink, so the generated SQL can be unit-tested; the Flink tier compares it
with the reference record by record on a real (local) Flink runtime. SQL expressions run in the JVM: a Python UDF costs about
twice as much per record (RUNTIME.md section 4).

How a value's JSON type is known: ``JSON_QUERY(payload, '$.f' WITH ARRAY WRAPPER)`` gives the
value's own JSON text in brackets (``["abc"]``, ``[12]``, ``[1.50]``, ``[true]``, ``[[1]]``),
null when the field is absent or null, so a quoted ``"2"`` is told from ``2`` and ``2.5``.
Python's ``json`` also reads the literals ``NaN`` and ``Infinity`` (Jackson does not): outside a
valid JSON object they are replaced by an empty object, which every field type rejects exactly
as Python rejects a non-finite number, so such a record is ``mistyped_field``, not ``not_json``.

Known differences from the reference, all in detail strings of absurd values only: control
characters other than newline, carriage return and tab in a string's ``repr``; ``-0.0``; and
doubles whose Java shortest representation differs from Python's (JDK 17 prints a few values
with one digit more).
"""

from __future__ import annotations

from typing import Any

TS_SQL = "yyyy-MM-dd HH:mm:ss.SSSSSS"
CHECKED_FIELDS = [
    ("reason", "STRING"), ("identity_derived", "BOOLEAN"), ("transaction_time", "STRING"),
    ("transaction_ms", "BIGINT"), ("transaction_id", "STRING"), ("line_number", "INT"), ("product_id", "STRING"),
    ("price", "DOUBLE"), ("quantity", "INT"), ("is_member", "BOOLEAN"), ("member_discount", "DOUBLE"),
    ("add_supplements", "BOOLEAN"), ("supplement_price", "DOUBLE"), ("total_purchase", "DOUBLE"),
]
_SQL_OF = {"string": "STRING", "timestamp": "STRING", "int": "INT", "long": "BIGINT", "double": "DOUBLE",
           "boolean": "BOOLEAN"}
_INT = r"\A-?[0-9]+\z"
#: Always 0, but non-deterministic: the planner does not merge a projection into the next one
#: that uses such a column twice (FlinkProjectMergeRule/FlinkCalcMergeRule). Each level of the
#: view computes its columns once: merged, every use of a column would inline its expression
#: (each JSON_QUERY a parse of its own, the reasons many copies of them: minutes of planning).
BARRIER = "RAND_INTEGER(1)"
_NUMBER = r"\A-?[0-9]"


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


def concat(*parts: str) -> str:
    return "CONCAT(" + ", ".join(parts) + ")"


def regexp(expr: str, java_regex: str) -> str:
    return f"REGEXP({expr}, {lit(java_regex)})"


# ------------------------------------------------------------------ Python's str() and repr()
def py_repr_str(s: str) -> str:
    """SQL for Python's ``repr`` of a string expression (quotes, backslash, \\n \\r \\t)."""
    esc = f"REPLACE(REPLACE(REPLACE(REPLACE({s}, '\\', '\\\\'), CHR(10), '\\n'), CHR(13), '\\r'), CHR(9), '\\t')"
    return (f"(CASE WHEN POSITION('''' IN {s}) > 0 AND POSITION('\"' IN {s}) = 0 "
            f"THEN CONCAT('\"', {esc}, '\"') "
            f"ELSE CONCAT('''', REPLACE({esc}, '''', '\\'''), '''') END)")


def py_str_double_levels(d: str, out: str) -> list[list[str]]:
    """Levels of columns giving Python's ``str`` of the DOUBLE column ``d`` in column ``out``.

    From Java's ``Double.toString`` (CAST AS STRING): Java writes 1e-3 <= |d| < 1e7 in plain
    notation, as Python does (-4 <= exponent < 16); elsewhere the notations differ (``1.0E-4`` /
    ``0.0001``, ``1.0E7`` / ``10000000.0``, ``1.5E-5`` / ``1.5e-05``) and are rewritten from the
    digits and the exponent. One small step per level: each column is computed once.
    """
    js, e, dg = f"{out}_js", f"{out}_e", f"{out}_dg"
    n = f"CHAR_LENGTH({dg})"
    sign = f"(CASE WHEN {d} < 0 THEN '-' ELSE '' END)"
    small = f"CONCAT('0.', REPEAT('0', -{e} - 1), {dg})"
    large = (f"(CASE WHEN {n} <= {e} + 1 THEN CONCAT(RPAD({dg}, {e} + 1, '0'), '.0') "
             f"ELSE CONCAT(SUBSTR({dg}, 1, {e} + 1), '.', SUBSTR({dg}, {e} + 2)) END)")
    sci = (f"CONCAT(SUBSTR({dg}, 1, 1), CASE WHEN {n} > 1 THEN CONCAT('.', SUBSTR({dg}, 2)) ELSE '' END, "
           f"'e', CASE WHEN {e} < 0 THEN '-' ELSE '+' END, CASE WHEN ABS({e}) < 10 THEN '0' ELSE '' END, "
           f"CAST(ABS({e}) AS STRING))")
    return [
        [f"CAST({d} AS STRING) AS {js}"],
        [f"CASE WHEN POSITION('E' IN {js}) > 0 THEN CAST(SPLIT_INDEX({js}, 'E', 1) AS INT) END AS {e}",
         f"CASE WHEN POSITION('E' IN {js}) > 0 THEN REGEXP_REPLACE(REPLACE(REPLACE(SPLIT_INDEX({js}, 'E', 0), "
         f"'-', ''), '.', ''), '0+$', '') END AS {dg}"],
        [f"CASE WHEN {js} IS NULL THEN CAST(NULL AS STRING) WHEN {e} IS NULL THEN {js} "
         f"WHEN {e} < 0 AND {e} >= -4 THEN CONCAT({sign}, {small}) "
         f"WHEN {e} >= 0 AND {e} < 16 THEN CONCAT({sign}, {large}) "
         f"ELSE CONCAT({sign}, {sci}) END AS {out}"],
    ]


def py_round2_cents(x: str) -> str:
    """BIGINT cents of Python's ``round(x, 2)`` for a DOUBLE expression: exact, ties to even.

    Python rounds the exact binary value (``round(2.675, 2)`` is 2.67: 2.67499999...), Flink's
    ROUND the shortest decimal text, half up (2.68). So: ``p = x * 100`` in double and its exact
    error ``e`` (Dekker's two-product with a Veltkamp split; 100 has 7 bits, so every partial
    product is exact). Only when ``p`` is exactly an integer and a half can the exact product lie
    on the other side: ``e`` tells which; ``e = 0`` is a true tie and goes to the even integer.
    """
    p = f"(({x}) * 100.0)"
    hi = f"(134217729.0 * ({x}) - (134217729.0 * ({x}) - ({x})))"
    err = f"(({hi} * 100.0 - {p}) + (({x}) - {hi}) * 100.0)"
    fl = f"FLOOR({p})"
    return (f"CAST(CASE WHEN {p} - {fl} = 0.5 THEN CASE WHEN {err} > 0 THEN {fl} + 1 WHEN {err} < 0 THEN {fl} "
            f"WHEN MOD(CAST({fl} AS BIGINT), 2) = 0 THEN {fl} ELSE {fl} + 1 END ELSE ROUND({p}, 0) END AS BIGINT)")


def cents_text(cents: str) -> str:
    """Python's ``f"{c / 100:.2f}"`` of BIGINT cents."""
    return (f"CONCAT(CASE WHEN {cents} < 0 THEN '-' ELSE '' END, CAST(ABS({cents}) / 100 AS STRING), '.', "
            f"LPAD(CAST(MOD(ABS({cents}), 100) AS STRING), 2, '0'))")


def py_list(values: list[Any]) -> str:
    """Python's ``str`` of the contract's list (static: computed here, not in SQL)."""
    return str(list(values))


# ------------------------------------------------------------------- a record's value as bytes
# Flink 2.2 has no length function for BYTES (OCTET_LENGTH, LENGTH, CHAR_LENGTH refuse it) and
# DECODE/CAST replace malformed UTF-8 with U+FFFD instead of failing; these are what works.
def value_fits(value: str, max_bytes: int) -> str:
    """SQL: the BYTES ``value`` is at most ``max_bytes`` long (null for a null value).

    A cast to VARBINARY(n) cuts a value to n bytes, so a value fits when the cast leaves it
    unchanged: at most ``max_bytes`` bytes compared, nothing of a larger value parsed.
    """
    return f"(CAST({value} AS VARBINARY({int(max_bytes)})) = {value})"


def value_is_utf8(value: str) -> str:
    """SQL: the BYTES ``value`` is valid UTF-8 as Python's strict decoder says (surrogates, overlong refused).

    Malformed input decodes to U+FFFD, so only a valid value survives the round trip unchanged.
    """
    return f"(ENCODE(CAST({value} AS STRING), 'UTF-8') = {value})"


def value_text(value: str, max_bytes: int) -> str:
    """SQL: the value as text when it fits ``max_bytes`` and is UTF-8, else null (then it is ``not_json``)."""
    return f"CASE WHEN {value_fits(value, max_bytes)} AND {value_is_utf8(value)} THEN CAST({value} AS STRING) END"


def base64_size(b64: str) -> str:
    """SQL: the BIGINT size in bytes of what the base64 text ``b64`` encodes (3 bytes per 4 chars, less padding)."""
    return (f"CAST(CHAR_LENGTH({b64}) / 4 * 3 - CHAR_LENGTH({b64}) + CHAR_LENGTH(TRIM(TRAILING '=' FROM {b64})) "
            f"AS BIGINT)")


def too_large_detail(value: str, max_bytes: int) -> str:
    """SQL: the detail of ``too_large`` (``contract._too_large``); only evaluate it for a value that does not fit."""
    return concat(f"CAST({base64_size(f'TO_BASE64({value})')} AS STRING)", lit(f" bytes, more than {int(max_bytes)}"))


# ------------------------------------------------------------------------------ the view
def ts_ok(s: str, length: int) -> str:
    """Python's ``strptime(s, '%Y-%m-%d %H:%M:%S.%f')`` succeeds and ``len(s)`` is the contract's."""
    shape = r"\A[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}\z"
    head = f"SUBSTR({s}, 1, 19)"
    return (f"(CHAR_LENGTH({s}) = {int(length)} AND {regexp(s, shape)} AND SUBSTR({s}, 1, 4) <> '0000' "
            f"AND DATE_FORMAT(TO_TIMESTAMP({head}, 'yyyy-MM-dd HH:mm:ss'), 'yyyy-MM-dd HH:mm:ss') = {head})")


def _epoch_micros(s: str) -> str:
    return (f"(UNIX_TIMESTAMP(SUBSTR({s}, 1, 19), 'yyyy-MM-dd HH:mm:ss') * 1000000 "
            f"+ CAST(SUBSTR({s}, 21, 6) AS BIGINT))")


def _type_ok(j: str, inner: str, string: str, logical: str, ts_length: int) -> str:
    """Whether a present value has the field's logical type.

    ``j`` is its bracketed JSON text, ``inner`` the text without brackets, ``string`` its value
    when it is a JSON string.
    """
    if logical == "string":
        return f"({inner} LIKE '\"%')"
    if logical == "timestamp":
        return f"({inner} LIKE '\"%' AND {ts_ok(string, ts_length)})"
    if logical in ("int", "long"):
        sql = "INT" if logical == "int" else "BIGINT"
        return f"({regexp(inner, _INT)} AND TRY_CAST({inner} AS {sql}) IS NOT NULL)"
    if logical == "double":
        return (f"({regexp(inner, _NUMBER)} AND TRY_CAST({inner} AS DOUBLE) IS NOT NULL "
                f"AND ABS(TRY_CAST({inner} AS DOUBLE)) <= 1.7976931348623157E308)")
    if logical == "boolean":
        return f"({inner} IN ('true', 'false'))"
    raise ValueError(f"unknown logical type {logical!r}")


def _check_sql(check: dict[str, Any], eps: float) -> tuple[str, str]:
    """(failed, reason) SQL of one contract check over the typed columns ``v_<field>``.

    A number in a reason is the column ``n_<field>``: Python's ``str`` of the value as parsed.
    """
    name, code, kind = check["field"], check["code"], check["kind"]
    v = f"v_{name}"
    txt = f"n_{name}"
    if kind == "pattern":
        anchored = r"\A(?:" + check["pattern"] + r")\z"
        failed = f"NOT {regexp(v, anchored)}"
        reason = concat(lit(f"{code}: {name} "), py_repr_str(v), lit(f" does not match {check['pattern']}"))
        return failed, reason
    if kind == "range":
        ops = {"min": ">=", "max": "<=", "min_exclusive": ">", "max_exclusive": "<"}
        conds = [f"{v} {ops[k]} {float(check[k])!r}" for k in ops if k in check]
        bounds = ", ".join(f"{k} {check[k]}" for k in ops if k in check)
        return (f"NOT ({' AND '.join(conds) or 'TRUE'})",
                concat(lit(f"{code}: {name} "), txt, lit(f" outside {bounds}")))
    if kind == "allowed":
        by = f"v_{check['by']}"

        def within(values: list[Any]) -> str:
            return "(" + (" OR ".join(f"ABS({v} - {float(x)!r}) <= {eps!r}" for x in values) or "FALSE") + ")"

        when_true, when_false = check["values"]["true"], check["values"]["false"]
        failed = f"NOT (CASE WHEN {by} THEN {within(when_true)} ELSE {within(when_false)} END)"
        reason = concat(lit(f"{code}: {name} "), txt, lit(f" not allowed when {check['by']} is "),
                        f"CASE WHEN {by} THEN {lit('true (allowed: ' + py_list(when_true) + ')')} "
                        f"ELSE {lit('false (allowed: ' + py_list(when_false) + ')')} END")
        return failed, reason
    if kind == "total":
        # events.total_purchase: round(quantity * (price + supplement_price) * (1 - member_discount), 2)
        failed = f"ABS({v} - CAST(v_expected_cents AS DOUBLE) / 100.0) > {float(check['tolerance']) + eps!r}"
        reason = concat(lit(f"{code}: {name} "), txt, lit(", formula gives "), cents_text("v_expected_cents"))
        return failed, reason
    if kind == "catalogue":
        values = ", ".join(lit(x) for x in check["values"]) or "''"
        return (f"{v} NOT IN ({values})",
                concat(lit(f"{code}: {name} "), py_repr_str(v), lit(" is not in the catalogue")))
    raise ValueError(f"contract check kind {kind!r} is not known to the Flink jobs")


def _nest(source: str, levels: list[list[str]]) -> str:
    """``SELECT *, <level>`` nested over ``source``, a barrier column between every two levels."""
    sql = source
    for i, cols in enumerate(levels):
        barrier = BARRIER if i == 0 else f"b{i - 1} + b{i - 1} + {BARRIER}"
        sql = f"SELECT *, {', '.join(cols)}, {barrier} AS b{i} FROM ({sql})"
    return sql


def checked_view_sql(contract: dict[str, Any], source: str = "purchases_raw", name: str = "checked") -> str:
    """``CREATE TEMPORARY VIEW name``: the source's purchases with ``reason`` and typed fields.

    ``source`` has ``value`` (the record's value, BYTES), ``partition``, ``offset``, ``topic`` and
    ``tt``. Columns: value, source_partition, source_offset, source_topic, tt, then CHECKED_FIELDS.
    Built in levels of columns, each computed once per record (see BARRIER); what only a
    rejected record needs (the numbers' Python text, a too large value's size) is computed only
    for one. A value over ``records.max_bytes`` is never decoded nor parsed: ``too_large``.
    """
    fields = contract["schemas"]["purchases"]
    ts_length = int(contract["timestamp"]["length"])
    eps = float(contract["epsilon"])
    legacy = contract.get("legacy") or {}
    derivable = set(legacy.get("derived_fields") or []) if legacy.get("accept") else set()
    checks = contract["purchase"]["checks"]

    # (Flink's REGEXP_REPLACE takes the replacement literally: no $1, so a bounded lookbehind.)
    nan = r"(?<=[:\[,]\s{0,32})(-?Infinity|NaN)(?=\s*[,}\]])"
    norm = (f"CASE WHEN payload IS NULL THEN CAST(NULL AS STRING) WHEN payload IS JSON OBJECT THEN payload "
            f"WHEN {regexp('payload', 'NaN|Infinity')} THEN REGEXP_REPLACE(payload, {lit(nan)}, '{{}}') END")
    max_bytes = int(contract["records"]["max_bytes"])
    base = (f"SELECT `value`, `partition` AS source_partition, `offset` AS source_offset, `topic` AS source_topic, "
            f"tt FROM {source}")
    levels: list[list[str]] = [
        [f"{value_fits('`value`', max_bytes)} AS fits"],
        # The text of a value that fits and is UTF-8; null for any other (not_json, unless too_large).
        [f"CASE WHEN fits AND {value_is_utf8('`value`')} THEN CAST(`value` AS STRING) END AS payload",
         f"CASE WHEN NOT fits THEN {too_large_detail('`value`', max_bytes)} END AS too_large"],
        [f"{norm} AS np"],
    ]
    # The payload as a JSON object (or null), each field's bracketed JSON text.
    levels.append(["np IS NOT NULL AND np IS JSON OBJECT AS is_obj",
                   *[f"JSON_QUERY(np, '$.{f['name']}' WITH ARRAY WRAPPER) AS j_{f['name']}" for f in fields]])

    # Per field: present, type ok, value text.
    cols = []
    for f in fields:
        n, j = f["name"], f"j_{f['name']}"
        inner = f"SUBSTR({j}, 2, CHAR_LENGTH({j}) - 2)"
        present = f"({j} IS NOT NULL AND {j} <> '[null]')"
        # A string's value: its JSON text without quotes unless it has an escape (then JSON_VALUE).
        string = (f"CASE WHEN {inner} LIKE '\"%' THEN CASE WHEN POSITION('\\' IN {inner}) = 0 "
                  f"THEN SUBSTR({inner}, 2, CHAR_LENGTH({inner}) - 2) ELSE JSON_VALUE(np, '$.{n}') END END")
        cols.append(f"{present} AS p_{n}")
        cols.append(f"({present} AND {_type_ok(j, inner, string, f['type'], ts_length)}) AS ok_{n}")
        cols.append(f"{string if f['type'] in ('string', 'timestamp') else inner} AS t_{n}")
    levels.append(cols)

    # Typed values (null unless the type is right); a legacy record's identity derived.
    typed = []
    for f in fields:
        n = f["name"]
        if f["type"] in ("string", "timestamp"):
            value = f"CASE WHEN ok_{n} THEN t_{n} END"
        elif f["type"] == "boolean":
            value = f"CASE WHEN ok_{n} THEN t_{n} = 'true' END"
        else:
            value = f"CASE WHEN ok_{n} THEN CAST(t_{n} AS {_SQL_OF[f['type']]}) END"
        derived = None
        if n == "transaction_id" and n in derivable:
            derived = (f"CASE WHEN NOT p_{n} AND ok_transaction_time "
                       f"THEN CAST({_epoch_micros('t_transaction_time')} AS STRING) END")
        elif n == "line_number" and n in derivable:
            rule = legacy.get("line_number") or {}
            factor, parts = int(rule.get("offset_factor", 16)), int(rule.get("max_partitions", 16))
            number = f"(source_offset * {factor} + source_partition + 1)"
            derived = (f"CASE WHEN NOT p_{n} AND source_partition >= 0 AND source_partition < {parts} "
                       f"AND {number} < 2147483648 THEN CAST({number} AS INT) END")
        if derived is None:
            typed.append(f"{value} AS v_{n}")
        else:
            typed += [f"CASE WHEN NOT p_{n} THEN {derived} ELSE {value} END AS v_{n}", f"({derived}) IS NOT NULL AS d_{n}"]
    levels.append(typed)

    # The structural reason (not_json, missing_field, mistyped_field in schema order), the
    # total's formula once (events.total_purchase, in cents) and each check's failure.
    whens = ["WHEN too_large IS NOT NULL THEN CONCAT('too_large: ', too_large)",
             "WHEN NOT is_obj THEN 'not_json: payload is not a JSON object'"]
    for f in fields:
        n = f["name"]
        if not f.get("nullable"):
            missing = f"NOT p_{n}" + (f" AND NOT d_{n}" if n in derivable else "")
            whens.append(f"WHEN {missing} THEN {lit('missing_field: ' + n)}")
    for f in fields:
        n = f["name"]
        text = lit(f"mistyped_field: {n} is not a {f['type']}")
        whens.append(f"WHEN p_{n} AND NOT ok_{n} THEN {text}")
    formula = "CAST(v_quantity AS DOUBLE) * (v_price + v_supplement_price) * (1 - v_member_discount)"
    compiled = [_check_sql(check, eps) for check in checks]
    levels.append([f"CASE {' '.join(whens)} END AS s_reason", f"{py_round2_cents(formula)} AS v_expected_cents"])
    levels.append([f"COALESCE({failed}, FALSE) AS f{i}" for i, (failed, _) in enumerate(compiled)])

    # Python's str of the numbers the reasons quote, for rejected records only.
    quoted = sorted({c["field"] for c in checks if c["kind"] in ("range", "allowed", "total")})
    kinds = {f["name"]: f["type"] for f in fields}
    failing = "(s_reason IS NULL AND (" + " OR ".join(f"f{i}" for i in range(len(compiled))) + "))"
    doubles = [n for n in quoted if kinds[n] == "double"]
    levels.append([f"CASE WHEN {failing} THEN v_{n} END AS q_{n}" for n in doubles] or ["0 AS q_none"])
    steps = [py_str_double_levels(f"q_{n}", f"py_{n}") for n in doubles]
    for depth in range(3):
        levels.append([c for step in steps for c in step[depth]] or [f"0 AS py_none{depth}"])
    levels.append([
        (f"CASE WHEN {regexp(f't_{n}', _INT)} THEN t_{n} ELSE py_{n} END AS n_{n}" if kinds[n] == "double"
         else f"t_{n} AS n_{n}") for n in quoted] or ["0 AS n_none"])

    reason = ("CASE WHEN s_reason IS NOT NULL THEN s_reason "
              + " ".join(f"WHEN f{i} THEN {text}" for i, (_, text) in enumerate(compiled)) + " END")
    levels.append([f"{reason} AS reason"])
    derived_any = " OR ".join(f"COALESCE(d_{n}, FALSE)" for n in sorted(derivable)) or "FALSE"
    ms = ("(UNIX_TIMESTAMP(SUBSTR(v_transaction_time, 1, 19), 'yyyy-MM-dd HH:mm:ss') * 1000 "
          "+ CAST(SUBSTR(v_transaction_time, 21, 3) AS BIGINT))")
    out = ", ".join(
        f"CASE WHEN reason IS NULL THEN {ms} END AS transaction_ms" if n == "transaction_ms"
        else f"CASE WHEN reason IS NULL THEN v_{n} END AS {n}"
        for n, _ in CHECKED_FIELDS[2:]
    )
    last = len(levels) - 1
    return f"""
CREATE TEMPORARY VIEW {name} AS
SELECT `value`, source_partition, source_offset, source_topic, tt, reason,
       CASE WHEN is_obj THEN {derived_any} ELSE FALSE END AS identity_derived, {out}
FROM ({_nest(base, levels)})
WHERE b{last} + b{last} = 0"""
