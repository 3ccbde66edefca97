"""Unwindowed running totals per product: transactions, quantities, sales, latest purchase time.

``flink run -py jobs/flink/running_totals.py --contract FILE --purchases-topic T --output-topic T``

The original demo's RunningTotals (a keyed reduce of purchases per product) as a keyed
``GROUP BY product_id`` over the valid purchases (the contract's checks, catalogue membership
included), each line once (a same-seed rerun repeats lines), written as upserts keyed by
product_id to a compacted topic: the latest record per product_id is its total. An unbounded
aggregate, so no purchase is ever late for it. Mini-batches of one second fold many updates of
one product into one record. The state lives in Flink's checkpoints and savepoints: a restart
resumes it, never double counting.
"""

from __future__ import annotations

import flinkjob as fj

JOB = "running_totals"


def main(argv: list[str] | None = None) -> None:
    p = fj.parser(JOB, __doc__.splitlines()[0])
    fj.topic_arg(p, "purchases-topic", "purchases")
    fj.topic_arg(p, "output-topic", "running_totals")
    args = p.parse_args(argv)
    contract = fj.check_args(p, args, "purchases_topic", "output_topic")
    t_env = fj.table_env(args)
    fj.mini_batch(t_env)
    t_env.execute_sql(fj.purchases_source_ddl(args, contract))
    fj.checked_view(t_env, contract, proctime=True)
    fj.first_lines_view(t_env)
    t_env.execute_sql(fj.sink_ddl(args, "totals_sink", args.output_topic, contract["schemas"]["running_totals"],
                                  key="product_id", upsert=True))
    stmts = t_env.create_statement_set()
    stmts.add_insert_sql(f"""
INSERT INTO totals_sink
SELECT MAX(transaction_time) AS event_time, product_id, COUNT(*) AS transactions,
       SUM(CAST(quantity AS BIGINT)) AS quantities,
       CAST(SUM({fj.money('total_purchase')}) AS DECIMAL(14, 2)) AS sales, MAX(CURRENT_TIMESTAMP) AS rec_ts
FROM first_lines
GROUP BY product_id""")
    fj.run(t_env, stmts)


if __name__ == "__main__":
    main()
