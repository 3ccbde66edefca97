"""Replay a recorded purchases file (JSON array or JSON lines) to ``demo.purchases``.

Every record is checked before anything is produced, so a bad file either fails as a whole
with each bad record's position and reason (nothing half-published), or — with
``dead_letter`` — publishes the good records and sends each bad one, with its reason and raw
text, to the dead-letter topic: nothing is lost either way.

A recording usually predates the catalogue on the products topic: the demo publishes it at
today's time, so no version would be valid at a 2022 purchase and every line would become a
``no_product_version`` dead letter. Given the catalogue and the earliest version of each product
already on the topic, replay first publishes, for each product of the file that has none early
enough, the catalogue's version stamped at the file's first transaction time; a second replay
finds those and publishes nothing (:func:`catalogue_as_of`).

Older recordings lack fields the platform needs; replay fills them deterministically:
``line_number`` by order within the transaction, and — for the oldest schema, which had no
``transaction_id`` — consecutive lines with one ``transaction_time`` become one transaction
whose id is the digits of that time in epoch microseconds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamstack import contract as rules
from streamstack.events import PURCHASE, field_names, parse_timestamp
from streamstack.generator.errors import GeneratorError, RecordProblem, ReplayError
from streamstack.generator.model import TimestampFormatter, dumps, wall_clock
from streamstack.generator.sinks import Sink

PURCHASE_FIELDS = field_names(PURCHASE)
REQUIRED = [f for f in PURCHASE_FIELDS if f not in ("transaction_id", "line_number")]
REJECTED_BY = "streamstack replay"

if TYPE_CHECKING:
    from streamstack.generator.catalogue import Product


@dataclass(frozen=True)
class SourceRecord:
    """One record of the file: 1-based position, line of its first character, raw text, parsed value."""

    position: int
    line: int
    text: str
    value: Any
    error: str | None = None


@dataclass
class ReplaySummary:
    """What a replay did (the CLI prints it; the Airflow task returns it)."""

    file: str
    destination: str
    records: int = 0
    purchases: int = 0
    dead_letters: int = 0
    transactions: int = 0
    line_numbers_assigned: int = 0
    transaction_ids_assigned: int = 0
    restamped: bool = False
    #: Catalogue versions published before the purchases (stamped at the file's first transaction).
    product_versions: int = 0
    bytes: int = 0
    elapsed_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "elapsed_seconds": round(self.elapsed_seconds, 3)}


def _line_of(text: str, index: int, line: int, from_index: int) -> int:
    return line + text.count("\n", from_index, index)


def read_records(path: Path | str) -> Iterator[SourceRecord]:
    """Yield the records of a JSON array or JSON-lines file, with positions.

    A JSON-lines record that is not valid JSON is yielded with ``error`` set (it can go to the
    dead-letter topic); a broken JSON array cannot be resynchronised and raises ``ReplayError``.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GeneratorError(f"{file}: cannot read: {exc}") from exc
    stripped = text.lstrip()
    if stripped.startswith("["):
        yield from _read_array(text, str(file))
        return
    position = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        position += 1
        try:
            yield SourceRecord(position, number, raw, json.loads(raw))
        except json.JSONDecodeError as exc:
            yield SourceRecord(position, number, raw, None, f"invalid JSON: {exc.msg} at column {exc.colno}")


def _read_array(text: str, file: str) -> Iterator[SourceRecord]:
    decoder = json.JSONDecoder()
    index = text.index("[") + 1
    line, counted = 1, 0
    position = 0

    def skip(i: int) -> int:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        return i

    index = skip(index)
    if index < len(text) and text[index] == "]":
        return
    while True:
        line, counted = _line_of(text, index, line, counted), index
        position += 1
        try:
            value, end = decoder.raw_decode(text, index)
        except json.JSONDecodeError as exc:
            problem = RecordProblem(position, exc.lineno, f"invalid JSON: {exc.msg} (column {exc.colno})", "")
            raise ReplayError(file, [problem]) from None
        yield SourceRecord(position, line, text[index:end], value)
        index = skip(end)
        if index < len(text) and text[index] == ",":
            index = skip(index + 1)
            continue
        if index < len(text) and text[index] == "]":
            if text[skip(index + 1):]:
                raise ReplayError(file, [RecordProblem(position, _line_of(text, index, line, counted),
                                                       "unexpected text after the closing ']'", "")])
            return
        raise ReplayError(file, [RecordProblem(position, _line_of(text, index, line, counted),
                                               "expected ',' or ']' after the record", "")])


_PLACEHOLDER_ID, _PLACEHOLDER_LINE = "0", 1


def check_purchase(value: Any, contract: dict[str, Any], known_products: set[str] | None = None) -> dict[str, Any]:
    """Validate one recorded purchase line by the event contract; return it, or raise ``ValueError(reason)``.

    The rules are the contract's (``streamstack.contract.check_purchase``), the same every engine
    applies; a recording may lack ``transaction_id`` and ``line_number`` (replay assigns them), and
    may not carry fields the purchase schema does not know (they would be dropped unseen).
    """
    if not isinstance(value, dict):
        raise ValueError(f"not_json: a purchase must be a JSON object, got {type(value).__name__}")
    unknown = sorted(set(value) - set(PURCHASE_FIELDS))
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)}")
    probe = dict(value)
    if probe.get("transaction_id") is None:
        probe["transaction_id"] = _PLACEHOLDER_ID
    if probe.get("line_number") is None:
        probe["line_number"] = _PLACEHOLDER_LINE
    _, reason, _ = rules.check_purchase(json.dumps(probe), {**contract, "legacy": {"accept": False}})
    if reason:
        raise ValueError(reason)
    if known_products is not None and value["product_id"] not in known_products:
        raise ValueError(f"unknown_product: product_id {value['product_id']!r} is not in the catalogue")
    return dict(value)


def _derived_id(transaction_time: str) -> str:
    moment = parse_timestamp(transaction_time)
    return str(int(moment.timestamp()) * 1_000_000 + moment.microsecond)


def prepare(
    records: Iterator[SourceRecord], known_products: set[str] | None = None,
    contract: dict[str, Any] | None = None,
) -> tuple[list[tuple[SourceRecord, dict[str, Any]]], list[RecordProblem], dict[str, int]]:
    """Check every record and complete the good ones (ids, line numbers, field order).

    :return: (good records with their completed purchase, problems, counters).
    """
    contract = contract or rules.load_contract()
    good: list[tuple[SourceRecord, dict[str, Any]]] = []
    problems: list[RecordProblem] = []
    counters = {"line_numbers_assigned": 0, "transaction_ids_assigned": 0}
    lines_seen: dict[str, set[int]] = {}
    header: dict[str, tuple[str, bool, int]] = {}  # tid -> (time, is_member, position of its first line)
    previous: tuple[str, str] | None = None  # (time, derived id) of the last id-less record
    for source in records:
        try:
            if source.error:
                raise ValueError(source.error)
            record = check_purchase(source.value, contract, known_products)
            tid = record.get("transaction_id")
            if tid is None:
                if previous is None or previous[0] != record["transaction_time"]:
                    previous = (record["transaction_time"], _derived_id(record["transaction_time"]))
                tid = previous[1]
                counters["transaction_ids_assigned"] += 1
            first = header.setdefault(tid, (record["transaction_time"], record["is_member"], source.position))
            if first[:2] != (record["transaction_time"], record["is_member"]):
                raise ValueError(
                    f"transaction {tid} has another transaction_time or is_member than its line at record {first[2]}"
                )
            seen = lines_seen.setdefault(tid, set())
            number = record.get("line_number")
            if number is None:
                number = max(seen, default=0) + 1
                counters["line_numbers_assigned"] += 1
            if number in seen:
                raise ValueError(f"duplicate line_number {number} in transaction {tid}")
        except ValueError as exc:
            problems.append(RecordProblem(source.position, source.line, str(exc), source.text))
            continue
        seen.add(number)
        record["transaction_id"], record["line_number"] = tid, number
        good.append((source, {name: record[name] for name in PURCHASE_FIELDS}))
    return good, problems, counters


def dead_letter(file: Path, problem: RecordProblem, rejected_at: str, contract: dict[str, Any]) -> dict[str, Any]:
    """The ``purchases_invalid`` record of a rejected line (schema ``events.INVALID_PURCHASE``), payload bounded."""
    return {
        "source_topic": f"file:{file}",
        "source_partition": None,
        "source_offset": problem.position,
        "rejected_at": rejected_at,
        "rejected_by": REJECTED_BY,
        "reason": str(problem),
        **rules.dead_letter_payload(problem.payload, contract),
    }


def earliest_versions(records: Sequence[tuple[str | None, bytes | str | None]],
                      contract: Mapping[str, Any]) -> dict[str, str]:
    """product_id -> the earliest ``event_time`` among the valid product versions of ``(key, value)`` records.

    Malformed records are not versions (the contract's ``products`` checks), so they are skipped.
    """
    earliest: dict[str, str] = {}
    for key, value in records:
        record, reason = rules.check_product(value, contract, key)
        if reason is None and record is not None:
            pid, at = record["product_id"], record["event_time"]
            if pid not in earliest or at < earliest[pid]:
                earliest[pid] = at
    return earliest


def catalogue_as_of(
    purchases: Sequence[dict[str, Any]], catalogue: Sequence[Product], earliest: Mapping[str, str],
) -> list[dict[str, Any]]:
    """The product versions a replay must publish so that every purchase of the file has one valid at its time.

    For each catalogue product the file buys whose earliest known version is later than the
    product's first purchase in the file (or that has none), the catalogue's version stamped at
    the file's first transaction time. Timestamps compare as text: they have one fixed format.
    """
    if not purchases:
        return []
    first = min(p["transaction_time"] for p in purchases)
    needed: dict[str, str] = {}
    for p in purchases:
        pid = p["product_id"]
        needed[pid] = min(needed.get(pid, p["transaction_time"]), p["transaction_time"])
    return [product.event(first) for product in catalogue
            if product.product_id in needed and earliest.get(product.product_id, "~") > needed[product.product_id]]


def replay(
    path: Path | str,
    sink: Sink,
    *,
    restamp: bool = False,
    send_dead_letters: bool = False,
    known_products: set[str] | None = None,
    contract: dict[str, Any] | None = None,
    clock: Callable[[], int] = wall_clock,
    progress: Callable[[int, int], None] | None = None,
    catalogue: Sequence[Product] | None = None,
    known_versions: Mapping[str, str] | None = None,
) -> ReplaySummary:
    """Publish a recorded file to the sink's purchases topic; see the module docstring.

    :param restamp: replace each transaction's time with the time it is published (lines of a
        transaction keep sharing one time); otherwise times are kept as recorded.
    :param send_dead_letters: send bad records to the dead-letter topic instead of failing.
    :param known_products: reject product ids outside this set (default: the contract's catalogue).
    :param contract: the resolved event contract (default: ``streamstack.contract.load_contract()``).
    :param progress: called with (records done, records total).
    :param catalogue: publish the versions of :func:`catalogue_as_of` first (none when not given).
    :param known_versions: product_id -> earliest valid version on the products topic (:func:`earliest_versions`).
    """
    file = Path(path)
    contract = contract or rules.load_contract()
    good, problems, counters = prepare(read_records(file), known_products, contract)
    if problems and not send_dead_letters:
        raise ReplayError(str(file), problems)
    summary = ReplaySummary(file=str(file), destination=sink.destination, restamped=restamp, **counters)
    summary.records = len(good) + len(problems)
    total = summary.records
    start = time.monotonic()
    fmt = TimestampFormatter()
    stamps: dict[str, str] = {}
    if catalogue is not None:
        # Restamped lines get times from now on: the versions they need are the ones valid now.
        times = [{**record, "transaction_time": fmt(clock())} if restamp else record for _, record in good]
        versions = catalogue_as_of(times, catalogue, known_versions or {})
        for version in versions:
            sink.send_record("products", version)
        summary.product_versions = len(versions)
    for done, (_source, record) in enumerate(good, start=1):
        tid = record["transaction_id"]
        if restamp:
            stamp = stamps.get(tid)
            if stamp is None:
                stamp = stamps[tid] = fmt(clock())
            record["transaction_time"] = stamp
        sink.send_purchase(tid, dumps(record))
        if progress is not None and not done % 1000:
            progress(done, total)
    if problems:
        rejected_at = fmt(clock())
        for problem in problems:
            sink.send_record("purchases_invalid", dead_letter(file, problem, rejected_at, contract))
    sink.close()
    summary.elapsed_seconds = time.monotonic() - start
    summary.purchases, summary.dead_letters = len(good), len(problems)
    summary.transactions = len({record["transaction_id"] for _, record in good})
    summary.bytes = sink.bytes_sent
    if progress is not None:
        progress(total, total)
    return summary
