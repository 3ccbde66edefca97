"""The engines' connections, and an engine built from them.

Every engine reads and writes Kafka through ``kafka_default``. Besides it, as the providers do for
their systems: ``spark_default`` (conn type ``spark``: the master), ``flink_default`` (``flink``:
the JobManager's REST API, which ``flink run`` submits to as well) and ``kstreams_default``
(``kstreams``: where the Kafka Streams apps serve HTTP, and their stream threads). The two new
connection types are registered with Airflow (``streamstack.providers.get_provider_info``), so
the UI shows their forms and the Test button asks the cluster or the apps. Tasks are configured
by these connections only; the embedded stack defines them as ``AIRFLOW_CONN_*``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from streamstack.providers.engines.forms import FORMS

if TYPE_CHECKING:
    from streamstack.engines import StreamEngine

FLINK_DEFAULT = "flink_default"
KSTREAMS_DEFAULT = "kstreams_default"
SPARK_DEFAULT = "spark_default"
KAFKA_DEFAULT = "kafka_default"


class FlinkRestHook(BaseHook):
    """Flink's REST API (conn type ``flink``: host, port, schema).

    :param flink_conn_id: the connection, ``flink_default`` by default.
    """

    conn_name_attr = "flink_conn_id"
    default_conn_name = FLINK_DEFAULT
    conn_type = "flink"
    hook_name = FORMS[conn_type][1]

    def __init__(self, flink_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.flink_conn_id = flink_conn_id

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return FORMS[cls.conn_type][2]

    def url(self) -> str:
        conn = self.get_connection(self.flink_conn_id)
        return f"{conn.schema or 'http'}://{conn.host or '127.0.0.1'}:{conn.port or 8081}"

    def test_connection(self) -> tuple[bool, str]:
        """The UI's Test button: the cluster's version and TaskManagers, or why not."""
        from streamstack.flink.jobs import FlinkError
        from streamstack.flink.rest import FlinkRest

        try:
            overview = FlinkRest(self.url(), timeout=5).overview()
        except FlinkError as exc:
            return False, str(exc)
        return True, f"Flink {overview.get('flink-version')}: {overview.get('taskmanagers')} TaskManager(s), " \
                     f"{overview.get('jobs-running')} job(s) running"


class KStreamsHook(BaseHook):
    """The Kafka Streams apps (conn type ``kstreams``): ``host`` and ``port`` where the first app
    serves HTTP (the others on the next ports), extra ``{"threads": n}``.

    :param kstreams_conn_id: the connection, ``kstreams_default`` by default.
    """

    conn_name_attr = "kstreams_conn_id"
    default_conn_name = KSTREAMS_DEFAULT
    conn_type = "kstreams"
    hook_name = FORMS[conn_type][1]

    def __init__(self, kstreams_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kstreams_conn_id = kstreams_conn_id

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return FORMS[cls.conn_type][2]

    def options(self) -> dict[str, Any]:
        """``KStreamsControl`` options: each app's HTTP port, stream threads."""
        from streamstack.kstreams.apps import APPS

        conn = self.get_connection(self.kstreams_conn_id)
        options: dict[str, Any] = {"threads": int(conn.extra_dejson.get("threads", 1))}
        if conn.port:
            options["ports"] = {app: int(conn.port) + spec.port_offset for app, spec in APPS.items()}
        return options

    def test_connection(self) -> tuple[bool, str]:
        """The UI's Test button: which apps answer on their HTTP ports."""
        import json
        import urllib.request

        from streamstack.kstreams.apps import APPS

        conn = self.get_connection(self.kstreams_conn_id)
        answers = []
        for app, spec in APPS.items():
            url = f"http://{conn.host or '127.0.0.1'}:{int(conn.port or 7070) + spec.port_offset}/health"
            try:
                with urllib.request.urlopen(url, timeout=3) as resp:
                    answers.append(f"{app}: {json.loads(resp.read()).get('state')}")
            except OSError:
                answers.append(f"{app}: not answering")
        return any(not a.endswith("not answering") for a in answers), "; ".join(answers)


def spark_master(conn_id: str = SPARK_DEFAULT) -> str:
    """The master URL of a ``spark`` connection: ``host`` (``local[*]``, ``yarn``, ``spark://h``) and
    port, read as the Spark provider's hook reads it."""
    conn = BaseHook.get_connection(conn_id)
    master = conn.host or "local[*]"
    return f"{master}:{conn.port}" if conn.port else master


def engine_from_connections(
    name: str | None,
    *,
    kafka_config_id: str = KAFKA_DEFAULT,
    spark_conn_id: str = SPARK_DEFAULT,
    flink_conn_id: str = FLINK_DEFAULT,
    kstreams_conn_id: str = KSTREAMS_DEFAULT,
) -> StreamEngine:
    """Engine ``name`` (empty: ``STREAMSTACK_ENGINE``, else spark) configured by the connections."""
    from streamstack import engines
    from streamstack.providers.kafka.hooks import KafkaConfigHook

    chosen = engines.engine(name or None)
    kafka_config = KafkaConfigHook(kafka_config_id=kafka_config_id).client_config()
    options = {
        "spark": lambda: {"master": spark_master(spark_conn_id)},
        "flink": lambda: {"cfg": _flink_config(flink_conn_id)},
        "kstreams": lambda: KStreamsHook(kstreams_conn_id).options(),
    }
    return engines.get(chosen, kafka_config=kafka_config, **options[chosen]())


def _flink_config(flink_conn_id: str) -> Any:
    from dataclasses import replace

    from streamstack.flink.config import FlinkConfig

    return replace(FlinkConfig.from_env(), url_override=FlinkRestHook(flink_conn_id).url())
