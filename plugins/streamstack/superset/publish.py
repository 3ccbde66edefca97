"""Publish the dashboards as code: the database connection, then the bundle, then a check.

Used by ``streamstack superset import`` and by the Airflow hook (the same steps either way).
Idempotent: the connection is created or updated by uuid, the import overwrites by uuid, so a
second and third run leave the same objects (same ids, same counts) behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamstack.settings import Settings
from streamstack.superset.bundle import Bundle, build_bundle, load_definition, pinot_uri
from streamstack.superset.client import SupersetClient, SupersetError

DEFINITION = Path("superset") / "dashboards.yaml"


@dataclass
class PublishReport:
    """What one publish did and where the dashboards are."""

    database: str
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> title, url, id, charts
    counts: dict[str, int] = field(default_factory=dict)  # objects of ours in Superset after the import

    def as_dict(self) -> dict[str, Any]:
        return {"database": self.database, "dashboards": self.dashboards, "counts": self.counts}


def definition_file(settings: Settings) -> Path:
    return settings.config_dir / DEFINITION


def make_bundle(settings: Settings | None, broker: str, controller: str, *,
                auth: tuple[str, str] | None = None, **kwargs: Any) -> Bundle:
    """The bundle of ``config/superset/dashboards.yaml`` for a Pinot at ``broker``/``controller`` (host:port).

    :param settings: where the project's config is (None: ``Settings.from_env()``).
    :param auth: Pinot's basic-auth ``(user, password)`` (the secured profile), for the database URI.
    """
    settings = settings or Settings.from_env()
    return build_bundle(
        load_definition(definition_file(settings)),
        schemas_dir=settings.config_dir / "pinot" / "schemas",
        database_uri=pinot_uri(broker, controller, auth=auth),
        **kwargs,
    )


def publish(client: SupersetClient, bundle: Bundle, *, test_connection: bool = True) -> PublishReport:
    """Connection (tested), import, then check every dashboard of the bundle exists with its charts."""
    name, uri, db_uuid = bundle.database["name"], bundle.database["uri"], bundle.database["uuid"]
    if test_connection:
        client.test_connection(name, uri)
    change = client.ensure_database(name, uri, db_uuid)
    client.import_bundle(bundle)
    report = PublishReport(database=f"{change.action} {name!r} (id {change.id})")
    by_uuid = {d["uuid"]: d for d in client.dashboards()}
    for key, info in bundle.dashboards.items():
        board = by_uuid.get(info["uuid"])
        if board is None:
            raise SupersetError(f"dashboard {info['title']!r} ({info['uuid']}) is missing after the import")
        charts = client.dashboard_charts(board["id"])
        report.dashboards[key] = {
            "id": board["id"],
            "title": board["dashboard_title"],
            "slug": board["slug"],
            "url": f"{client.url}/superset/dashboard/{board['slug'] or board['id']}/",
            "charts": len(charts),
        }
    report.counts = {kind: sum(1 for o in objs if o.get("uuid") in set(bundle.uuids[kind]))
                     for kind, objs in client.objects().items()}  # fmt: skip
    return report
