"""The environment that runs Airflow in embedded mode against the local stack.

Used by the CLI (``streamstack airflow ...``), the Makefile and the tests, so that
``airflow dags test`` locally sees the same DAGs, home and connections as CI. Connections are
environment variables (``AIRFLOW_CONN_*``): nothing secret lives in a file or in the code.
"""

from __future__ import annotations

import json
from pathlib import Path

from streamstack.pinot.endpoints import pinot_connections
from streamstack.runtime.process import private_dir, private_file
from streamstack.settings import Settings
from streamstack.superset.endpoints import superset_connection

#: ``[logging] namespace_levels`` of the embedded Airflow (and of docker-compose.yml).
THIRD_PARTY_LOG_LEVELS = (
    "great_expectations=WARNING py4j=WARNING urllib3=WARNING httpx=WARNING httpcore=WARNING "
    "pinotdb=WARNING confluent_kafka=WARNING kafka=WARNING matplotlib=WARNING"
)


def engine_connections(settings: Settings) -> dict[str, str]:
    """``flink_default`` (the session cluster's REST API) and ``kstreams_default`` (the apps' first
    HTTP port) of the embedded stack."""
    from urllib.parse import urlsplit

    from streamstack.flink.config import FlinkConfig
    from streamstack.kstreams.apps import APPS, http_port

    rest = urlsplit(FlinkConfig.from_env(settings).rest_url)
    first = min(APPS.values(), key=lambda spec: spec.port_offset).name
    return {
        "AIRFLOW_CONN_FLINK_DEFAULT": json.dumps({"conn_type": "flink", "host": rest.hostname, "port": rest.port,
                                                  "schema": rest.scheme}),
        "AIRFLOW_CONN_KSTREAMS_DEFAULT": json.dumps({"conn_type": "kstreams", "host": "127.0.0.1",
                                                     "port": http_port(first), "extra": {"threads": 1}}),
    }


def airflow_environment(settings: Settings) -> dict[str, str]:
    """``AIRFLOW_*`` variables for the embedded stack (values a caller's environment may override)."""
    kafka_conn = {
        "conn_type": "kafka",
        # The broker's own settings: SASL_SSL with the stack's password in the secured profile.
        "extra": {**settings.kafka_client_config(), "group.id": "streamstack"},
    }
    return {
        "AIRFLOW_HOME": str(settings.airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.project_dir / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(settings.project_dir / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        # The connection form's Test button (off by default): one local user, loopback only.
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{settings.airflow_home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(settings.airflow_home / "logs"),
        # Third-party libraries below WARNING stay out of task logs (GX alone logs ~200 INFO lines
        # per check); override the variable to see them again.
        "AIRFLOW__LOGGING__NAMESPACE_LEVELS": THIRD_PARTY_LOG_LEVELS,
        # The log servers and the scheduler's health check move with the API server's port, so
        # two stacks (a user's and the tests') can run side by side; Airflow's defaults (8793,
        # 8794, 8974) at the default port.
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(8793 + settings.airflow_port - 8080),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(8794 + settings.airflow_port - 8080),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(8974 + settings.airflow_port - 8080),
        "AIRFLOW_CONN_KAFKA_DEFAULT": json.dumps(kafka_conn),
        "AIRFLOW_CONN_SPARK_DEFAULT": json.dumps({"conn_type": "spark", "host": "local[*]"}),
        **engine_connections(settings),
        **pinot_connections(settings),
        **superset_connection(settings),
        "STREAMSTACK_PROJECT_DIR": str(settings.project_dir),
        "STREAMSTACK_STATE_DIR": str(settings.state_dir),
    }


#: What Airflow keeps under AIRFLOW_HOME that others must not read: ``airflow.cfg`` holds the
#: Fernet key, ``[api_auth] jwt_secret`` and ``[api] secret_key``; the metadata DB XComs and variables.
AIRFLOW_SECRETS = ("airflow.cfg", "airflow.db")

#: The umask of every Airflow process streamstack starts: what they write is the user's alone.
PRIVATE_UMASK = 0o077


def private_airflow_home(settings: Settings) -> Path:
    """Make the state dir and AIRFLOW_HOME 0700 (and Airflow's secrets in it 0600) before Airflow
    writes there: the first writer may be ``streamstack airflow ...`` or a test session rather than
    ``stack up``, and a JWT secret once copied stays valid (it is never rotated)."""
    private_dir(settings.state_dir)
    home = private_dir(settings.airflow_home)
    for name in AIRFLOW_SECRETS:
        private_file(home / name)
    return home
