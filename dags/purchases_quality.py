"""Data quality gate on enriched purchases: hourly and whenever the enriched topic is updated."""

from __future__ import annotations

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task

from streamstack.providers.assets import PURCHASES_ENRICHED
from streamstack.providers.defaults import DEFAULT_ARGS

DOC = """
### Purchases quality

Validates the enriched purchases of a time window with the Great Expectations suite
`expectations/purchases_enriched.json` (schema from `events.py`, catalogue from
`config/products.csv`, plus the business rules: formula, discounts, unique lines, timestamps).

- **Window**: the `window_minutes` before the run's data interval end (or the time it was
  triggered, for runs started by the `streamstack.topics.purchases_enriched` Asset or by hand).
- **Source**: `pinot` (table `purchasesEnriched`) or `kafka` (the topic, by message time).
- **Outcome**: a critical failure fails the task (no retry, same data, same answer) with the
  failed expectations and sample rows in the log; warnings are only logged; an empty window
  *skips* the task. The summary is the XCom `quality_summary`; the log ends with the path of the
  GX Data Docs page; the task's **Data Docs** button opens it in the Airflow UI.

**Schedule**: unpaused, it runs at the top of every hour (checking the hour before) **and**
every time the `streamstack.topics.purchases_enriched` asset is updated (each Spark enrichment run).

**Params**

- `source` (default `pinot`) — `pinot` or `kafka`;
- `window_minutes` (default 60, at least 1) — length of the checked window;
- `max_age_hours` (default 168, at least 0) — oldest acceptable `transaction_time`.
"""


@dag(
    dag_id="purchases_quality",
    description="Great Expectations gate on the enriched purchases of a window; opens its Data Docs from the task.",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 * * * *", timezone="UTC"), assets=[PURCHASES_ENRICHED]
    ),
    tags=["streamstack", "quality", "great-expectations"],
    doc_md=DOC,
    default_args=DEFAULT_ARGS,
    params={
        "source": Param(
            "pinot",
            type="string",
            enum=["pinot", "kafka"],
            title="Source",
            description="Where to read the window: the Pinot table purchasesEnriched or the Kafka topic.",
        ),
        "window_minutes": Param(
            60,
            type="integer",
            minimum=1,
            maximum=10_080,
            title="Window (minutes)",
            description="Length of the checked window, ending at the data interval end.",
        ),
        "max_age_hours": Param(
            168,
            type="number",
            minimum=0,
            title="Max age (hours)",
            description="Oldest acceptable transaction_time before the window end.",
        ),
    },
    max_active_runs=1,
)
def purchases_quality() -> None:
    @task(task_id="check_purchases_enriched")
    def check(
        params: dict | None = None, data_interval_end=None, run_id: str | None = None, ti=None, dag_run=None
    ) -> dict:
        from streamstack.providers.quality.tasks import check_purchases_enriched

        params = params or {}
        end = data_interval_end or getattr(dag_run, "run_after", None)
        return check_purchases_enriched(
            source=params.get("source", "pinot"),
            window_end=end,
            window_minutes=params.get("window_minutes", 60),
            max_age_hours=params.get("max_age_hours"),
            run_id=run_id or "manual",
            ti=ti,
        )

    check()


purchases_quality()
