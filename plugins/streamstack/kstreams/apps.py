"""The two Kafka Streams apps and how to launch them: topics, ports, client settings.

One place builds every command line (CLI, Airflow operators, tests, benchmarks), so topics,
contract and security settings never drift between them. Secrets never go on a command line:
the Kafka client settings are written to a 0600 Java properties file whose path is passed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamstack.errors import ConfigError
from streamstack.files import replace_text
from streamstack.kafka_config import java_client_properties
from streamstack.kstreams.build import MAIN_CLASS, Build
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs

#: ``STREAMSTACK_KSTREAMS_PORT``: the HTTP port of running_totals; purchases_enrichment uses +1,
#: sales_windows +2.
PORT_VARIABLE = "STREAMSTACK_KSTREAMS_PORT"
DEFAULT_PORT = 7070
JVM_OPTIONS = ("-Xms64m", "-Xmx384m", "-XX:+UseSerialGC")


@dataclass(frozen=True)
class AppSpec:
    """One app: which logical topic (config/topics.yaml) each ``--<flag>`` names, its port offset."""

    name: str
    topics: dict[str, str]
    port_offset: int
    description: str


APPS: dict[str, AppSpec] = {
    spec.name: spec
    for spec in (
        AppSpec(
            "running_totals",
            {"purchases-topic": "purchases", "output-topic": "running_totals"},
            0,
            "purchases -> running totals per product (exactly once, queryable over HTTP)",
        ),
        AppSpec(
            "purchases_enrichment",
            {
                "purchases-topic": "purchases",
                "products-topic": "products",
                "output-topic": "purchases_enriched",
                "invalid-topic": "purchases_invalid",
            },
            1,
            "purchases + the product version valid at transaction_time -> enriched; bad input -> dead letters",
        ),
        AppSpec(
            "sales_windows",
            {"purchases-topic": "purchases", "output-topic": "sales_windows", "invalid-topic": "purchases_invalid"},
            2,
            "purchases -> sales per product in the contract's sliding windows; late lines -> dead letters",
        ),
    )
}


def app_spec(name: str) -> AppSpec:
    try:
        return APPS[name]
    except KeyError:
        raise ConfigError(f"unknown Kafka Streams app '{name}' (known: {', '.join(APPS)})") from None


def http_port(app: str, environ: Mapping[str, str] | None = None) -> int:
    """The app's HTTP port: ``STREAMSTACK_KSTREAMS_PORT`` (default 7070) plus the app's offset."""
    env = os.environ if environ is None else environ
    raw = env.get(PORT_VARIABLE) or str(DEFAULT_PORT)
    if not raw.isdigit() or not 0 < int(raw) < 65535:
        raise ConfigError(f"environment variable {PORT_VARIABLE}={raw!r} is not a valid port")
    return int(raw) + app_spec(app).port_offset


def default_application_id(app: str) -> str:
    return f"streamstack-{app.replace('_', '-')}"


# ------------------------------------------------------------------------- client settings
def _escape(text: str) -> str:
    out = text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return "\\" + out if out.startswith((" ", "#", "!")) else out


def write_client_properties(path: Path, config: Mapping[str, Any]) -> Path:
    """Write the Java client settings of ``config`` to ``path``, readable by the owner only (0600).

    The translation from librdkafka (the ``kafka_default`` connection's form) is the one every JVM
    client of the project uses (:func:`streamstack.kafka_config.java_client_properties`); Kafka
    Streams reads a Java properties file, so it is written in that format.
    """
    props = java_client_properties(config)
    if "bootstrap.servers" not in props:
        raise ConfigError("the Kafka client settings have no bootstrap.servers")
    lines = ["# written by streamstack for a Kafka Streams app; holds credentials: keep 0600\n"]
    for key, value in props.items():
        lines.append(f"{key.replace(':', chr(92) + ':').replace('=', chr(92) + '=')}={_escape(value)}\n")
    replace_text(path, "".join(lines), mode=0o600)
    return path


# ------------------------------------------------------------------------------- commands
@dataclass(frozen=True)
class Launch:
    """Everything one run of an app needs: the command and where its files go."""

    app: str
    application_id: str
    command: list[str]
    state_dir: Path
    port_file: Path
    client_properties: Path


def launch(
    app: str,
    build: Build,
    *,
    settings: Settings,
    topics: TopicSpecs,
    contract_file: Path,
    client_properties: Path,
    run_dir: Path,
    mode: str = "continuous",
    application_id: str | None = None,
    http_port: int | None = None,
    threads: int = 1,
    java: str = "java",
    extra_args: list[str] | None = None,
) -> Launch:
    """The command line of one app run (no secret in it: they are in ``client_properties``)."""
    spec = app_spec(app)
    if mode not in ("continuous", "bounded"):
        raise ConfigError(f"mode must be 'continuous' or 'bounded', got {mode!r}")
    application_id = application_id or default_application_id(app)
    state_dir = settings.state_dir / "kstreams" / "state"
    port_file = run_dir / f"kstreams-{app}.port.json"
    args = [
        app,
        "--mode", mode,
        "--contract", str(contract_file),
        "--client-properties", str(client_properties),
        "--application-id", application_id,
        "--state-dir", str(state_dir),
        "--http-host", "127.0.0.1",
        "--http-port", str(http_port if http_port is not None else 0),
        "--port-file", str(port_file),
        "--threads", str(threads),
    ]
    for flag, logical in spec.topics.items():
        args += [f"--{flag}", topics[logical].name]
    command = [java, *JVM_OPTIONS, "-cp", build.classpath, MAIN_CLASS, *args, *(extra_args or [])]
    return Launch(app, application_id, command, state_dir, port_file, client_properties)
