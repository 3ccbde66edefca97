"""Smoothie sales into Kafka: a bounded batch every hour, or on demand from the trigger form."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag

from streamstack.providers.assets import PURCHASES
from streamstack.providers.defaults import DEFAULT_ARGS
from streamstack.providers.generator.operators import SalesGeneratorOperator

DOC = """
### Sales generator

Publishes the product catalogue to `demo.products`, then a bounded batch of smoothie sales:
one message per line item on `demo.purchases` (keyed by `transaction_id`, with `line_number`)
and restock events on `demo.inventories`, through the `kafka_default` connection
(PLAINTEXT, or SASL_SSL with SCRAM-SHA-512 in the connection's extra).

* **mode** `realistic` pauses 2-5 s between transactions, divided by **speed**;
  `load` produces as fast as the broker accepts.
* **seed** makes a run reproducible (same seed, same sales); empty = random, reported in the result.
* The task's XCom is the run summary (transactions, purchases, bytes, events/s, seed).
* It updates the Asset `streamstack.topics.purchases`, so downstream DAGs can be scheduled on new sales.

* **days** simulates that many days of the shop from **start_date** with a volume **profile**:
  event times follow a simulated clock (a week takes seconds in `load` mode), only within opening
  hours, shaped by hour and weekday, with the dated anomalies (storm, outage, promotion, supply
  hold), stockouts and lost sales, and price/COGS changes; shop events go to `demo.events`.

Every number of the shop model (member rate, basket sizes, supplements, restocking...) lives
in `config/generator.yaml`.

**Schedule**: hourly. Unpausing it starts a run of 200 transactions at speed 10 (about 70 s)
every hour, and each run updates `demo.purchases`, which triggers `stream_jobs` if that is
unpaused too.

**Params**

- `transactions` (default 200, 1 to 10,000,000) — sales transactions in the run;
- `mode` (default `realistic`) — `realistic` or `load`;
- `seed` (optional) — reproducible run;
- `speed` (default 10, above 0, at most 1000) — realistic mode only: divides the pauses;
- `days` (optional, 1 to 366) — simulate that many days of the shop instead of a batch;
- `start_date` (optional, YYYY-MM-DD) — first simulated day (default `shop.start_date`);
- `profile` (optional) — volume profile of the simulated days (default `shop.profile`).
"""


@dag(
    dag_id="sales_generator",
    description="Smoothie sales into Kafka: 200 transactions every hour, or a batch of your choice.",
    schedule="@hourly",
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["streamstack", "kafka", "generator"],
    doc_md=DOC,
    default_args=DEFAULT_ARGS,
    params={
        "transactions": Param(200, type="integer", minimum=1, maximum=10_000_000, title="Transactions",
                              description="Sales transactions in this run (each has 1-3 line items)."),
        "mode": Param("realistic", type="string", enum=["realistic", "load"], title="Mode",
                      description="realistic: paced like a shop; load: as fast as the broker accepts."),
        "seed": Param(None, type=["null", "integer"], title="Seed",
                      description="Same seed, same sales. Empty: a random seed (returned in the summary)."),
        "speed": Param(10.0, type=["null", "number"], exclusiveMinimum=0, maximum=1_000_000, title="Speed",
                       description="Divides the realistic mode's 2-5 s pauses (1 = real time); in a "
                                   "simulated run, divides simulated time (3600 = an hour a second)."),
        "days": Param(None, type=["null", "integer"], minimum=1, maximum=366, title="Simulated days",
                      description="Simulate this many days of the shop: opening hours, hourly profile, "
                                  "anomalies, stockouts and price changes (config/generator.yaml `shop`). "
                                  "Ends with the last day; Transactions is then only an upper bound. "
                                  "Empty: an unsimulated batch as before."),
        "start_date": Param(None, type=["null", "string"], format="date", title="Start date",
                            description="First simulated day (YYYY-MM-DD, 00:00 UTC). Empty: shop.start_date."),
        "profile": Param(None, type=["null", "string"], title="Volume profile",
                         description="A profile of shop.profiles (e.g. cafe, flat). Empty: shop.profile."),
    },
)
def sales_generator() -> None:
    # No retry: a retry would publish a second batch (new transaction ids) on top of the first.
    SalesGeneratorOperator(
        task_id="generate_sales",
        outlets=[PURCHASES],
        execution_timeout=timedelta(hours=2),
        retries=0,
        # A simulated run ends with its last day: Transactions is then not a bound.
        transactions="{{ '' if params.days else params.transactions }}",
        mode="{{ params.mode }}",
        seed="{{ params.seed }}",
        speed="{{ params.speed }}",
        days="{{ params.days }}",
        first_day="{{ params.start_date }}",
        profile="{{ params.profile }}",
    )


sales_generator()
