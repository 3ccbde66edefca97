"""The REST client's behaviour when Airflow is slow: reads are retried, then one clear error."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from streamstack import airflow_client
from streamstack.airflow_client import AirflowApiError, AirflowClient


class SlowSession:
    """Times out ``failures`` times, then answers; counts the calls."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self.headers: dict[str, str] = {}

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls <= self.failures:
            raise requests.ReadTimeout("read timed out")
        response = requests.Response()
        response.status_code = 200
        response.headers["content-type"] = "application/json"
        response._content = b'{"state": "running"}'
        return response


def client(session: SlowSession) -> AirflowClient:
    c = AirflowClient("http://localhost:8080", "admin", "pw")
    c.session = session  # type: ignore[assignment]
    c._token = "t"
    return c


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(airflow_client.time, "sleep", lambda _s: None)


def test_a_read_that_times_out_is_tried_again() -> None:
    session = SlowSession(failures=airflow_client.READ_TRIES - 1)
    assert client(session).request("GET", "/dags/x/dagRuns/r") == {"state": "running"}
    assert session.calls == airflow_client.READ_TRIES


def test_a_read_that_never_answers_is_one_clear_error() -> None:
    session = SlowSession(failures=99)
    with pytest.raises(AirflowApiError, match=r"GET /dags/x: Airflow at http://localhost:8080 did not answer"):
        client(session).request("GET", "/dags/x")
    assert session.calls == airflow_client.READ_TRIES


def test_a_write_is_never_repeated() -> None:
    session = SlowSession(failures=1)
    with pytest.raises(AirflowApiError, match="did not answer"):
        client(session).request("POST", "/dags/x/dagRuns", json={})
    assert session.calls == 1
