"""A generator sink that keeps what it is sent, by kind (``streamstack.generator.sinks.Sink``)."""

from __future__ import annotations

from typing import Any


class MemorySink:
    destination = "memory"

    def __init__(self) -> None:
        self.bytes_sent = 0
        self.records: dict[str, list[Any]] = {}

    def send_purchase(self, transaction_id: str, value: bytes) -> None:
        self.records.setdefault("purchases", []).append(value)

    def send_record(self, kind: str, record: dict[str, Any]) -> None:
        self.records.setdefault(kind, []).append(record)

    def events(self) -> list[dict[str, Any]]:
        return self.records.get("events", [])

    def close(self) -> None:
        pass
