"""Structure of the spark_streaming DAG: modes, branches, assets, defaults."""

from __future__ import annotations

from pathlib import Path

PROJECT = Path(__file__).resolve().parents[3]


def test_dag_wiring() -> None:
    from airflow.models import DagBag

    bag = DagBag(dag_folder=str(PROJECT / "dags" / "spark_streaming.py"))
    assert bag.import_errors == {}
    dag = bag.dags["spark_streaming"]
    assert dag.params["mode"] == "available-now"
    assert {t.task_id for t in dag.tasks} == {
        "choose_mode", "purchases_enrichment", "running_totals", "sales_windows",
        "start_continuous", "health", "stop_continuous",
    }
    down = {t.task_id: {d.task_id for d in t.downstream_list} for t in dag.tasks}
    assert down["choose_mode"] == {"purchases_enrichment", "start_continuous", "health", "stop_continuous"}
    assert down["purchases_enrichment"] == {"running_totals"}
    assert down["running_totals"] == {"sales_windows"}
    assert down["start_continuous"] == {"health"}
    enrich = dag.get_task("purchases_enrichment")
    assert [a.name for a in enrich.outlets] == ["demo.purchases.enriched"]
    assert enrich._conn_id == "spark_default"
    for task in dag.tasks:
        assert task.owner == "streamstack" and task.retries == 2
    assert dag.tags and dag.doc_md
