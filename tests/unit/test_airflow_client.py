"""The Airflow REST client rides out a loaded API server: GETs that time out are tried again, then fail in one line."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from streamstack import airflow_client
from streamstack.airflow_client import AirflowApiError, AirflowClient


class Answer:
    status_code = 200
    headers = {"content-type": "application/json"}
    text = '{"state": "running"}'

    def json(self) -> dict[str, Any]:
        return {"state": "running"}


class FlakySession:
    """Times out ``failures`` times, then answers."""

    def __init__(self, failures: int) -> None:
        self.failures, self.calls, self.headers = failures, [], {}

    def request(self, method: str, url: str, **kwargs: Any) -> Answer:
        self.calls.append(method)
        if len(self.calls) <= self.failures:
            raise requests.ReadTimeout("Read timed out. (read timeout=30.0)")
        return Answer()


def client(failures: int, monkeypatch: pytest.MonkeyPatch) -> tuple[AirflowClient, FlakySession]:
    monkeypatch.setattr(airflow_client.time, "sleep", lambda seconds: None)
    c = AirflowClient("http://localhost:8080", "admin", "secret")
    c._token = "token"
    c.session = FlakySession(failures)  # type: ignore[assignment]
    return c, c.session  # type: ignore[return-value]


def test_a_poll_that_times_out_is_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    c, session = client(airflow_client.GET_ATTEMPTS - 1, monkeypatch)
    assert c.run("streaming_platform", "manual__1") == {"state": "running"}
    assert session.calls == ["GET"] * airflow_client.GET_ATTEMPTS


def test_a_server_that_never_answers_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    c, _ = client(99, monkeypatch)
    with pytest.raises(AirflowApiError) as caught:
        c.run("streaming_platform", "manual__1")
    message = str(caught.value)
    assert "\n" not in message and "no answer from http://localhost:8080" in message and "ReadTimeout" in message


def test_a_trigger_is_never_sent_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    c, session = client(1, monkeypatch)
    with pytest.raises(AirflowApiError, match="POST /dags/d/dagRuns: no answer"):
        c.request("POST", "/dags/d/dagRuns", json={})
    assert session.calls == ["POST"]
