"""A small client of Airflow's REST API v2 — the API the UI uses — for the demo and e2e tests.

Plain HTTP with ``requests`` (no Airflow import), so it works against the embedded stack and
against the compose stack alike. Authentication is SimpleAuthManager's JWT (``/auth/token``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from streamstack.errors import StreamstackError

FINISHED = {"success", "failed"}


#: Tries of an idempotent read before a timeout is an error.
READ_TRIES = 3


class AirflowApiError(StreamstackError):
    """The API refused a request or a run did not finish as expected."""


class AirflowUnreachable(AirflowApiError):
    """Airflow's API did not answer in time (a busy API server, or none): worth waiting out."""


@dataclass
class TaskState:
    task_id: str
    state: str | None
    try_number: int
    map_index: int = -1


class AirflowClient:
    """Trigger DAGs, follow runs, read task states, logs and XComs.

    :param base_url: e.g. ``http://localhost:8080``.
    :param username: an Airflow user (``admin`` in the embedded stack).
    :param password: its password (generated in the embedded stack, never in code).
    """

    def __init__(self, base_url: str, username: str, password: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.password = password
        self.timeout = timeout
        self.session = requests.Session()
        self._token: str | None = None

    # -- plumbing ----------------------------------------------------------------------------
    def _login(self) -> None:
        response = self.session.post(
            f"{self.base_url}/auth/token",
            json={"username": self.username, "password": self.password},
            timeout=self.timeout,
        )
        if response.status_code >= 400:
            raise AirflowApiError(f"login as {self.username} failed: HTTP {response.status_code} {response.text[:300]}")
        self._token = response.json()["access_token"]
        self.session.headers["Authorization"] = f"Bearer {self._token}"

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        if self._token is None:
            self._login()
        url = f"{self.base_url}/api/v2{path}"
        response = self._send(method, url, path, **kwargs)
        if response.status_code == 401:  # token expired: log in again once
            self._login()
            response = self._send(method, url, path, **kwargs)
        if response.status_code >= 400:
            raise AirflowApiError(f"{method} {path}: HTTP {response.status_code} {response.text[:500]}")
        if response.status_code == 204 or not response.content:
            return None  # e.g. a DELETE: nothing to read
        if "json" in response.headers.get("content-type", ""):
            return response.json()
        return response.text

    def _send(self, method: str, url: str, path: str, **kwargs: Any) -> requests.Response:
        """One request; a read (GET) that times out is tried again, since polling a busy API server
        (a loaded 2-core box) must not end a run's wait with a traceback."""
        tries = READ_TRIES if method == "GET" else 1
        for attempt in range(1, tries + 1):
            try:
                return self.session.request(method, url, timeout=self.timeout, **kwargs)
            except (requests.Timeout, requests.ConnectionError) as exc:
                if attempt == tries:
                    raise AirflowUnreachable(
                        f"{method} {path}: Airflow at {self.base_url} did not answer "
                        f"({tries} tries, {self.timeout:.0f}s each): {type(exc).__name__}"
                    ) from exc
                time.sleep(min(2.0 * attempt, 5.0))
        raise AssertionError("unreachable")

    # -- DAGs and runs -----------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return self.request("GET", "/monitor/health")

    def dag(self, dag_id: str) -> dict[str, Any]:
        return self.request("GET", f"/dags/{dag_id}")

    def wait_for_dag(self, dag_id: str, timeout: float = 180.0) -> dict[str, Any]:
        """Wait until the DAG processor has parsed ``dag_id`` (a fresh stack parses lazily)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.dag(dag_id)
            except AirflowApiError as exc:
                if "404" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(2)

    def import_errors(self) -> list[dict[str, Any]]:
        return self.request("GET", "/importErrors")["import_errors"]

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self.request("PATCH", f"/dags/{dag_id}", json={"is_paused": paused})

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        run = self.request("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf or {}})
        return run["dag_run_id"]

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}")

    def runs(self, dag_id: str, limit: int = 100) -> list[dict[str, Any]]:
        return self.request("GET", f"/dags/{dag_id}/dagRuns", params={"limit": limit, "order_by": "-run_after"})[
            "dag_runs"
        ]

    def task_states(self, dag_id: str, run_id: str) -> list[TaskState]:
        data = self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")
        return [
            TaskState(ti["task_id"], ti["state"], ti.get("try_number") or 0, ti.get("map_index", -1))
            for ti in data["task_instances"]
        ]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int, lines: int = 60) -> str:
        data = self.request(
            "GET",
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{max(try_number, 1)}",
            params={"full_content": "true"},
            headers={"Accept": "application/json"},
        )
        content = data.get("content", data) if isinstance(data, dict) else data
        if isinstance(content, list):
            text = "\n".join(
                (f"{c.get('timestamp', '')} {c.get('level', '')} {c.get('event', '')}" if isinstance(c, dict) else str(c))
                for c in content
            )
        else:
            text = str(content)
        return "\n".join(text.splitlines()[-lines:])

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        data = self.request(
            "GET",
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}",
            params={"deserialize": "true", "stringify": "false"},
        )
        return data.get("value")

    def wait_for_run(
        self,
        dag_id: str,
        run_id: str,
        timeout: float = 900.0,
        on_change: Callable[[list[TaskState]], None] | None = None,
        poll: float = 2.0,
    ) -> dict[str, Any]:
        """Poll until the run finishes; ``on_change`` sees the task states when they change."""
        import requests

        deadline = time.monotonic() + timeout
        last: list[tuple[str, str | None]] = []
        while True:
            try:
                run = self.run(dag_id, run_id)
                states = self.task_states(dag_id, run_id) if on_change is not None else []
            except (requests.Timeout, requests.ConnectionError, AirflowUnreachable):
                # A busy API server (a loaded machine) answers late: the run goes on, so does the watch.
                if time.monotonic() > deadline:
                    raise
                time.sleep(poll)
                continue
            if on_change is not None:
                snapshot = [(t.task_id, t.state) for t in states]
                if snapshot != last:
                    on_change(states)
                    last = snapshot
            if run["state"] in FINISHED:
                return run
            if time.monotonic() > deadline:
                raise AirflowApiError(
                    f"{dag_id} run {run_id} still {run['state']} after {timeout:.0f}s\n"
                    + self.failure_report(dag_id, run_id)
                )
            time.sleep(poll)

    def failure_report(self, dag_id: str, run_id: str, lines: int = 40) -> str:
        """Task states and the log tail of every failed, retrying or still running task."""
        out = [f"DAG {dag_id} run {run_id}:"]
        states = self.task_states(dag_id, run_id)
        for ti in states:
            out.append(f"  {ti.task_id:<32} {ti.state}")
        for ti in states:
            if ti.state in ("failed", "upstream_failed", "up_for_retry", "running") and ti.try_number:
                out.append(f"--- log tail of {ti.task_id} (try {ti.try_number}) ---")
                out.append(self.task_log(dag_id, run_id, ti.task_id, ti.try_number, lines))
        return "\n".join(out)
