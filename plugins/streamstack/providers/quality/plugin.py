"""Airflow plugin: a quality task's Data Docs, served by Airflow and opened from the task.

- ``DataDocsLink``: a global operator extra link ("Data Docs" on the task instance's Details tab)
  that appears on task instances that produced a quality run (the index file of
  ``streamstack.quality.docs_page``); other tasks get no link.
- ``data_docs_app``: a FastAPI app mounted on the API server at ``/streamstack/data-docs``; it
  requires the same login as the UI (the session cookie) and read access to the DAG's runs, and
  serves the self-contained page plus GX's own site files. Nothing is fetched from the internet.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin
from airflow.sdk import BaseOperatorLink
from fastapi import Depends, FastAPI, HTTPException
from fastapi.responses import HTMLResponse, Response

from streamstack.quality.docs_page import DATA_DOCS_ROUTE, data_docs_url


def _results_root() -> Any:
    from streamstack.quality.runner import default_results_root

    return default_results_root()


class DataDocsLink(BaseOperatorLink):
    """Opens the task instance's Data Docs page; empty (hidden) for tasks without a quality run."""

    name = "Data Docs"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        from streamstack.quality.docs_page import index_file

        if not index_file(_results_root(), ti_key.dag_id, ti_key.run_id, ti_key.task_id).exists():
            return ""
        return data_docs_url(ti_key.dag_id, ti_key.run_id, ti_key.task_id)


def _access() -> Any:
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
    from airflow.api_fastapi.core_api.security import requires_access_dag

    return requires_access_dag("GET", DagAccessEntity.RUN)


data_docs_app = FastAPI(title="streamstack Data Docs", docs_url=None, redoc_url=None, openapi_url=None)


def _entry(dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
    from streamstack.quality.docs_page import read_index

    entry = read_index(_results_root(), dag_id, run_id, task_id)
    if entry is None:
        raise HTTPException(404, f"no quality run recorded for {dag_id} / {run_id} / {task_id}")
    return entry


@data_docs_app.get("/{dag_id}/{run_id}/{task_id}/", response_class=HTMLResponse, dependencies=[Depends(_access())])
def page(dag_id: str, run_id: str, task_id: str) -> HTMLResponse:
    from pathlib import Path

    from streamstack.quality.docs_page import render_page

    entry = _entry(dag_id, run_id, task_id)
    results = Path(entry["results_dir"])
    gx = sorted((results / "data_docs" / "validations").rglob("*.html")) if (results / "data_docs").is_dir() else []
    href = f"gx/{gx[0].relative_to(results / 'data_docs')}" if gx else None
    return HTMLResponse(render_page(results, entry["airflow"], gx_href=href))


@data_docs_app.get("/{dag_id}/{run_id}/{task_id}/gx/{path:path}", dependencies=[Depends(_access())])
def gx_file(dag_id: str, run_id: str, task_id: str, path: str) -> Response:
    import mimetypes
    from pathlib import Path

    from streamstack.quality.docs_page import gx_page

    entry = _entry(dag_id, run_id, task_id)
    body = gx_page(Path(entry["results_dir"]) / "data_docs", path)
    if body is None:
        raise HTTPException(404, f"no file {path} in this run's Data Docs")
    return Response(body, media_type=mimetypes.guess_type(path)[0] or "application/octet-stream")


class StreamstackPlugin(AirflowPlugin):
    name = "streamstack"
    global_operator_extra_links = [DataDocsLink()]
    fastapi_apps = [{"app": data_docs_app, "url_prefix": DATA_DOCS_ROUTE, "name": "streamstack Data Docs"}]
