"""The event schemas: field names, order and types of every record on the topics.

Defined once here and read everywhere: the generator serialises in this order, the Spark jobs
build their ``StructType`` from it, the quality suite and the Pinot schemas are checked against
it. Pure Python with no third-party import, so a Spark job can import it on its own.

Types are logical: ``string``, ``int``, ``long``, ``double`` (money, 2 decimals), ``boolean``,
``timestamp`` (a UTC string ``YYYY-MM-DD HH:MM:SS.ffffff``, always 6 fraction digits).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
#: The same format for Pinot's ``SIMPLE_DATE_FORMAT`` and Java's ``DateTimeFormatter``.
TIMESTAMP_JAVA_PATTERN = "yyyy-MM-dd HH:mm:ss.SSSSSS"


@dataclass(frozen=True)
class Field:
    """One field of an event: its name, logical type, whether it may be null, and its default.

    ``default`` is what a reader takes when a record lacks the field: a field added to an event
    after records were written without it must declare one (or be nullable, absent = null), so
    the older records stay valid (:func:`incompatible_changes`).
    """

    name: str
    type: str
    nullable: bool = False
    default: Any = None


def _fields(*spec: tuple[str, str]) -> tuple[Field, ...]:
    return tuple(Field(name, type_) for name, type_ in spec)


PRODUCT = _fields(
    ("event_time", "timestamp"),
    ("product_id", "string"),
    ("category", "string"),
    ("item", "string"),
    ("size", "string"),
    ("cogs", "double"),
    ("price", "double"),
    ("inventory_level", "int"),
    ("contains_fruit", "boolean"),
    ("contains_veggies", "boolean"),
    ("contains_nuts", "boolean"),
    ("contains_caffeine", "boolean"),
    ("propensity_to_buy", "int"),
)

PURCHASE = _fields(
    ("transaction_time", "timestamp"),
    ("transaction_id", "string"),
    ("line_number", "int"),
    ("product_id", "string"),
    ("price", "double"),
    ("quantity", "int"),
    ("is_member", "boolean"),
    ("member_discount", "double"),
    ("add_supplements", "boolean"),
    ("supplement_price", "double"),
    ("total_purchase", "double"),
)

INVENTORY = _fields(
    ("event_time", "timestamp"),
    ("product_id", "string"),
    ("existing_level", "int"),
    ("stock_quantity", "int"),
    ("new_level", "int"),
)

RUNNING_TOTAL = _fields(
    ("event_time", "timestamp"),
    ("product_id", "string"),
    ("transactions", "long"),
    ("quantities", "long"),
    ("sales", "double"),
)

PURCHASE_ENRICHED = _fields(
    ("transaction_time", "timestamp"),
    ("transaction_timestamp", "long"),
    ("transaction_id", "string"),
    ("line_number", "int"),
    ("product_id", "string"),
    ("product_category", "string"),
    ("product_name", "string"),
    ("product_size", "string"),
    ("product_cogs", "double"),
    ("product_price", "double"),
    ("contains_fruit", "boolean"),
    ("contains_veggies", "boolean"),
    ("contains_nuts", "boolean"),
    ("contains_caffeine", "boolean"),
    ("purchase_price", "double"),
    ("purchase_quantity", "int"),
    ("is_member", "boolean"),
    ("member_discount", "double"),
    ("add_supplements", "boolean"),
    ("supplement_price", "double"),
    ("total_purchase", "double"),
    # True when transaction_id/line_number were derived (a purchase in the original demo's schema,
    # see config/contract.yaml `legacy`); false for every purchase that carried its own identity.
    # Added after the first enriched records were written: absent means false.
) + (Field("identity_derived", "boolean", default=False),)

#: Sales per product in 10-minute event-time windows sliding every 5 minutes (Spark ``sales_windows``).
SALES_WINDOW = _fields(
    ("window_start", "timestamp"),
    ("window_end", "timestamp"),
    ("product_id", "string"),
    ("transactions", "long"),
    ("drinks", "long"),
    ("sales", "double"),
)

#: The shop's generic events (``demo.events``, keyed by ``subject``): restock, stockout, lost_sale,
#: price_change, cogs_change, promotion_start/_end, store_open/_close, anomaly_start/_end. The
#: typed columns are the ones Pinot queries need; ``details`` is a compact JSON object with the rest.
EVENT_TYPES = (
    "restock", "stockout", "lost_sale", "price_change", "cogs_change", "promotion_start", "promotion_end",
    "store_open", "store_close", "anomaly_start", "anomaly_end",
)
EVENT = (
    Field("event_time", "timestamp"),
    Field("event_type", "string"),
    # The Kafka key: the product_id for product events, "store" for store_open/_close, the
    # anomaly's id (e.g. "promotion-1") for anomaly and promotion events.
    Field("subject", "string"),
    Field("product_id", "string", nullable=True),
    Field("category", "string", nullable=True),
    Field("quantity", "int", nullable=True),
    Field("value", "double", nullable=True),
    Field("previous_value", "double", nullable=True),
    Field("details", "string"),
)

#: Dead-letter records: the original payload kept (bounded), with why and where it was rejected.
INVALID_PURCHASE = (
    Field("source_topic", "string"),
    Field("source_partition", "int", nullable=True),
    Field("source_offset", "long", nullable=True),
    Field("rejected_at", "timestamp"),
    Field("rejected_by", "string"),
    Field("reason", "string"),
    Field("payload", "string", nullable=True),
    # The payload bounded (config/contract.yaml `dead_letters`): how it is written, whether it was
    # cut, and the original value's size and hash. Added later: a reader takes them absent as null.
    Field("payload_encoding", "string", nullable=True),
    Field("payload_truncated", "boolean", nullable=True),
    Field("payload_bytes", "long", nullable=True),
    Field("payload_sha256", "string", nullable=True),
)

#: Event type -> fields; the keys are the logical topic names of ``config/topics.yaml``.
SCHEMAS: dict[str, tuple[Field, ...]] = {
    "products": PRODUCT,
    "purchases": PURCHASE,
    "inventories": INVENTORY,
    "running_totals": RUNNING_TOTAL,
    "purchases_enriched": PURCHASE_ENRICHED,
    "sales_windows": SALES_WINDOW,
    "purchases_invalid": INVALID_PURCHASE,
    "events": EVENT,
}


#: Purchase fields renamed in the enriched record (the others keep their names).
ENRICHED_NAMES = {"price": "purchase_price", "quantity": "purchase_quantity"}


def purchase_from_enriched(record: dict[str, Any]) -> dict[str, Any]:
    """The purchase an enriched record was made from, in ``PURCHASE`` field order."""
    return {f.name: record[ENRICHED_NAMES.get(f.name, f.name)] for f in PURCHASE}


def field_names(fields: tuple[Field, ...]) -> list[str]:
    return [f.name for f in fields]


def with_defaults(record: dict[str, Any], fields: tuple[Field, ...]) -> dict[str, Any]:
    """``record`` with each field it lacks that declares a default filled in (an explicit null stays null)."""
    missing = {f.name: f.default for f in fields if f.default is not None and f.name not in record}
    return {**record, **missing} if missing else record


def describe(fields: tuple[Field, ...]) -> list[dict[str, Any]]:
    """A schema as data (what ``config/schemas.lock.json`` records and the resolved contract carries)."""
    return [{"name": f.name, "type": f.type, "nullable": f.nullable,
             **({"default": f.default} if f.default is not None else {})} for f in fields]


def incompatible_changes(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    """Why records written under schema ``old`` would no longer be valid under ``new`` (empty: compatible).

    Compatible: the same fields in the same order with the same types, a field becoming nullable
    or gaining a default, and new fields at the end that are nullable or declare a default.
    Anything else (a field removed, renamed, retyped, moved, made required, a new required field)
    breaks every record already on the topics and in Pinot.
    """
    problems = []
    for i, before in enumerate(old):
        if i >= len(new) or new[i]["name"] != before["name"]:
            problems.append(f"field {before['name']!r} removed, renamed or moved (was #{i + 1})")
            continue
        after = new[i]
        if after["type"] != before["type"]:
            problems.append(f"field {before['name']!r} changed type {before['type']} -> {after['type']}")
        if before["nullable"] and not after["nullable"] and "default" not in after:
            problems.append(f"field {before['name']!r} became required")
    for after in new[len(old):]:
        if not after["nullable"] and "default" not in after:
            problems.append(f"new field {after['name']!r} is required: make it nullable or declare a default")
    return problems


def format_timestamp(moment: datetime) -> str:
    """Format a datetime as the events' UTC timestamp (naive datetimes are taken as UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime(TIMESTAMP_FORMAT)


def parse_timestamp(text: str) -> datetime:
    """Parse an event timestamp; raises ``ValueError`` unless it has exactly 6 fraction digits."""
    moment = datetime.strptime(text, TIMESTAMP_FORMAT)
    if len(text) != 26:
        raise ValueError(f"timestamp {text!r} is not 'YYYY-MM-DD HH:MM:SS.ffffff'")
    return moment.replace(tzinfo=UTC)


def total_purchase(price: float, quantity: int, supplement_price: float, member_discount: float) -> float:
    """The line total of PRODUCT.md section 2, rounded to cents."""
    return round(quantity * (price + supplement_price) * (1 - member_discount), 2)
