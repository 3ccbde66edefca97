"""JupyterLab on the platform: the server refuses requests without its token, and both notebooks
(``notebooks/``) run on the ``streamstack`` kernel against the live stack, agreeing with Pinot.

Self-sufficient: when the enriched purchases are not in Pinot yet (this module run alone), a small
``streamstack demo`` puts them there; after ``test_platform.py`` (``conftest.py`` orders it
first) the week it generated is used as it is.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from unittest import mock

import nbformat
import pytest
import requests
from nbclient import NotebookClient
from support.platform import pinot_count, streamstack

from streamstack.pinot import PinotClient, local_client
from streamstack.stack import Stack
from streamstack.stack.jupyter import KERNEL_NAME, JupyterEndpoints

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.fixture(scope="module")
def jupyter(platform: Stack) -> JupyterEndpoints:
    return platform.get("jupyter").endpoints_  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def enriched(platform: Stack) -> PinotClient:
    """Pinot with enriched purchases in it (a small demo run when there are none yet)."""
    if pinot_count("purchasesEnriched") == 0:
        streamstack("demo", "--transactions", "200", "--mode", "load", "--no-live", timeout=1400)
    client = local_client(platform.settings)
    assert client.count("purchasesEnriched") > 0
    return client


def execute(jupyter: JupyterEndpoints, name: str) -> tuple[nbformat.NotebookNode, dict]:
    """Run ``notebooks/<name>.ipynb`` on the service's ``streamstack`` kernelspec; its last JSON line."""
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    assert nb.metadata.kernelspec.name == KERNEL_NAME
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{name}: outputs not cleared"
    with mock.patch.dict(os.environ, jupyter.jupyter_env()):
        NotebookClient(nb, timeout=600, kernel_name=KERNEL_NAME, resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    last = [o for o in nb.cells[-1].outputs if o.output_type == "stream" and o.name == "stdout"]
    return nb, json.loads(last[-1].text.strip().splitlines()[-1])


def test_jupyter_answers_only_with_its_token(jupyter: JupyterEndpoints) -> None:
    url = f"{jupyter.url}/api/status"
    assert requests.get(url, timeout=10).status_code in (401, 403)
    assert requests.get(url, headers={"Authorization": "token wrong"}, timeout=10).status_code in (401, 403)
    assert requests.get(f"{jupyter.url}/api/contents", timeout=10).status_code in (401, 403)
    ok = requests.get(url, headers={"Authorization": f"token {jupyter.token()}"}, timeout=10)
    assert ok.status_code == 200 and "started" in ok.json()
    specs = requests.get(f"{jupyter.url}/api/kernelspecs", headers={"Authorization": f"token {jupyter.token()}"},
                         timeout=10).json()
    assert specs["default"] == KERNEL_NAME and set(specs["kernelspecs"]) == {KERNEL_NAME}
    status = streamstack("stack", "status")
    assert f"{jupyter.url}/lab" in status and str(jupyter.token_file) in status


@pytest.mark.timeout(1500)
def test_live_stream_notebook_matches_pinot(jupyter: JupyterEndpoints, enriched: PinotClient) -> None:
    nb, out = execute(jupyter, "live_stream")
    (row,) = enriched.query("SELECT DISTINCTCOUNT(product_id) AS products, SUM(total_purchase) AS revenue "
                            "FROM purchasesEnriched")
    assert out["products"] == row["products"] > 0
    assert out["revenue"] == pytest.approx(row["revenue"], abs=0.01)
    assert out["topics"]["demo.purchases.enriched"] > 0
    charts = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(charts) == 1


@pytest.mark.timeout(1500)
def test_spark_batch_notebook_matches_pinot(jupyter: JupyterEndpoints, enriched: PinotClient) -> None:
    _, out = execute(jupyter, "spark_batch_analytics")
    # Pinot consumes the same topic, deduplicated on the same key: once caught up, they agree.
    deadline = time.monotonic() + 120
    while enriched.count("purchasesEnriched") < out["lines"] and time.monotonic() < deadline:
        time.sleep(2)
    rows = enriched.query("SELECT product_id, SUM(purchase_quantity) AS quantity, SUM(total_purchase) AS revenue "
                          "FROM purchasesEnriched GROUP BY product_id LIMIT 1000")
    pinot = {r["product_id"]: [int(r["quantity"]), round(r["revenue"], 2)] for r in rows}
    assert out["lines"] == enriched.count("purchasesEnriched")
    assert out["per_product"].keys() == pinot.keys()
    for product, (quantity, revenue) in pinot.items():
        assert out["per_product"][product][0] == quantity, product
        assert out["per_product"][product][1] == pytest.approx(revenue, abs=0.01), product
    assert out["categories"] >= 1
