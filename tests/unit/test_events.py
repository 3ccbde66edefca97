"""The shared event schema: the purchase behind an enriched record."""

from __future__ import annotations

from streamstack import events


def test_purchase_from_enriched_takes_the_renamed_fields_in_purchase_order() -> None:
    enriched = {name: f"<{name}>" for name in events.field_names(events.PURCHASE_ENRICHED)}
    purchase = events.purchase_from_enriched(enriched)
    assert list(purchase) == events.field_names(events.PURCHASE)
    assert purchase["price"] == "<purchase_price>" and purchase["quantity"] == "<purchase_quantity>"
    assert purchase["transaction_id"] == "<transaction_id>"
