"""Where generated events go: the ``Sink`` protocol and the JSON-lines file sink.

The runner and the replay only talk to a ``Sink``, so the same code writes to Kafka
(``streamstack.generator.kafka.KafkaSink``) or to files for users without a broker.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any, Protocol

from streamstack.generator.model import dumps

#: Logical topics (``config/topics.yaml``) the generator writes.
KINDS = ("products", "purchases", "inventories", "purchases_invalid", "events")


class Sink(Protocol):
    """A destination for events; ``close`` must raise if anything was not written.

    ``begin``/``commit`` bracket one transaction (a sale with its restocks, or the catalogue):
    a sink with ``transactional = True`` makes each all-or-nothing (``KafkaSink`` with a
    ``transactional_id``); for the others they do nothing and the runner does not call them.
    """

    destination: str
    bytes_sent: int
    transactional: bool

    def send_purchase(self, transaction_id: str, value: bytes) -> None:
        """One encoded purchase line (keyed by its transaction id)."""

    def send_record(self, kind: str, record: dict[str, Any]) -> None:
        """One event of another kind: ``products``, ``inventories`` or ``purchases_invalid``."""

    def begin(self) -> None:
        """Start a transaction: the records up to ``commit`` become visible together or never."""

    def commit(self) -> None:
        """Commit the open transaction; raise if it was not committed."""

    def close(self) -> None:
        """Flush everything; raise if any event was not delivered."""


def sibling(path: Path, kind: str) -> Path:
    """The file of ``kind`` events next to the purchases file: ``sales.jsonl`` -> ``sales.products.jsonl``."""
    return path.with_name(f"{path.stem}.{kind}{path.suffix or '.jsonl'}")


class FileSink:
    """Writes JSON lines: purchases to ``path``, every other kind to a sibling file.

    One file per event type keeps each file a valid data set of one schema, and the purchases
    file replays as it is (``streamstack replay sales.jsonl``).
    """

    #: A file has no transactions: a run that stops mid-sale leaves its lines written so far.
    transactional = False

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.destination = str(self.path)
        self.bytes_sent = 0
        self.files: dict[str, Path] = {"purchases": self.path}
        self._handles: dict[str, IO[bytes]] = {"purchases": self.path.open("wb")}

    def _handle(self, kind: str) -> IO[bytes]:
        handle = self._handles.get(kind)
        if handle is None:
            self.files[kind] = sibling(self.path, kind)
            handle = self._handles[kind] = self.files[kind].open("wb")
        return handle

    def send_purchase(self, transaction_id: str, value: bytes) -> None:
        self._handles["purchases"].write(value + b"\n")
        self.bytes_sent += len(value)

    def send_record(self, kind: str, record: dict[str, Any]) -> None:
        value = dumps(record)
        self._handle(kind).write(value + b"\n")
        self.bytes_sent += len(value)

    def begin(self) -> None:
        pass

    def commit(self) -> None:
        pass

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()
