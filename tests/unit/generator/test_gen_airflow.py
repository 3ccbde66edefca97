"""The Airflow layer: the DAG's form, schedule and Asset; the operator and task function wiring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DAG_FILE = Path(__file__).resolve().parents[3] / "dags" / "sales_generator.py"


@pytest.fixture(scope="module")
def dag():
    from airflow.models import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    return bag.dags["sales_generator"]


@pytest.mark.parametrize("name", ["sales_generator.py", "streaming_platform.py"])
def test_dags_serialize_as_the_dag_processor_does(name: str) -> None:
    """Templated operator fields must not shadow BaseOperator's (start_date): the processor refuses those."""
    from airflow.models import DagBag
    from airflow.serialization.serialized_objects import DagSerialization

    bag = DagBag(dag_folder=str(DAG_FILE.with_name(name)))
    assert bag.import_errors == {}
    for dag in bag.dags.values():
        DagSerialization.to_dict(dag)


def test_dag_shape(dag) -> None:
    from streamstack.providers.assets import PURCHASES

    assert dag.schedule == "@hourly" or str(dag.timetable.summary) == "@hourly"
    assert dag.max_active_runs == 1 and "generator" in dag.tags and dag.doc_md
    (task,) = dag.tasks
    assert task.outlets == [PURCHASES]
    assert PURCHASES.name == "streamstack.topics.purchases"
    # No retry: a retry would publish a second batch of sales (new transaction ids).
    assert task.retries == 0 and task.owner == "streamstack"


def test_params_render_as_a_typed_form(dag) -> None:
    from airflow.sdk.definitions.param import ParamsDict

    schemas = {name: param.schema for name, param in dag.params.items()}
    assert schemas["transactions"]["type"] == "integer"
    assert schemas["mode"]["enum"] == ["realistic", "load"]
    assert schemas["seed"]["type"] == ["null", "integer"]
    assert schemas["speed"]["type"] == ["null", "number"]  # optional: only realistic mode needs it
    assert schemas["days"]["type"] == ["null", "integer"] and schemas["start_date"]["format"] == "date"
    assert all(dag.params.get_param(n).schema.get("title") and dag.params.get_param(n).description
               for n in ("days", "start_date", "profile"))
    assert dag.params.validate() == {"transactions": 200, "mode": "realistic", "seed": None, "speed": 10.0,
                                     "days": None, "start_date": None, "profile": None}
    from airflow.sdk.exceptions import ParamValidationError

    for name, value in (("mode", "fast"), ("transactions", 0), ("speed", 0), ("seed", "abc"), ("days", 0)):
        params = ParamsDict(dict(dag.params.items()))
        with pytest.raises(ParamValidationError, match=f"Invalid input for param {name}"):
            params[name] = value


def test_operator_turns_templated_strings_back_into_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamstack.providers.generator import operators

    calls = []
    monkeypatch.setattr(operators, "generate_sales", lambda **kw: calls.append(kw) or {"transactions": 1})
    op = operators.SalesGeneratorOperator(task_id="gen", transactions="250", mode="realistic", seed="None", speed="2.5",
                                          duration="", days="7", first_day="2026-02-02", profile="None")
    assert op.execute({}) == {"transactions": 1}
    assert calls == [{"kafka_config_id": "kafka_default", "transactions": 250, "mode": "realistic", "seed": None,
                      "speed": 2.5, "duration": None, "config_file": None, "days": 7, "start_date": "2026-02-02",
                      "profile": None}]
    assert set(op.template_fields) == {"transactions", "mode", "seed", "speed", "duration", "days", "first_day",
                                       "profile"}


def test_task_function_reads_the_airflow_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """A SASL_SSL connection without a password fails with the key named, before any network I/O."""
    from streamstack.errors import ConfigError
    from streamstack.providers.generator.operators import generate_sales

    extra = {"bootstrap.servers": "broker.invalid:9096", "security.protocol": "SASL_SSL", "sasl.username": "u"}
    monkeypatch.setenv("AIRFLOW_CONN_KAFKA_GEN_TEST", json.dumps({"conn_type": "kafka", "extra": extra}))
    with pytest.raises(ConfigError) as err:
        generate_sales(kafka_config_id="kafka_gen_test", transactions=1, mode="load")
    assert err.value.key == "sasl.password"
