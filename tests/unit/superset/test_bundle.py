"""The dashboards-as-code bundle: deterministic, complete, and clear about mistakes."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
import yaml

from streamstack.errors import ConfigError
from streamstack.superset.bundle import build_bundle, load_definition, pinot_uri

ROOT = Path(__file__).resolve().parents[3]
DEFINITION = ROOT / "config" / "superset" / "dashboards.yaml"
SCHEMAS = ROOT / "config" / "pinot" / "schemas"
URI = pinot_uri("localhost:8099", "localhost:9000")


def bundle(**kwargs):  # type: ignore[no-untyped-def]
    return build_bundle(load_definition(DEFINITION), schemas_dir=SCHEMAS, database_uri=URI, **kwargs)


def test_same_definition_same_bytes() -> None:
    assert bundle().zip_bytes() == bundle().zip_bytes()


def test_three_dashboards_with_the_seed_charts() -> None:
    b = bundle()
    titles = {d["title"] for d in b.dashboards.values()}
    assert titles == {"Drink Purchases Dashboard", "Smoothie Cafe Daily Sales", "Pipeline Health"}
    daily = yaml.safe_load(b.files["dashboards/daily_sales.yaml"])
    charts = {c["meta"]["sliceName"] for c in daily["position"].values() if isinstance(c, dict) and c.get("type") == "CHART"}
    assert charts == {"Sales Transactions", "Drinks Sold", "Sales", "Gross Profit", "Hourly Sales by Drink Category",
                      "Purchases by Drink Category", "Cumulative Sales", "Fruit- vs non-Fruit-based Drink Purchases"}  # fmt: skip
    assert daily["description"].startswith("Near real-time sales data for smoothie drinks")
    assert daily["metadata"]["native_filter_configuration"][0]["filterType"] == "filter_time"
    drinks = yaml.safe_load(b.files["dashboards/drink_purchases.yaml"])
    assert drinks["metadata"]["refresh_frequency"] == 10
    table = yaml.safe_load(b.files["charts/drink_purchases.yaml"])["params"]
    assert table["show_cell_bars"] and table["show_totals"] and "purchase_price" in table["metrics"]


def test_every_reference_resolves_inside_the_bundle() -> None:
    b = bundle()
    docs = {p: yaml.safe_load(t) for p, t in b.files.items()}
    dataset_uuids = {d["uuid"] for p, d in docs.items() if p.startswith("datasets/")}
    (db,) = [d for p, d in docs.items() if p.startswith("databases/")]
    assert db["sqlalchemy_uri"] == URI
    assert all(d["database_uuid"] == db["uuid"] for p, d in docs.items() if p.startswith("datasets/"))
    chart_uuids = {d["uuid"] for p, d in docs.items() if p.startswith("charts/")}
    assert all(d["dataset_uuid"] in dataset_uuids for p, d in docs.items() if p.startswith("charts/"))
    for path, doc in docs.items():
        if path.startswith("dashboards/"):
            used = {c["meta"]["uuid"] for c in doc["position"].values() if isinstance(c, dict) and c.get("type") == "CHART"}
            assert used <= chart_uuids, path
    names = zipfile.ZipFile(io.BytesIO(b.zip_bytes())).namelist()
    assert "streamstack_superset/metadata.yaml" in names


def test_columns_come_from_the_pinot_schema() -> None:
    ds = yaml.safe_load(bundle().files["datasets/pinot/purchasesEnriched.yaml"])
    cols = {c["column_name"]: c for c in ds["columns"]}
    assert cols["transaction_time"]["is_dttm"] and cols["transaction_time"]["type"] == "TIMESTAMP"
    assert ds["main_dttm_col"] == "transaction_time"
    assert cols["fruit_based"]["expression"].startswith("CASE WHEN contains_fruit")
    metrics = {m["metric_name"]: m["expression"] for m in ds["metrics"]}
    assert metrics["gross_profit"] == "SUM(purchase_quantity * (product_price - product_cogs))"


def test_salt_gives_separate_objects_on_other_tables() -> None:
    plain, salted = bundle(), bundle(tables={"purchasesEnriched": "pe_x"}, salt="x", title_suffix=" [x]")
    for kind in plain.uuids:
        assert not set(plain.uuids[kind]) & set(salted.uuids[kind]), kind
    assert "datasets/pinot/pe_x.yaml" in salted.files
    assert salted.dashboards["daily_sales"]["slug"] == "smoothie-cafe-daily-sales-x"


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda d: d["charts"]["sales"].update(dataset="nope"), "charts.sales.dataset"),
        (lambda d: d["charts"]["sales"]["params"].update(metric="nope"), "charts.sales.params"),
        (lambda d: d["charts"]["sales"].update(viz="sparkle"), "charts.sales.viz"),
        (lambda d: d["dashboards"]["daily_sales"]["rows"][0]["charts"].update(missing=3), "dashboards.daily_sales.rows[0]"),
    ],
)
def test_mistakes_name_the_file_and_key(tmp_path: Path, change, key: str) -> None:  # type: ignore[no-untyped-def]
    doc = yaml.safe_load(DEFINITION.read_text())
    change(doc)
    path = tmp_path / "dashboards.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError) as info:
        load_definition(path)
    assert str(path) in str(info.value) and f"key '{key}'" in str(info.value)
