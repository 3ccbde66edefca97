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
        # The shop's life (simulated runs, docs/services/generator.md): shape, promotions, shortages.
        NamedQuery(
            "sales-by-hour",
            "Purchase lines and sales per hour of the day (UTC): the profile's daily rhythm",
            "SELECT HOUR(transaction_time) AS hour_of_day, COUNT(*) AS lines, SUM(total_purchase) AS sales "
            "FROM purchasesEnriched GROUP BY HOUR(transaction_time) ORDER BY HOUR(transaction_time) LIMIT 24",
        ),
        NamedQuery(
            "daily-gross-profit",
            "Per day: lines, sales and gross profit (quantity x (price - COGS) of the version in force)",
            "SELECT DATETRUNC('DAY', transaction_time) AS day, COUNT(*) AS lines, SUM(total_purchase) AS sales, "
            "SUM(purchase_quantity * (product_price - product_cogs)) AS gross_profit FROM purchasesEnriched "
            "GROUP BY DATETRUNC('DAY', transaction_time) ORDER BY DATETRUNC('DAY', transaction_time) LIMIT {limit}",
        ),
        NamedQuery(
            "discounts",
            "Purchase lines per discount given (promotions show as discounts beyond the member one)",
            "SELECT member_discount, is_member, product_category, COUNT(*) AS lines, SUM(total_purchase) AS sales "
            "FROM purchasesEnriched GROUP BY member_discount, is_member, product_category "
            "ORDER BY member_discount DESC, lines DESC LIMIT {limit}",
        ),
        NamedQuery(
            "shop-events",
            "The shop's events (demo.events) by type",
            "SELECT event_type, COUNT(*) AS events, SUM(quantity) AS quantity, MIN(event_time) AS first, "
            "MAX(event_time) AS last FROM events GROUP BY event_type ORDER BY events DESC LIMIT {limit}",
        ),
        NamedQuery(
            "shortages",
            "Stockouts and lost sales per product (demo.events)",
            "SELECT product_id, SUM(CASE WHEN event_type = 'stockout' THEN 1 ELSE 0 END) AS stockouts, "
            "SUM(CASE WHEN event_type = 'lost_sale' THEN quantity ELSE 0 END) AS lost_drinks, "
            "SUM(CASE WHEN event_type = 'lost_sale' THEN \"value\" ELSE 0 END) AS lost_sales "
            "FROM events WHERE event_type IN ('stockout', 'lost_sale') GROUP BY product_id "
            "ORDER BY lost_drinks DESC LIMIT {limit}",
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
