"""Enrich purchases with the product version valid at their time; dead-letter what cannot be enriched.

``flink run -py jobs/flink/purchases_enrichment.py --contract FILE --purchases-topic T --products-topic T
--output-topic T --invalid-topic T [--mode bounded|continuous]``

Each valid purchase meets exactly the newest product version whose event_time is not later than
its transaction_time (``version_join``: every version of a product kept, a purchase joined when
the watermark passes its time, or at the next step when it arrives behind it), so a re-published
catalogue adds no row, a price change never rewrites history, and history replayed while live
data flows meets the versions of its time. Flink's temporal join forgot the versions behind its
watermark and dead-lettered such purchases: 384 of 607 replayed seed lines. A purchase older than
every version of its product is not lost: it is dead-lettered ``no_product_version``, as are
malformed purchases with the contract's reason and malformed product records (the contract's
``products`` checks; they are never versions). The dead-letter streams go out through one sink
(one transactional producer per topic).
"""

from __future__ import annotations

import flinkjob as fj
import validation
import version_join

JOB = "purchases_enrichment"


def register_products(t_env, args, contract) -> None:
    """``products``: every valid product version, insert-only, with ``vt`` (its event time) the rowtime.

    Also ``product_dead_letters``: the malformed records of the products topic, for the dead-letter
    sink. Each record is read raw (key as text, value as bytes, never through Flink's JSON format,
    whose ``ignore-parse-errors`` drops a bad record without a trace) and checked by the contract's
    ``products`` section in SQL (:func:`product_reason`): a record with a reason is no version.

    The versions are read append-only (plain ``kafka``), not through ``upsert-kafka``: an upsert
    source is a changelog, and every version must stay a version (``version_join`` keeps them all).

    Two reads of the topic: the versions always from the earliest offset (a purchase may need one
    published long ago), the dead letters from where the job's purchases start (``--starting-offsets``,
    a savepoint's offsets), so a bounded run that goes on from the group offsets does not write
    the old product dead letters again.
    """
    from pyflink.table import Schema

    fields = contract["schemas"][contract["products"]["schema"]]
    group = args.group_id or args.job_name
    versions_opts = fj.source_options(args, args.products_topic)
    versions_opts.update({"scan.startup.mode": "earliest-offset", "properties.group.id": f"{args.job_name}.products"})
    versions_opts.pop("properties.auto.offset.reset", None)
    max_bytes = int(contract["records"]["max_bytes"])
    t_env.execute_sql(_products_source_ddl("products_raw", versions_opts, max_bytes))
    letters_opts = fj.source_options(args, args.products_topic)
    letters_opts["properties.group.id"] = f"{group}.product-dead-letters"
    t_env.execute_sql(_products_source_ddl("products_letters_raw", letters_opts, max_bytes))
    reason = product_reason(contract)
    t_env.execute_sql(f"""
CREATE TEMPORARY VIEW product_dead_letters AS
SELECT * FROM (
  SELECT `value`, `partition` AS source_partition, `offset` AS source_offset, `topic` AS source_topic,
         {reason} AS reason
  FROM products_letters_raw) WHERE reason IS NOT NULL""")
    # COALESCE makes the key column NOT NULL, as a primary key must be. Values are read as text
    # and cast: JSON_VALUE ... RETURNING DOUBLE fails the job on an integral number (Flink 2.2).
    casts = {"timestamp": "STRING", "string": "STRING", "double": "DOUBLE", "int": "INT", "long": "BIGINT",
             "boolean": "BOOLEAN"}
    select = ", ".join(
        f"COALESCE(JSON_VALUE(payload, '$.{f['name']}'), '') AS `{f['name']}`" if f["name"] == "product_id"
        else f"TRY_CAST(JSON_VALUE(payload, '$.{f['name']}') AS {casts[f['type']]}) AS `{f['name']}`"
        for f in fields
    )
    versions = t_env.sql_query(f"""
SELECT {select}, TO_TIMESTAMP(JSON_VALUE(payload, '$.event_time'), '{fj.TS_SQL}') AS vt
FROM products_raw WHERE ({reason}) IS NULL""")
    stream = t_env.to_data_stream(versions)
    schema = (Schema.new_builder().from_row_data_type(versions.get_schema().to_row_data_type())
              .watermark("vt", "vt").build())
    t_env.create_temporary_view("products", t_env.from_data_stream(stream, schema))


def _products_source_ddl(name: str, opts: dict[str, str], max_bytes: int) -> str:
    """The products topic raw: record key as text, value as bytes, with the record's coordinates.

    ``payload`` is the value as text when it fits ``max_bytes`` and is UTF-8, else null (a value
    over the limit is never parsed). A computed column, so it is inlined at each use: cheap at
    the products topic's volume (the purchases compute theirs once, ``validation.checked_view_sql``).
    """
    opts = {**opts, "key.format": "raw", "key.fields": "record_key", "value.format": "raw",
            "value.fields-include": "EXCEPT_KEY"}
    return f"""
CREATE TEMPORARY TABLE {name} (
  record_key STRING,
  `value` BYTES,
  `partition` INT METADATA FROM 'partition' VIRTUAL,
  `offset` BIGINT METADATA FROM 'offset' VIRTUAL,
  `topic` STRING METADATA FROM 'topic' VIRTUAL,
  payload AS {validation.value_text("`value`", max_bytes)}
) WITH (
  {fj.with_clause(opts)}
)"""


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _type_ok_sql(name: str, logical: str, length: int) -> str:
    """Whether ``payload``'s field ``name`` (present, not null) has the logical type, as the reference says.

    ``JSON_QUERY ... WITH ARRAY WRAPPER`` gives the value's own JSON text inside ``[...]``, so a
    number is told from a string (``JSON_VALUE`` gives both as text).
    """
    wrapped = f"JSON_QUERY(payload, '$.{name}' WITH UNCONDITIONAL ARRAY WRAPPER)"
    value = f"JSON_VALUE(payload, '$.{name}')"
    if logical == "string":
        return f"SUBSTRING({wrapped} FROM 1 FOR 2) = '[\"'"
    if logical == "boolean":
        return f"{wrapped} IN ('[true]', '[false]')"
    if logical in ("int", "long"):
        sql_type = "INT" if logical == "int" else "BIGINT"
        return f"(REGEXP({wrapped}, '^\\[-?[0-9]+\\]$') AND TRY_CAST({value} AS {sql_type}) IS NOT NULL)"
    if logical == "double":
        return f"REGEXP({wrapped}, '^\\[-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?\\]$')"
    if logical == "timestamp":
        # The purchases' rule: shape, length and a real date (2026-02-30 refused). A round trip
        # through TO_TIMESTAMP refused every real product: it keeps milliseconds only.
        return f"(SUBSTRING({wrapped} FROM 1 FOR 2) = '[\"' AND {validation.ts_ok(value, length)})"
    raise ValueError(f"unknown logical type {logical!r}")


def product_reason(contract) -> str:
    """A SQL expression over ``value``, ``payload`` and ``record_key``: the reason of a product record, NULL if valid.

    Built from the contract's ``products`` section (codes, schema, key field), first failing check
    first, in the reference validator's order and wording (``streamstack.contract.check_product``).
    """
    section = contract["products"]
    codes, key = section["codes"], section["key_field"]
    fields = contract["schemas"][section["schema"]]
    length = int(contract["timestamp"]["length"])
    max_bytes = int(contract["records"]["max_bytes"])
    branches = [(f"NOT {validation.value_fits('`value`', max_bytes)}",
                 f"CONCAT({_sql_text(codes['too_large'] + ': ')}, {validation.too_large_detail('`value`', max_bytes)})"),
                ("payload IS NULL OR NOT (payload IS JSON OBJECT)",
                 _sql_text(f"{codes['not_json']}: payload is not a JSON object"))]
    for f in fields:
        if not f["nullable"]:
            branches.append((f"JSON_QUERY(payload, '$.{f['name']}' WITH UNCONDITIONAL ARRAY WRAPPER) IS NULL",
                             _sql_text(f"{codes['missing_field']}: {f['name']}")))
    for f in fields:
        present = f"JSON_QUERY(payload, '$.{f['name']}' WITH UNCONDITIONAL ARRAY WRAPPER) IS NOT NULL"
        branches.append((f"{present} AND NOT {_type_ok_sql(f['name'], f['type'], length)}",
                         _sql_text(f"{codes['mistyped_field']}: {f['name']} is not a {f['type']}")))
    branches.append((f"record_key IS NULL OR record_key <> JSON_VALUE(payload, '$.{key}')",
                     _sql_text(f"{codes['key_mismatch']}: {key} is not the record key")))
    whens = "\n       ".join(f"WHEN {cond} THEN {text}" for cond, text in branches)
    return f"CASE {whens}\n       ELSE CAST(NULL AS STRING) END"


def enriched_select() -> str:
    m = fj.money
    return f"""
SELECT p.transaction_time, p.transaction_ms AS transaction_timestamp, p.transaction_id, p.line_number, p.product_id,
       p.category AS product_category, p.item AS product_name, p.size AS product_size,
       {m('p.cogs')} AS product_cogs, {m('p.v_price')} AS product_price,
       p.contains_fruit, p.contains_veggies, p.contains_nuts, p.contains_caffeine,
       {m('p.price')} AS purchase_price, p.quantity AS purchase_quantity, p.is_member,
       {m('p.member_discount')} AS member_discount, p.add_supplements,
       {m('p.supplement_price')} AS supplement_price, {m('p.total_purchase')} AS total_purchase,
       p.identity_derived, CURRENT_TIMESTAMP AS rec_ts
FROM joined AS p"""


def main(argv: list[str] | None = None) -> None:
    p = fj.parser(JOB, __doc__.splitlines()[0])
    fj.topic_arg(p, "purchases-topic", "purchases")
    fj.topic_arg(p, "products-topic", "products")
    fj.topic_arg(p, "output-topic", "purchases_enriched")
    fj.topic_arg(p, "invalid-topic", "purchases_invalid")
    p.add_argument("--late-grace", type=float, default=2.0,
                   help="continuous mode: seconds a purchase behind the watermark waits for versions published "
                   "just before it (bounded mode: until the next watermark step, at the latest the end)")
    args = p.parse_args(argv)
    contract = fj.check_args(p, args, "purchases_topic", "products_topic", "output_topic", "invalid_topic")
    missing_code = contract["enrichment"]["missing_version_code"]

    t_env = fj.table_env(args)
    t_env.execute_sql(fj.purchases_source_ddl(args, contract))
    register_products(t_env, args, contract)
    fj.checked_view(t_env, contract)
    schemas = contract["schemas"]
    t_env.execute_sql(fj.sink_ddl(args, "enriched_sink", args.output_topic, schemas["purchases_enriched"],
                                  key="transaction_id"))
    t_env.execute_sql(fj.sink_ddl(args, "invalid_sink", args.invalid_topic, schemas["purchases_invalid"]))
    late_grace_ms = None if args.mode == "bounded" else int(args.late_grace * 1000)
    valid = t_env.sql_query("SELECT * FROM checked WHERE reason IS NULL")
    t_env.create_temporary_view("version_joined", version_join.join_versions(
        t_env, valid, t_env.from_path("products"), late_grace_ms))
    purchase_columns = ", ".join(f"`{name}`" for name in valid.get_schema().get_field_names())
    t_env.execute_sql(f"""
CREATE TEMPORARY VIEW joined AS
SELECT {purchase_columns}, v_product_id, v_category AS category, v_item AS item, v_size AS size,
       v_cogs AS cogs, v_price, v_contains_fruit AS contains_fruit, v_contains_veggies AS contains_veggies,
       v_contains_nuts AS contains_nuts, v_contains_caffeine AS contains_caffeine
FROM version_joined""")
    no_version = (f"CONCAT('{missing_code}: product_id ''', product_id, ''' has no version valid at ', "
                  "transaction_time)")
    stmts = t_env.create_statement_set()
    stmts.add_insert_sql(
        "INSERT INTO enriched_sink " + enriched_select()
        + " WHERE p.v_product_id IS NOT NULL"
    )
    stmts.add_insert_sql(
        "INSERT INTO invalid_sink "
        + fj.dead_letter_select(f"flink.{JOB}", "reason", "checked WHERE reason IS NOT NULL", contract)
        + " UNION ALL "
        + fj.dead_letter_select(f"flink.{JOB}", no_version, "joined WHERE v_product_id IS NULL", contract)
        + " UNION ALL "
        + fj.dead_letter_select(f"flink.{JOB}", "reason", "product_dead_letters", contract)
    )
    fj.run(t_env, stmts)


if __name__ == "__main__":
    main()
