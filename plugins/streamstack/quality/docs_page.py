"""The quality run's Data Docs as one self-contained page, and where a task's run is found.

GX's own site loads Bootstrap, jQuery and Font Awesome from CDNs (unstyled and empty offline)
and knows nothing of the window, the source or the Airflow run. This page is built from the
files the runner writes (``summary.json``, ``result.json``) with inline CSS only, so it works with
no internet, and it names what a reader needs: source, window, rows, the Airflow DAG/run/task and
every expectation with its severity. GX's page stays reachable from it (CDN tags stripped, GX's
own stylesheet, shipped in the wheel, inlined).

Task runs are found through an index file per Airflow task instance,
``<state>/quality/by-task/<dag>/<run>/<task>.json``, written by the quality task.
"""

from __future__ import annotations

import html
import importlib.util
import json
import re
from pathlib import Path
from typing import Any

from streamstack.files import replace_text
from streamstack.quality.runner import safe_name

#: Where the Airflow API server serves Data Docs (``providers/quality/plugin.py`` mounts it).
DATA_DOCS_ROUTE = "/streamstack/data-docs"


def data_docs_url(dag_id: str, run_id: str, task_id: str) -> str:
    """The path (on the Airflow UI's origin) of a quality task instance's Data Docs page."""
    from urllib.parse import quote

    return f"{DATA_DOCS_ROUTE}/{quote(dag_id, safe='')}/{quote(run_id, safe='')}/{quote(task_id, safe='')}/"


def index_file(results_root: Path, dag_id: str, run_id: str, task_id: str) -> Path:
    return results_root / "by-task" / safe_name(dag_id) / safe_name(run_id) / f"{safe_name(task_id)}.json"


def write_index(results_root: Path, airflow: dict[str, Any], results_dir: str) -> Path:
    """Record which results directory an Airflow task instance produced (last try wins)."""
    path = index_file(results_root, str(airflow["dag_id"]), str(airflow["run_id"]), str(airflow["task_id"]))
    return replace_text(path, json.dumps({"airflow": airflow, "results_dir": results_dir}, indent=1))


def read_index(results_root: Path, dag_id: str, run_id: str, task_id: str) -> dict[str, Any] | None:
    path = index_file(results_root, dag_id, run_id, task_id)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


STATUS_TEXT = {
    "passed": ("PASSED", "ok"),
    "passed_with_warnings": ("PASSED WITH WARNINGS", "warn"),
    "failed": ("FAILED", "bad"),
    "empty": ("NOTHING TO CHECK", "warn"),
}

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#017cee;color:#fff;padding:16px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.9}main{padding:20px 28px;max-width:1200px}
.verdict{font-size:20px;font-weight:700;padding:12px 16px;border-radius:6px;margin-bottom:16px}
.verdict.ok{background:#e3f6e8;color:#13612e}.verdict.warn{background:#fff4d6;color:#7a5300}
.verdict.bad{background:#fde4e4;color:#9b1c1c}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:6px 18px;background:#fff;padding:14px 18px;
border-radius:6px;border:1px solid #dde1e7}dl.facts dt{font-weight:600}dl.facts dd{margin:0;font-family:monospace}
table{border-collapse:collapse;width:100%;background:#fff;margin-top:18px;border:1px solid #dde1e7}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid #e6e9ee;vertical-align:top;font-size:14px}
th{background:#eef1f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
.sev{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:700;text-transform:uppercase}
.sev.critical{background:#9b1c1c;color:#fff}.sev.warning{background:#e0a800;color:#1d2330}
.res.pass{color:#13612e;font-weight:700}.res.fail{color:#9b1c1c;font-weight:700}
code{font-size:12px;color:#4a5363}a{color:#015bb0}
"""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    text = json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)
    return html.escape(text[:160] + ("..." if len(text) > 160 else ""))


def _expectations(results_dir: Path) -> list[dict[str, Any]]:
    path = results_dir / "result.json"
    if not path.exists():
        return []
    rows = []
    for item in json.loads(path.read_text(encoding="utf-8")).get("results", []):
        config = item.get("expectation_config") or {}
        meta = config.get("meta") or {}
        result = item.get("result") or {}
        rows.append(
            {
                "name": meta.get("name") or config.get("type"),
                "severity": meta.get("severity", "critical"),
                "type": config.get("type"),
                "column": (config.get("kwargs") or {}).get("column"),
                "success": bool(item.get("success")),
                "unexpected": result.get("unexpected_count"),
                "observed": result.get("observed_value"),
                "samples": (result.get("partial_unexpected_list") or [])[:5],
            }
        )
    # Failures first (critical before warning), then the rest in suite order.
    order = {"critical": 0, "warning": 1}
    return sorted(rows, key=lambda r: (r["success"], order.get(r["severity"], 2)))


def render_page(results_dir: Path, airflow: dict[str, Any], gx_href: str | None = None) -> str:
    """The run's page: verdict first, then what was checked, then every expectation."""
    summary = json.loads((results_dir / "summary.json").read_text(encoding="utf-8"))
    text, tone = STATUS_TEXT.get(summary.get("status"), (str(summary.get("status")).upper(), "warn"))
    window = summary.get("window") or ["?", "?"]
    failed = summary.get("failed") or []
    critical = sum(1 for f in failed if f.get("severity") == "critical")
    warnings = sum(1 for f in failed if f.get("severity") != "critical")
    facts = [
        ("Source", summary.get("source")),
        ("Window", f"[{window[0]}, {window[1]})"),
        ("Rows checked", f"{summary.get('rows_checked', 0):,}"),
        ("Rejected records", f"{summary.get('rejected_records', 0):,}"),
        ("Expectations", f"{summary.get('expectations_evaluated', 0)} evaluated, {critical} critical and "
                         f"{warnings} warning failure(s)"),
        ("Airflow DAG", airflow.get("dag_id")),
        ("Airflow run", airflow.get("run_id")),
        ("Airflow task", f"{airflow.get('task_id')} (try {airflow.get('try_number', '?')})"),
        ("Checked at", summary.get("checked_at")),
        ("Quality run", summary.get("run_id")),
    ]
    rows = []
    for e in _expectations(results_dir):
        detail = ""
        if e["unexpected"] is not None:
            detail = f"{e['unexpected']:,} unexpected"
        elif e["observed"] is not None:
            detail = f"observed {_cell(e['observed'])}"
        samples = ", ".join(_cell(s) for s in e["samples"])
        rows.append(
            "<tr>"
            f"<td class='res {'pass' if e['success'] else 'fail'}'>{'pass' if e['success'] else 'FAIL'}</td>"
            f"<td><span class='sev {html.escape(e['severity'])}'>{html.escape(e['severity'])}</span></td>"
            f"<td>{html.escape(str(e['name']))}<br><code>{html.escape(str(e['type']))}</code></td>"
            f"<td>{html.escape(str(e['column'] or ''))}</td>"
            f"<td>{detail}{('<br><code>' + samples + '</code>') if samples else ''}</td>"
            "</tr>"
        )
    gx = f"<p><a href='{html.escape(gx_href)}'>Great Expectations' own report of this run</a></p>" if gx_href else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Data Docs - {html.escape(str(summary.get('source')))}</title>
<style>{CSS}</style></head><body>
<header><h1>Data quality: enriched purchases</h1>
<p>{html.escape(str(airflow.get('dag_id')))} / {html.escape(str(airflow.get('run_id')))} /
{html.escape(str(airflow.get('task_id')))}</p></header>
<main>
<div class="verdict {tone}" id="verdict">{text}: {summary.get('rows_checked', 0):,} rows from
{html.escape(str(summary.get('source')))}</div>
<dl class="facts">{''.join(f'<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd>' for k, v in facts)}</dl>
<table id="expectations"><thead><tr><th>Result</th><th>Severity</th><th>Expectation</th><th>Column</th>
<th>Details</th></tr></thead><tbody>{''.join(rows)}</tbody></table>
<p>A <span class="sev critical">critical</span> failure fails the task; a
<span class="sev warning">warning</span> is only reported.</p>
{gx}
</main></body></html>"""


#: GX's page refers to these from CDNs; offline they only fail (and throw "$ is not defined").
_CDN = re.compile(r"<(script|link)\b[^>]*(?:src|href)=\"https?://[^\"]+\"[^>]*>(?:\s*</script>)?", re.I)


def gx_page(site_dir: Path, relative: str) -> bytes | None:
    """A file of GX's site; its HTML pages without CDN tags, with GX's stylesheet inlined."""
    target = (site_dir / relative).resolve()
    if site_dir.resolve() not in target.parents or not target.is_file():
        return None
    if target.suffix != ".html":
        return target.read_bytes()
    text = _CDN.sub("", target.read_text(encoding="utf-8"))
    spec = importlib.util.find_spec("great_expectations")  # its path only: importing GX is slow
    css = Path(spec.origin or "").parent / "render/view/static/styles/data_docs_default_styles.css" if spec else Path()
    style = f"<style>{css.read_text(encoding='utf-8')}</style>" if css.exists() else ""
    return text.replace("</head>", f"{style}</head>", 1).encode()
