"""The Data Docs extra link appears only on task instances that produced a quality run."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from streamstack.quality.docs_page import write_index


def test_link_only_where_a_quality_run_was_recorded(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamstack.providers.quality import plugin

    monkeypatch.setattr(plugin, "_results_root", lambda: tmp_path)
    key = SimpleNamespace(dag_id="streaming_platform", run_id="manual__2026-01-01T00:00:00+00:00", task_id="quality_gate")
    link = plugin.DataDocsLink()
    assert link.name == "Data Docs"
    assert link.get_link(None, ti_key=key) == ""
    write_index(tmp_path, vars(key), str(tmp_path / "run"))
    assert link.get_link(None, ti_key=key) == (
        "/streamstack/data-docs/streaming_platform/manual__2026-01-01T00%3A00%3A00%2B00%3A00/quality_gate/"
    )
    other = SimpleNamespace(dag_id="streaming_platform", run_id=key.run_id, task_id="top_products")
    assert link.get_link(None, ti_key=other) == ""


def test_the_plugin_module_registers_link_and_app() -> None:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "plugins" / "streamstack_plugin.py"
    spec = importlib.util.spec_from_file_location("streamstack_plugin", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    plugin = module.StreamstackPlugin
    assert [link.name for link in plugin.global_operator_extra_links] == ["Data Docs"]
    assert plugin.fastapi_apps[0]["url_prefix"] == "/streamstack/data-docs"
