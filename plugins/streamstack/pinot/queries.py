"""The demo's named queries (PRODUCT.md section 6), in one place for the CLI, DAGs and dashboards.

Each returns a small table; ``limit`` caps the per-product listings (27 products in the demo).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streamstack.errors import ConfigError
from streamstack.pinot.client import PinotClient


@dataclass(frozen=True)
class NamedQuery:
    """A query the demo shows, by a stable name (``streamstack query <name>``)."""

    name: str
    title: str
    sql: str


QUERIES: dict[str, NamedQuery] = {
    q.name: q
    for q in (
        NamedQuery(
            "product-summary",
            "Products: count, average price and COGS, average gross profit",
            "SELECT COUNT(*) AS products, AVG(price) AS avg_price, AVG(cogs) AS avg_cogs, "
            "AVG(price) - AVG(cogs) AS avg_gross_profit FROM products",
        ),
        NamedQuery(
            "top-products",
            "Sales per product (purchases): quantity, sales, average sale; best first",
            "SELECT product_id, SUM(quantity) AS quantity, SUM(total_purchase) AS sales, "
            "AVG(total_purchase) AS avg_sale FROM purchases "
            "GROUP BY product_id ORDER BY sales DESC LIMIT {limit}",
        ),
        NamedQuery(
            "top-products-enriched",
            "Sales per product with name and category (purchasesEnriched); best first",
            "SELECT product_id, product_name, product_category, SUM(purchase_quantity) AS quantity, "
            "SUM(total_purchase) AS sales FROM purchasesEnriched "
            "GROUP BY product_id, product_name, product_category ORDER BY sales DESC LIMIT {limit}",
        ),
    )
}


def named_sql(name: str, limit: int = 100) -> str:
    """The SQL of a named query; raises ``ConfigError`` listing the names for an unknown one."""
    try:
        query = QUERIES[name]
    except KeyError:
        raise ConfigError(f"no query named {name!r}; known: {', '.join(QUERIES)}") from None
    return query.sql.format(limit=int(limit))


def run_named(client: PinotClient, name: str, limit: int = 100) -> list[dict[str, Any]]:
    """Run a named query; rows as dicts."""
    return client.query(named_sql(name, limit))
