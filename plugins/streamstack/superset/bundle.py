"""Superset's v1 import bundle, built from ``config/superset/dashboards.yaml`` and the Pinot schemas.

The compact definition names datasets, charts and dashboards by keys; this module derives every
uuid from those keys (uuid5), the dataset columns from ``config/pinot/schemas/<table>.json``, the
dashboard layout from rows of ``chart: width``, and writes the YAML files Superset's importer
reads (``metadata.yaml``, ``databases/``, ``datasets/<db>/``, ``charts/``, ``dashboards/``).
The same definition always gives the same bundle: importing it again overwrites the same objects.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import yaml

from streamstack.errors import ConfigError

#: Namespace of every uuid in the bundle (uuid5 of "<kind>/<key>").
NAMESPACE = uuid.UUID("5b0e6c1e-3c55-4f0a-9a57-7f7d1f1e5e11")
VERSION = "1.0.0"
ROOT = "streamstack_superset"
VIZ_TYPES = {
    "table",
    "big_number_total",
    "pie",
    "echarts_timeseries_bar",
    "echarts_timeseries_line",
    "echarts_area",
    "big_number",
}
#: What Superset puts in place of a database password wherever it shows a URI
#: (``superset.constants.PASSWORD_MASK``); its importer keeps the stored password for it.
PASSWORD_MASK = "X" * 10
#: Pinot schema data types -> the type names Superset shows (and uses to pick operators).
PINOT_TYPES = {"STRING": "STRING", "INT": "INT", "LONG": "LONG", "FLOAT": "FLOAT", "DOUBLE": "DOUBLE",
               "BOOLEAN": "BOOLEAN", "TIMESTAMP": "TIMESTAMP", "JSON": "JSON", "BYTES": "BYTES"}  # fmt: skip


@dataclass(frozen=True)
class Bundle:
    """The files of one import bundle (path inside the zip -> YAML text) and what they hold."""

    files: dict[str, str]
    dashboards: dict[str, dict[str, str]]  # key -> {"uuid", "title", "slug"}
    database: dict[str, str]  # name, uri (with the password, if any), uuid
    uuids: dict[str, list[str]]  # kind (databases, datasets, charts, dashboards) -> uuids

    def zip_bytes(self) -> bytes:
        """The bundle as the zip Superset's import endpoints take (one top-level folder)."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path, text in sorted(self.files.items()):
                info = zipfile.ZipInfo(f"{ROOT}/{path}", date_time=(2024, 1, 1, 0, 0, 0))
                zf.writestr(info, text)
        return buf.getvalue()

    def write(self, out_dir: Path) -> list[Path]:
        """Write the YAML files under ``out_dir`` (to read or diff them)."""
        written = []
        for path, text in sorted(self.files.items()):
            target = out_dir / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            written.append(target)
        return written


def stable_uuid(kind: str, key: str, salt: str = "") -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}/{key}{'/' + salt if salt else ''}"))


def load_definition(path: Path) -> dict[str, Any]:
    """Read and check the compact definition; errors name the file and the key."""
    try:
        doc = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=path) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", file=path) from exc
    if not isinstance(doc, dict):
        raise ConfigError("must be a mapping with database, datasets, charts, dashboards", file=path)
    for section in ("database", "datasets", "charts", "dashboards"):
        if not isinstance(doc.get(section), dict) or not doc[section]:
            raise ConfigError("missing or empty section", file=path, key=section)
    datasets = doc["datasets"]
    for key, chart in doc["charts"].items():
        where = f"charts.{key}"
        for field in ("title", "dataset", "viz"):
            if not chart.get(field):
                raise ConfigError("missing", file=path, key=f"{where}.{field}")
        if chart["dataset"] not in datasets:
            raise ConfigError(f"unknown dataset {chart['dataset']!r} (known: {sorted(datasets)})",
                              file=path, key=f"{where}.dataset")  # fmt: skip
        if chart["viz"] not in VIZ_TYPES:
            raise ConfigError(f"unknown viz {chart['viz']!r} (known: {sorted(VIZ_TYPES)})", file=path, key=f"{where}.viz")
        metrics = datasets[chart["dataset"]].get("metrics") or {}
        params = chart.get("params") or {}
        named = list(params.get("metrics") or []) + ([params["metric"]] if "metric" in params else [])
        for metric in named:
            if isinstance(metric, str) and metric not in metrics:
                raise ConfigError(f"unknown metric {metric!r} of dataset {chart['dataset']} (known: {sorted(metrics)})",
                                  file=path, key=f"{where}.params")  # fmt: skip
        if chart["viz"] == "big_number_total":
            _check_kpi_text(params, path, f"{where}.params")
    for key, board in doc["dashboards"].items():
        if not board.get("title"):
            raise ConfigError("missing", file=path, key=f"dashboards.{key}.title")
        for i, row in enumerate(board.get("rows") or []):
            charts = row.get("charts") if isinstance(row, dict) else None
            if not charts:
                raise ConfigError("a row needs charts: {chart: width}", file=path, key=f"dashboards.{key}.rows[{i}]")
            for chart, width in charts.items():
                if chart not in doc["charts"]:
                    raise ConfigError(f"unknown chart {chart!r}", file=path, key=f"dashboards.{key}.rows[{i}]")
                if not isinstance(width, int) or not 1 <= width <= 12:
                    raise ConfigError(f"width of {chart} must be 1..12", file=path, key=f"dashboards.{key}.rows[{i}]")
            if sum(charts.values()) > 12:
                raise ConfigError("widths add up to more than 12", file=path, key=f"dashboards.{key}.rows[{i}]")
    return doc


def _check_kpi_text(params: dict[str, Any], path: Path, key: str) -> None:
    """A big_number_total's line under the number must come with its font size.

    Superset 6.1's big_number_total shows ``subtitle`` (else the older ``subheader``) at
    ``subtitle_font_size`` (else ``subheader_font_size``) times the tile height, and when that
    size is missing it takes 1: the line is fitted to the tile's whole height, the tile's content
    outgrows it and the tile scrolls (issue #29; test_kpi_tiles_do_not_scroll).
    """
    if str(params.get("subtitle") or "").strip():
        size_key = "subtitle_font_size"
    elif params.get("subheader"):
        size_key = "subheader_font_size"
    else:
        return
    size = params.get(size_key)
    if not isinstance(size, int | float) or not 0 < size <= 0.4:
        raise ConfigError(f"{size_key} must be set, 0 < size <= 0.4 (0.15 is Explore's default): without it "
                          "Superset 6.1 sizes the line under the number to the whole tile, which then scrolls",
                          file=path, key=key)  # fmt: skip


def _dump(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def _pinot_columns(schemas_dir: Path, table: str) -> tuple[list[dict[str, Any]], str | None]:
    path = schemas_dir / f"{table}.json"
    try:
        schema = json.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"no Pinot schema for dataset {table!r}: {exc.strerror}", file=path) from exc
    columns, dttm = [], None
    for group in ("dimensionFieldSpecs", "metricFieldSpecs", "dateTimeFieldSpecs"):
        for spec in schema.get(group, []):
            is_dttm = group == "dateTimeFieldSpecs"
            dttm = dttm or (spec["name"] if is_dttm else None)
            columns.append(
                {
                    "column_name": spec["name"],
                    "verbose_name": None,
                    "is_dttm": is_dttm,
                    "is_active": True,
                    "type": PINOT_TYPES.get(spec["dataType"], spec["dataType"]),
                    "groupby": True,
                    "filterable": True,
                    "expression": None,
                    "description": None,
                    "python_date_format": None,
                    "extra": {},
                }
            )
    return columns, dttm


def _position(title: str, board: dict[str, Any], charts: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """Superset's v2 layout: ROOT > GRID > ROW > CHART (+ a markdown subtitle row)."""
    pos: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": title}},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
    }
    rows = list(board.get("rows") or [])
    if board.get("subtitle"):
        row_id = "ROW-subtitle"
        pos["GRID_ID"]["children"].append(row_id)
        pos[row_id] = {"type": "ROW", "id": row_id, "children": ["MARKDOWN-subtitle"], "parents": ["ROOT_ID", "GRID_ID"],
                       "meta": {"background": "BACKGROUND_TRANSPARENT"}}  # fmt: skip
        pos["MARKDOWN-subtitle"] = {
            "type": "MARKDOWN", "id": "MARKDOWN-subtitle", "children": [],
            "parents": ["ROOT_ID", "GRID_ID", row_id],
            "meta": {"width": 12, "height": 8, "code": f"*{board['subtitle']}*"},
        }  # fmt: skip
    for i, row in enumerate(rows):
        row_id = f"ROW-{i}"
        pos["GRID_ID"]["children"].append(row_id)
        pos[row_id] = {"type": "ROW", "id": row_id, "children": [], "parents": ["ROOT_ID", "GRID_ID"],
                       "meta": {"background": "BACKGROUND_TRANSPARENT"}}  # fmt: skip
        for key, width in row["charts"].items():
            chart_id = f"CHART-{key}"
            pos[row_id]["children"].append(chart_id)
            pos[chart_id] = {
                "type": "CHART", "id": chart_id, "children": [], "parents": ["ROOT_ID", "GRID_ID", row_id],
                "meta": {"width": width, "height": int(row.get("height", 50)), "uuid": charts[key]["uuid"],
                         "sliceName": charts[key]["title"], "chartId": 0},
            }  # fmt: skip
    return pos


def build_bundle(
    definition: dict[str, Any],
    *,
    schemas_dir: Path,
    database_uri: str,
    tables: Mapping[str, str] | None = None,
    salt: str = "",
    title_suffix: str = "",
) -> Bundle:
    """The import bundle of ``definition``.

    :param schemas_dir: ``config/pinot/schemas`` (dataset columns come from there).
    :param database_uri: the pinotdb SQLAlchemy URI of this environment. Its password goes only
        into ``Bundle.database`` (``publish`` sets it through the database API before the import);
        the bundle's files carry Superset's mask, as Superset's own exports do, so a written or
        uploaded bundle holds no secret.
    :param tables: dataset key -> Pinot table actually used (tests point at suffixed tables).
    :param salt: mixed into every uuid and name, so a test's copy never touches the real objects.
    :param title_suffix: appended to dashboard titles and slugs (with ``salt``, for tests).
    """
    tables = dict(tables or {})
    db = definition["database"]
    db_key = db.get("key", "pinot")
    db_name = db["name"] + (f" {salt}" if salt else "")
    db_uuid = stable_uuid("database", db_key, salt)
    files: dict[str, str] = {}
    files[f"databases/{db_key}.yaml"] = _dump(
        {
            "database_name": db_name,
            "sqlalchemy_uri": masked_uri(database_uri),
            "cache_timeout": None,
            "expose_in_sqllab": True,
            "allow_run_async": False,
            "allow_ctas": False,
            "allow_cvas": False,
            "allow_dml": False,
            "allow_csv_upload": False,
            "extra": {"allows_virtual_table_explore": True},
            "uuid": db_uuid,
            "version": VERSION,
        }
    )
    dataset_uuids = {}
    for key, ds in definition["datasets"].items():
        table = tables.get(key, ds.get("table", key))
        columns, dttm = _pinot_columns(schemas_dir, ds.get("schema", key))
        for name, col in (ds.get("computed_columns") or {}).items():
            columns.append({**columns[0], "column_name": name, "is_dttm": False, "type": col.get("type", "STRING"),
                            "expression": col["expression"], "description": col.get("description")})  # fmt: skip
        metrics = [
            {
                "metric_name": name,
                "verbose_name": m.get("label"),
                "metric_type": None,
                "expression": m["expression"],
                "description": m.get("description"),
                "d3format": m.get("d3format"),
                "extra": {},
                "warning_text": None,
            }
            for name, m in (ds.get("metrics") or {}).items()
        ]
        dataset_uuids[key] = stable_uuid("dataset", key, salt)
        files[f"datasets/{db_key}/{table}.yaml"] = _dump(
            {
                "table_name": table,
                "main_dttm_col": ds.get("time_column", dttm),
                "description": ds.get("description"),
                "default_endpoint": None,
                "offset": 0,
                "cache_timeout": None,
                "schema": None,
                "sql": None,
                "params": None,
                "template_params": None,
                "filter_select_enabled": True,
                "fetch_values_predicate": None,
                "extra": None,
                "uuid": dataset_uuids[key],
                "metrics": metrics,
                "columns": columns,
                "version": VERSION,
                "database_uuid": db_uuid,
            }
        )
    charts: dict[str, dict[str, Any]] = {}
    for key, chart in definition["charts"].items():
        charts[key] = {"uuid": stable_uuid("chart", key, salt), "title": chart["title"]}
        params = {"viz_type": chart["viz"], **(chart.get("params") or {})}
        files[f"charts/{key}.yaml"] = _dump(
            {
                "slice_name": chart["title"],
                "description": chart.get("description"),
                "certified_by": None,
                "certification_details": None,
                "viz_type": chart["viz"],
                "params": params,
                "query_context": None,
                "cache_timeout": None,
                "uuid": charts[key]["uuid"],
                "version": VERSION,
                "dataset_uuid": dataset_uuids[chart["dataset"]],
            }
        )
    dashboards = {}
    for key, board in definition["dashboards"].items():
        title = board["title"] + title_suffix
        slug = board.get("slug", key) + (f"-{salt}" if salt else "")
        board_uuid = stable_uuid("dashboard", key, salt)
        dashboards[key] = {"uuid": board_uuid, "title": title, "slug": slug}
        metadata: dict[str, Any] = {
            "refresh_frequency": int(board.get("refresh_seconds", 0)),
            "timed_refresh_immune_slices": [],
            "expanded_slices": {},
            "color_scheme": board.get("color_scheme", "supersetColors"),
            "label_colors": {},
            "shared_label_colors": [],
            "cross_filters_enabled": False,
            "default_filters": "{}",
            "chart_configuration": {},
            "native_filter_configuration": [],
        }
        if board.get("day_filter"):
            metadata["native_filter_configuration"].append(
                {
                    "id": "NATIVE_FILTER-day",
                    "name": "Day",
                    "filterType": "filter_time",
                    "type": "NATIVE_FILTER",
                    "description": "Pick a day (or any time range) of transaction_time; all charts follow.",
                    "targets": [{}],
                    "controlValues": {"enableEmptyFilter": False},
                    "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}},
                    "cascadeParentIds": [],
                    "scope": {"rootPath": ["ROOT_ID"], "excluded": []},
                }
            )
        files[f"dashboards/{key}.yaml"] = _dump(
            {
                "dashboard_title": title,
                "description": board.get("subtitle"),
                "css": "",
                "slug": slug,
                "certified_by": None,
                "certification_details": None,
                "published": True,
                "uuid": board_uuid,
                "position": _position(title, board, charts),
                "metadata": metadata,
                "version": VERSION,
            }
        )
    files["metadata.yaml"] = _dump(
        {"version": VERSION, "type": "Dashboard", "timestamp": datetime(2024, 1, 1, tzinfo=UTC).isoformat()}
    )
    uuids = {
        "databases": [db_uuid],
        "datasets": list(dataset_uuids.values()),
        "charts": [c["uuid"] for c in charts.values()],
        "dashboards": [d["uuid"] for d in dashboards.values()],
    }
    database = {"name": db_name, "uri": database_uri, "uuid": db_uuid}
    return Bundle(files=files, dashboards=dashboards, database=database, uuids=uuids)


#: Seconds a dashboard query may take: pinotdb's HTTP wait and the broker's per-query timeout.
#: Both default to 10 s, and an exact DISTINCTCOUNT over 1,000,000 ids beside seven other charts
#: exceeded that on a loaded 2-core box ("Data error: timed out", bench/superset.py).
QUERY_TIMEOUT_S = 30


def pinot_uri(
    broker: str, controller: str, timeout_s: float = QUERY_TIMEOUT_S, *, auth: tuple[str, str] | None = None
) -> str:
    """pinotdb's SQLAlchemy URI: ``broker``/``controller`` as host:port (RUNTIME.md §7), with the query timeouts.

    :param auth: ``(user, password)`` of a Pinot with basic auth (the stack's secured profile).
        They go before the broker only: pinotdb's dialect sends the URI's user and password to
        the broker (each query) and to the controller (table and column lists) alike.
    """
    userinfo = f"{quote(auth[0], safe='')}:{quote(auth[1], safe='')}@" if auth else ""
    return (f"pinot+http://{userinfo}{broker}/query/sql?controller=http://{controller}/"
            f"&query_options=timeoutMs%3D{int(timeout_s * 1000)}&timeout={timeout_s:g}")


def masked_uri(uri: str) -> str:
    """``uri`` with its password replaced by Superset's mask (unchanged when it has none)."""
    parts = urlsplit(uri)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return uri
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{PASSWORD_MASK}@{hostport}"))
