"""A busy Airflow API server (a read timeout) does not end ``wait_for_run``: the run goes on."""

from __future__ import annotations

import pytest
import requests

from streamstack.airflow_client import AirflowClient


def test_a_read_timeout_while_watching_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    client = AirflowClient("http://127.0.0.1:1", "admin", "x")
    answers = [requests.ReadTimeout("busy"), {"state": "running"}, requests.ConnectionError("reset"),
               {"state": "success"}]

    def run(dag_id: str, run_id: str):
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(client, "run", run)
    assert client.wait_for_run("d", "r", timeout=60, poll=0)["state"] == "success"
    assert answers == []


def test_past_the_deadline_the_timeout_is_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    client = AirflowClient("http://127.0.0.1:1", "admin", "x")
    monkeypatch.setattr(client, "run", lambda d, r: (_ for _ in ()).throw(requests.ReadTimeout("busy")))
    with pytest.raises(requests.ReadTimeout):
        client.wait_for_run("d", "r", timeout=0, poll=0)
