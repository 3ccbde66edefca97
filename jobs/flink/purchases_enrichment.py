"""Enrich purchases with the product version valid at their time; dead-letter what cannot be enriched.

``flink run -py jobs/flink/purchases_enrichment.py --contract FILE --purchases-topic T --products-topic T
--output-topic T --invalid-topic T [--mode bounded|continuous]``

An event-time temporal join (``FOR SYSTEM_TIME AS OF``) of each valid purchase with the versioned
product table (upsert-kafka, keyed by product_id, versioned by ``event_time``): a purchase meets
exactly the newest version whose event_time is not later than its transaction_time, so a
re-published catalogue adds no row (the original demo's regular join matched every stored
version). A LEFT join, so a purchase older than every version of its product is not lost: it is
dead-lettered ``no_product_version``, as are malformed purchases with the contract's reason.
Both dead-letter streams go out through one sink (one transactional producer per topic).
"""

from __future__ import annotations

import flinkjob as fj

JOB = "purchases_enrichment"


def register_products(t_env, args, contract) -> None:
    """``products``: every product version, insert-only, PRIMARY KEY product_id, versioned by event_time.

    Read append-only (plain ``kafka``), not through ``upsert-kafka``: an upsert source is turned
    into a changelog whose UPDATE_BEFORE carries the old version's own event time, and the
    event-time temporal join stores right rows by time, so the retraction replaces the old
    version and every purchase of its validity period found "no version" (seen here: every
    purchase before a re-publish). Insert-only with a declared key, each version stays a version.
    A product record whose event_time does not parse is versioned in the year 9999 (never valid)
    instead of failing the job: the products topic has no dead letters in the contract.
    """
    from pyflink.table import Schema

    cols = []
    for f in contract["schemas"]["products"]:
        sql_type = {"double": "DOUBLE"}.get(f["type"], fj.SQL_TYPES[f["type"]])
        cols.append(f"  `{f['name']}` {sql_type}")
    opts = fj.source_options(args, args.products_topic)
    # Every version, always: a purchase may need one published long ago.
    opts.update({"scan.startup.mode": "earliest-offset", "properties.group.id": f"{args.job_name}.products"})
    opts.update({"value.format": "json", "value.json.ignore-parse-errors": "true"})
    t_env.execute_sql("CREATE TEMPORARY TABLE products_raw (\n" + ",\n".join(cols) + f"\n) WITH (\n  {fj.with_clause(opts)}\n)")
    # COALESCE makes the key column NOT NULL, as a primary key must be.
    select = ", ".join("COALESCE(product_id, '') AS product_id" if f["name"] == "product_id" else f"`{f['name']}`"
                       for f in contract["schemas"]["products"])
    versions = t_env.sql_query(f"""
SELECT {select}, COALESCE(TO_TIMESTAMP(event_time, '{fj.TS_SQL}'), TIMESTAMP '9999-12-31 00:00:00') AS vt
FROM products_raw WHERE product_id IS NOT NULL""")
    stream = t_env.to_data_stream(versions)
    schema = (Schema.new_builder().from_row_data_type(versions.get_schema().to_row_data_type())
              .watermark("vt", "vt").primary_key("product_id").build())
    t_env.create_temporary_view("products", t_env.from_data_stream(stream, schema))


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
    args = p.parse_args(argv)
    contract = fj.check_args(p, args, "purchases_topic", "products_topic", "output_topic", "invalid_topic")
    missing_code = contract["enrichment"]["missing_version_code"]

    t_env = fj.table_env(args)
    t_env.execute_sql(fj.purchases_source_ddl(args))
    register_products(t_env, args, contract)
    fj.checked_view(t_env, contract)
    schemas = contract["schemas"]
    t_env.execute_sql(fj.sink_ddl(args, "enriched_sink", args.output_topic, schemas["purchases_enriched"],
                                  key="transaction_id"))
    t_env.execute_sql(fj.sink_ddl(args, "invalid_sink", args.invalid_topic, schemas["purchases_invalid"]))
    t_env.execute_sql("""
CREATE TEMPORARY VIEW joined AS
SELECT c.*, v.product_id AS v_product_id, v.category, v.item, v.size, v.cogs, v.price AS v_price,
       v.contains_fruit, v.contains_veggies, v.contains_nuts, v.contains_caffeine
FROM (SELECT * FROM checked WHERE reason IS NULL) AS c
LEFT JOIN products FOR SYSTEM_TIME AS OF c.tt AS v ON c.product_id = v.product_id""")
    no_version = (f"CONCAT('{missing_code}: product_id ''', product_id, ''' has no version valid at ', "
                  "transaction_time)")
    stmts = t_env.create_statement_set()
    stmts.add_insert_sql(
        "INSERT INTO enriched_sink " + enriched_select()
        + " WHERE p.v_product_id IS NOT NULL"
    )
    stmts.add_insert_sql(
        "INSERT INTO invalid_sink "
        + fj.dead_letter_select(f"flink.{JOB}", "reason", "checked WHERE reason IS NOT NULL")
        + " UNION ALL "
        + fj.dead_letter_select(f"flink.{JOB}", no_version, "joined WHERE v_product_id IS NULL")
    )
    fj.run(t_env, stmts)


if __name__ == "__main__":
    main()
