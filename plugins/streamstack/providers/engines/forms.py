"""The connection forms of the engines, as data: the hooks' ``get_ui_field_behaviour`` and the
provider info (which Airflow reads without importing any hook) both come from here."""

from __future__ import annotations

from typing import Any

#: connection type -> (hook class path, hook name, field behaviour).
FORMS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "flink": ("streamstack.providers.engines.hooks.FlinkRestHook", "Apache Flink (REST API)", {
        "hidden_fields": ["login", "password", "extra"],
        "relabeling": {"host": "JobManager host", "port": "REST port", "schema": "Scheme"},
        "placeholders": {"host": "127.0.0.1", "port": "8081", "schema": "http"},
    }),
    "kstreams": ("streamstack.providers.engines.hooks.KStreamsHook", "Kafka Streams apps", {
        "hidden_fields": ["login", "password", "schema"],
        "relabeling": {"host": "HTTP host of the apps", "port": "HTTP port of the first app"},
        "placeholders": {"host": "127.0.0.1", "port": "7070", "extra": '{"threads": 1}'},
    }),
}


def connection_types() -> list[dict[str, Any]]:
    """The ``connection-types`` of the provider info (kebab-case keys, as Airflow 3.3 reads them)."""
    return [
        {"connection-type": conn_type, "hook-class-name": hook, "hook-name": name,
         "ui-field-behaviour": {"hidden-fields": form["hidden_fields"], "relabeling": form["relabeling"],
                                "placeholders": form["placeholders"]}}
        for conn_type, (hook, name, form) in FORMS.items()
    ]
