"""Sales and drinks per product in 10-minute event-time windows sliding every 5 minutes.

``flink run -py jobs/flink/sales_windows.py --contract FILE --purchases-topic T --output-topic T``

The same windows as ``jobs/spark/sales_windows.py``, as the contract's ``windows`` declares them
(``[start, start + size)``, starts on multiples of the slide since the epoch, so each purchase is
in size/slide windows), computed as a keyed aggregate over (window_start, product_id) rather than
a window operator, which would drop what arrives after the watermark passed a window's end unseen.
A valid line more than ``allowed_lateness_minutes`` behind the newest valid line before it on its
partition (``contract.late_for_windows``) is counted in no window and dead-lettered ``late`` on
``--invalid-topic``, each copy once. The result is
upserts keyed by the window's identity ``{"window_start":...,"product_id":...}``
(``config/topics.yaml``), whose latest value is the window's total, as with Spark's update mode.
State of windows not updated for ``--state-ttl`` is released (after the allowed lateness, a window
gets no more lines).
"""

from __future__ import annotations

import flinkjob as fj

JOB = "sales_windows"


def main(argv: list[str] | None = None) -> None:
    p = fj.parser(JOB, __doc__.splitlines()[0])
    fj.topic_arg(p, "purchases-topic", "purchases")
    fj.topic_arg(p, "output-topic", "sales_windows")
    fj.topic_arg(p, "invalid-topic", "purchases_invalid")
    p.add_argument("--state-ttl", default="7 d", help="how long a window's state is kept after its last update")
    args = p.parse_args(argv)
    contract = fj.check_args(p, args, "purchases_topic", "output_topic", "invalid_topic")
    w = contract["windows"]
    size_ms, slide_ms = w["size_minutes"] * 60_000, w["slide_minutes"] * 60_000
    lateness = f"INTERVAL '{w['allowed_lateness_minutes']}' MINUTE"
    t_env = fj.table_env(args)
    fj.mini_batch(t_env)
    t_env.get_config().set("table.exec.state.ttl", args.state_ttl.replace(" ", ""))
    t_env.execute_sql(fj.purchases_source_ddl(args, contract))
    fj.checked_view(t_env, contract, proctime=True)
    # Late or not (contract.late_for_windows): behind the newest valid line before it on its
    # partition by more than the lateness, decided per record before the de-duplication (each late
    # copy gets its dead letter). Not CURRENT_WATERMARK: the source's watermark follows the order
    # the reader happens to fetch the partitions in (a bounded replay read one partition after the
    # others and called a third of its lines late), and in a job with mini-batches it is the
    # MiniBatchAssigner's processing time. The running maximum per partition is one number each.
    t_env.execute_sql(f"""
CREATE TEMPORARY VIEW gated AS
SELECT *, partition_newest - {lateness} AS windows_wm FROM (
  SELECT *, MAX(tt) OVER (PARTITION BY source_partition ORDER BY pt
                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS partition_newest
  FROM checked WHERE reason IS NULL)""")
    on_time = "tt >= windows_wm"
    t_env.execute_sql(f"CREATE TEMPORARY VIEW on_time AS SELECT * FROM gated WHERE {on_time}")
    fj.first_lines_view(t_env, source="on_time")
    t_env.execute_sql(fj.sink_ddl(args, "invalid_sink", args.invalid_topic, contract["schemas"]["purchases_invalid"]))
    # Upserts per (window_start, product_id): the Kafka key is that pair as a JSON object.
    t_env.execute_sql(fj.sink_ddl(args, "windows_sink", args.output_topic, contract["schemas"]["sales_windows"],
                                  upsert=True, key_fields=("window_start", "product_id")))
    fmt = "DATE_FORMAT(TO_TIMESTAMP_LTZ({}, 3), '" + fj.TS_SQL + "')"
    starts = ", ".join(f"c.first_start - {slide_ms * n}" for n in reversed(range(size_ms // slide_ms)))
    # Grouped by the window_start *text* so the aggregate's upsert key is the sink's primary key:
    # grouped by the number, the planner adds an upsert materializer that writes tombstones.
    t_env.execute_sql(f"""
CREATE TEMPORARY VIEW windowed AS
SELECT {fmt.format('w.ws')} AS window_start, w.ws, c.product_id, c.quantity, c.total_purchase
FROM (SELECT *, transaction_ms - MOD(transaction_ms, {slide_ms}) AS first_start FROM first_lines) AS c
CROSS JOIN UNNEST(ARRAY[{starts}]) AS w(ws)""")
    stmts = t_env.create_statement_set()
    stmts.add_insert_sql(f"""
INSERT INTO windows_sink
SELECT window_start, {fmt.format(f'ws_ms + {size_ms}')} AS window_end, product_id, transactions, drinks, sales, rec_ts
FROM (
  SELECT window_start, product_id, MIN(ws) AS ws_ms, COUNT(*) AS transactions, SUM(CAST(quantity AS BIGINT)) AS drinks,
         CAST(SUM({fj.money('total_purchase')}) AS DECIMAL(14, 2)) AS sales, MAX(CURRENT_TIMESTAMP) AS rec_ts
  FROM windowed GROUP BY window_start, product_id
)""")
    reason = (f"CONCAT('{w['late_code']}: transaction_time ', transaction_time, ' is behind the windows'' watermark ', "
              f"DATE_FORMAT(windows_wm, '{fj.TS_SQL}'), ' (the newest transaction_time before it on partition ', "
              f"CAST(source_partition AS STRING), ' minus {w['allowed_lateness_minutes']} minutes)')")
    stmts.add_insert_sql("INSERT INTO invalid_sink "
                         + fj.dead_letter_select(f"flink.{JOB}", reason, f"gated WHERE NOT ({on_time})", contract))
    fj.run(t_env, stmts)


if __name__ == "__main__":
    main()
