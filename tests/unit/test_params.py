"""Trigger-form params checked by the task: a clear message naming the param, mode-dependent rules."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowFailException

from streamstack.providers.params import sales_params, spark_interval


def test_sales_params_accepts_the_demo_defaults() -> None:
    assert sales_params({"transactions": 500, "mode": "realistic", "seed": None, "speed": 100}) == {
        "transactions": 500, "mode": "realistic", "seed": None, "speed": 100.0,
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"transactions": 0, "mode": "load"}, "param transactions=0: must be between 1 and"),
        ({"transactions": 2.5, "mode": "load"}, "param transactions=2.5: must be a whole number"),
        ({"transactions": 5, "mode": "realistic", "speed": -5}, "param speed=-5: must be above 0 and at most 1000"),
        ({"transactions": 5, "mode": "realistic", "speed": 0}, "param speed=0: must be above 0"),
        ({"transactions": 5, "mode": "realistic", "speed": None}, "param speed=None: is required in realistic mode"),
        ({"transactions": 5, "mode": "fast"}, "param mode='fast': must be one of realistic, load"),
    ],
)
def test_sales_params_refuses_with_the_param_named(params: dict, message: str) -> None:
    with pytest.raises(AirflowFailException, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        sales_params(params)


def test_load_mode_ignores_speed() -> None:
    assert sales_params({"transactions": 3, "mode": "load", "speed": None})["speed"] == 1.0
    assert sales_params({"transactions": 3, "mode": "load", "speed": "2.5"})["speed"] == 2.5


def test_interval_is_required_and_checked_only_in_continuous_mode() -> None:
    assert spark_interval("available-now", None) == "1 second"
    assert spark_interval("continuous", " 500 milliseconds ") == "500 milliseconds"
    with pytest.raises(AirflowFailException, match="is required in continuous mode"):
        spark_interval("continuous", "")
    with pytest.raises(AirflowFailException, match="must be a number and a unit"):
        spark_interval("continuous", "fast")
