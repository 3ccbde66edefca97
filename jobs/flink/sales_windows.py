"""Sales and drinks per product in 10-minute event-time windows sliding every 5 minutes.

``flink run -py jobs/flink/sales_windows.py --contract FILE --purchases-topic T --output-topic T``

The same windows as ``jobs/spark/sales_windows.py`` (``[start, start + 10 min)``, starts on
5-minute boundaries of the epoch, so each purchase is in two windows), computed as a keyed
aggregate over (window_start, product_id) rather than a window operator: a window operator drops
what arrives after the watermark passed the window's end, this never drops a valid purchase, late
or behind an idle partition. The result is upserts keyed by the window's identity
``{"window_start":...,"product_id":...}`` (``config/topics.yaml``), whose latest value is the
window's total, as with Spark's update mode. State of windows older than ``--state-ttl`` is released.
"""

from __future__ import annotations

import flinkjob as fj

JOB = "sales_windows"
SLIDE_MS, WINDOW_MS = 5 * 60 * 1000, 10 * 60 * 1000


def main(argv: list[str] | None = None) -> None:
    p = fj.parser(JOB, __doc__.splitlines()[0])
    fj.topic_arg(p, "purchases-topic", "purchases")
    fj.topic_arg(p, "output-topic", "sales_windows")
    p.add_argument("--state-ttl", default="7 d", help="how long a window's state is kept after its last update")
    args = p.parse_args(argv)
    contract = fj.check_args(p, args, "purchases_topic", "output_topic")
    t_env = fj.table_env(args)
    fj.mini_batch(t_env)
    t_env.get_config().set("table.exec.state.ttl", args.state_ttl.replace(" ", ""))
    t_env.execute_sql(fj.purchases_source_ddl(args, contract))
    fj.checked_view(t_env, contract, proctime=True)
    fj.first_lines_view(t_env)
    # Upserts per (window_start, product_id): the Kafka key is that pair as a JSON object.
    t_env.execute_sql(fj.sink_ddl(args, "windows_sink", args.output_topic, contract["schemas"]["sales_windows"],
                                  upsert=True, key_fields=("window_start", "product_id")))
    fmt = "DATE_FORMAT(TO_TIMESTAMP_LTZ({}, 3), '" + fj.TS_SQL + "')"
    # Grouped by the window_start *text* so the aggregate's upsert key is the sink's primary key:
    # grouped by the number, the planner adds an upsert materializer that writes tombstones.
    t_env.execute_sql(f"""
CREATE TEMPORARY VIEW windowed AS
SELECT {fmt.format('w.ws')} AS window_start, w.ws, c.product_id, c.quantity, c.total_purchase
FROM (SELECT *, transaction_ms - MOD(transaction_ms, {SLIDE_MS}) AS first_start FROM first_lines) AS c
CROSS JOIN UNNEST(ARRAY[c.first_start - {SLIDE_MS}, c.first_start]) AS w(ws)""")
    stmts = t_env.create_statement_set()
    stmts.add_insert_sql(f"""
INSERT INTO windows_sink
SELECT window_start, {fmt.format(f'ws_ms + {WINDOW_MS}')} AS window_end, product_id, transactions, drinks, sales, rec_ts
FROM (
  SELECT window_start, product_id, MIN(ws) AS ws_ms, COUNT(*) AS transactions, SUM(CAST(quantity AS BIGINT)) AS drinks,
         CAST(SUM({fj.money('total_purchase')}) AS DECIMAL(14, 2)) AS sales, MAX(CURRENT_TIMESTAMP) AS rec_ts
  FROM windowed GROUP BY window_start, product_id
)""")
    fj.run(t_env, stmts)


if __name__ == "__main__":
    main()
