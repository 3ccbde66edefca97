"""The kstreams_apps DAG: its form (app, action) and one task per action behind the branch."""

from __future__ import annotations

from pathlib import Path

import pytest

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "kstreams_apps.py"


@pytest.fixture(scope="module")
def dag():
    from airflow.models import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    return bag.dags["kstreams_apps"]


def test_the_form_offers_every_app_and_action(dag) -> None:
    params = dag.params.dump()
    assert params == {"app": "all", "action": "status"}
    schema = {name: dag.params.get_param(name).schema for name in params}
    assert schema["app"]["enum"] == ["all", "running_totals", "purchases_enrichment", "sales_windows"]
    assert schema["action"]["enum"] == ["start", "status", "stop", "reset", "run"]
    assert all(s.get("title") for s in schema.values())
    assert all(dag.params.get_param(name).description for name in params)


def test_each_action_is_a_branch_target(dag) -> None:
    branch = dag.get_task("choose_action")
    assert branch.downstream_task_ids == {"start", "status", "stop", "reset", "run"}
    assert dag.get_task("start").downstream_task_ids == {"started"}
    assert dag.description and "streamstack" in dag.tags and dag.doc_md
