"""Operators for the Kafka Streams apps, thin over ``streamstack.kstreams.control``.

Every operator reads the cluster's client settings from a ``kafka`` connection
(``kafka_default``) through :class:`~streamstack.providers.kafka.hooks.KafkaConfigHook`; the
app gets them as a 0600 properties file, never on its command line. Maven may run at execute
time (the first start builds the apps), never at parse time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator, Context

from streamstack.providers.kafka.hooks import KafkaConfigHook

if TYPE_CHECKING:
    from streamstack.kstreams.control import KStreamsControl

def _apps(app: str) -> list[str]:
    """``"all"`` or one app name -> the app names (checked against the known apps)."""
    from streamstack.kstreams.apps import APPS

    if app == "all":
        return list(APPS)
    if app not in APPS:
        raise ValueError(f"unknown Kafka Streams app {app!r} (known: {', '.join(APPS)}, all)")
    return [app]


class _KStreamsOperator(BaseOperator):
    """Base: which apps, and the connection of the cluster they run against.

    :param app: ``running_totals``, ``purchases_enrichment``, ``sales_windows`` or ``all`` (templated).
    :param kafka_config_id: Airflow connection of the cluster (``kafka_default``).
    """

    template_fields: Sequence[str] = ("app",)

    def __init__(self, *, app: str = "all", kafka_config_id: str = "kafka_default", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.app = app
        self.kafka_config_id = kafka_config_id

    def control(self) -> KStreamsControl:
        """Imported at execute time: no heavy import while the DAG file is parsed."""
        from streamstack.kstreams.control import KStreamsControl

        return KStreamsControl(kafka_config=KafkaConfigHook(kafka_config_id=self.kafka_config_id).client_config())


class KStreamsStartOperator(_KStreamsOperator):
    """Start the app(s) long-running, replacing running copies; returns pid, port and state per app.

    :param threads: stream threads per app.
    :param wait: seconds to wait for RUNNING.
    """

    def __init__(self, *, threads: int = 1, wait: float = 180.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.threads = threads
        self.wait = wait

    def execute(self, context: Context) -> dict[str, Any]:
        control = self.control()
        out = {}
        for app in _apps(self.app):
            report = control.start(app, threads=self.threads, wait=self.wait)
            self.log.info("%s %s: pid %s, http://127.0.0.1:%s, log %s", app, report.state, report.pid,
                          report.port, control.log_file(app))
            out[app] = report.as_dict()
        return out


class KStreamsHealthOperator(_KStreamsOperator):
    """Report each app's state (from its endpoint) and lag; fail unless every one is RUNNING.

    :param require_running: fail when an app is not RUNNING (else only report).
    """

    def __init__(self, *, require_running: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.require_running = require_running

    def execute(self, context: Context) -> list[dict[str, Any]]:
        reports = self.control().health_all(_apps(self.app))
        for r in reports:
            self.log.info("%s: running=%s state=%s pid=%s port=%s lag=%s %s", r.app, r.running, r.state, r.pid,
                          r.port, r.total_lag, r.error or "")
        bad = [f"{r.app}: {r.state or 'not running'} {r.error or ''}".strip() for r in reports if not r.healthy]
        if bad and self.require_running:
            raise RuntimeError("Kafka Streams apps not RUNNING:\n" + "\n".join(bad))
        return [r.as_dict() for r in reports]


class KStreamsStopOperator(_KStreamsOperator):
    """Stop the app(s) cleanly (close with LEAVE_GROUP); returns which were running.

    :param timeout: seconds to wait for a clean close before the app is killed.
    """

    def __init__(self, *, timeout: float = 90.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.timeout = timeout

    def execute(self, context: Context) -> dict[str, bool]:
        control = self.control()
        return {app: control.stop(app, timeout=self.timeout) for app in _apps(self.app)}


class KStreamsResetOperator(_KStreamsOperator):
    """Reset stopped app(s): committed offsets, internal topics and local state are deleted.

    The next start reprocesses every input record (the totals are recomputed, not added to).
    Fails while an app runs: stop it first.
    """

    def execute(self, context: Context) -> list[dict[str, Any]]:
        control = self.control()
        out = []
        for app in _apps(self.app):
            r = control.reset(app)
            self.log.info("%s: group %s deleted=%s, internal topics deleted %s, local state removed=%s",
                          app, r.application_id, r.group_deleted, r.topics_deleted, r.state_removed)
            out.append({"app": app, "application_id": r.application_id, "group_deleted": r.group_deleted,
                        "topics_deleted": r.topics_deleted, "state_removed": r.state_removed})
        return out


class KStreamsRunOperator(_KStreamsOperator):
    """Run the app(s) bounded, side by side: process the inputs up to their current end offsets, then stop.

    :param timeout: seconds before the runs are stopped and the task fails.
    """

    def __init__(self, *, timeout: float = 900.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.timeout = timeout

    def execute(self, context: Context) -> dict[str, Any]:
        apps = _apps(self.app)
        seconds = round(self.control().run_bounded_all(apps, timeout=self.timeout), 1)  # side by side
        self.log.info("%s caught up in %.1fs", ", ".join(apps), seconds)
        return {"apps": apps, "seconds": seconds}
