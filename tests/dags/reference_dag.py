"""The reference for DAG parse times: one task, nothing imported beyond the Task SDK."""

from airflow.sdk import dag, task


@dag(dag_id="parse_time_reference", schedule=None, tags=["reference"])
def parse_time_reference() -> None:
    @task
    def noop() -> None:
        return None

    noop()


parse_time_reference()
