"""A small client of the Flink REST API (the JobManager's ``/overview``, ``/jobs``, savepoints).

Plain ``urllib``: the domain code needs no HTTP library, and the calls are few. Every failure
raises :class:`FlinkError` with the URL, so a task fails loudly with something to act on.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from streamstack.flink.jobs import FlinkError


class FlinkUnreachable(FlinkError):
    """The REST API did not answer; ``refused``: nothing listens there (no cluster, so no job)."""

    def __init__(self, message: str, *, refused: bool = False) -> None:
        super().__init__(message)
        self.refused = refused


TERMINAL = {"FINISHED", "FAILED", "CANCELED", "SUSPENDED"}
ALIVE = {"INITIALIZING", "CREATED", "RUNNING", "RESTARTING", "FAILING", "CANCELLING", "RECONCILING"}


@dataclass
class FlinkRest:
    """The REST API at ``url`` (e.g. ``http://127.0.0.1:8081``)."""

    url: str
    timeout: float = 10.0

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:500]
            raise FlinkError(f"Flink REST {method} {self.url}{path}: HTTP {exc.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            refused = isinstance(getattr(exc, "reason", exc), ConnectionRefusedError)
            raise FlinkUnreachable(f"Flink REST {method} {self.url}{path}: cluster not reachable ({exc})",
                                   refused=refused) from None
        return json.loads(raw) if raw else None

    def overview(self) -> dict[str, Any]:
        return self._call("GET", "/overview")

    def jobs(self) -> list[dict[str, Any]]:
        """Every job the cluster knows: ``jid``, ``name``, ``state``, ``start-time``, ..."""
        return self._call("GET", "/jobs/overview")["jobs"]

    def running(self, name: str) -> list[dict[str, Any]]:
        """Jobs of that name that are not finished: a second copy must never be started."""
        return [j for j in self.jobs() if j["name"] == name and j["state"] in ALIVE]

    def job(self, jid: str) -> dict[str, Any]:
        return self._call("GET", f"/jobs/{jid}")

    def checkpoints(self, jid: str) -> dict[str, Any]:
        return self._call("GET", f"/jobs/{jid}/checkpoints")

    def exceptions(self, jid: str) -> dict[str, Any]:
        return self._call("GET", f"/jobs/{jid}/exceptions")

    def wait_state(self, jid: str, states: set[str], timeout: float = 300.0, poll: float = 1.0) -> str:
        deadline = time.monotonic() + timeout
        state = "?"
        while time.monotonic() < deadline:
            state = self.job(jid)["state"]
            if state in states:
                return state
            if state in TERMINAL:
                raise FlinkError(f"Flink job {jid} ended {state}, expected {sorted(states)}: {self.root_cause(jid)}")
            time.sleep(poll)
        raise FlinkError(f"Flink job {jid} still {state} after {timeout:.0f}s (expected {sorted(states)})")

    def root_cause(self, jid: str) -> str:
        try:
            info = self.exceptions(jid)
        except FlinkError as exc:
            return str(exc)
        history = (info.get("exceptionHistory") or {}).get("entries") or []
        text = history[0].get("stacktrace", "") if history else info.get("root-exception") or ""
        return (text or "no exception recorded").strip().splitlines()[0][:500]

    def wait_checkpoint(self, jid: str, after: int = 0, timeout: float = 120.0) -> int:
        """Wait until a checkpoint newer than ``after`` completed; returns its id."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            latest = ((self.checkpoints(jid).get("latest") or {}).get("completed") or {})
            if latest.get("id", 0) > after:
                return int(latest["id"])
            time.sleep(1.0)
        raise FlinkError(f"Flink job {jid}: no completed checkpoint after #{after} within {timeout:.0f}s")

    def stop_with_savepoint(self, jid: str, target: str, drain: bool = False, timeout: float = 300.0) -> str:
        """Stop the job with a savepoint into ``target`` (a file:// URI); returns the savepoint path."""
        trigger = self._call("POST", f"/jobs/{jid}/stop", {"targetDirectory": target, "drain": drain})
        request = trigger["request-id"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self._call("GET", f"/jobs/{jid}/savepoints/{request}")
            if status["status"]["id"] == "COMPLETED":
                op = status.get("operation") or {}
                if "failure-cause" in op:
                    raise FlinkError(f"stop-with-savepoint of {jid} failed: {op['failure-cause'].get('stack-trace', '')[:500]}")
                return op["location"]
            time.sleep(1.0)
        raise FlinkError(f"stop-with-savepoint of {jid} did not complete within {timeout:.0f}s")

    def health(self, jid: str) -> dict[str, Any]:
        """State, restarts, last checkpoint (id, age, duration), for the DAG's status report."""
        job = self.job(jid)
        cps = self.checkpoints(jid)
        latest = (cps.get("latest") or {}).get("completed") or {}
        counts = cps.get("counts") or {}
        return {
            "jid": jid,
            "name": job.get("name"),
            "state": job.get("state"),
            "restarts": counts.get("restored", 0),
            "checkpoints_completed": counts.get("completed", 0),
            "checkpoints_failed": counts.get("failed", 0),
            "last_checkpoint_id": latest.get("id"),
            "last_checkpoint_age_s": round((time.time() * 1000 - latest["latest_ack_timestamp"]) / 1000, 1)
            if latest.get("latest_ack_timestamp") else None,
            "last_checkpoint_path": latest.get("external_path"),
        }
