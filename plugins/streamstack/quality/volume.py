"""Is a window's volume far below what the shop's profile expects, with nothing announced to explain it?

A simulated shop (``streamstack generate --days N``) announces its life on ``demo.events``:
``store_open``/``store_close`` (naming the volume profile), ``anomaly_start``/``anomaly_end``
(storm: volume × ``factor``; outage: none). The gate reads those events around a window and
expects, per open minute, the profile's rate × whatever announced anomaly is in force. Too few
transactions against that expectation is a *warning* (``volume_not_far_below_profile``): the data
may be fine but a source went quiet (an unannounced outage, a stuck producer). An announced storm
or outage lowers the expectation, so it explains its own dip.

"Far below" is two conditions, both settings of the suite (``meta.streamstack.parameters``):
fewer than ``volume_min_ratio`` × expected **and** more than ``volume_z`` Poisson standard
deviations below it; windows expecting fewer than ``volume_min_expected`` transactions are not
judged (too small to tell a dip from chance). No store event naming a known profile (a live,
non-simulated run) means no expectation at all.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from streamstack.generator.shop import Profile
    from streamstack.pinot.client import PinotClient

VOLUME_NAME = "volume_not_far_below_profile"
#: Event types that announce something the volume expectation must know.
ANNOUNCING = ("store_open", "store_close", "anomaly_start", "anomaly_end")
#: How far before a window to look for the store event naming the profile (a closed weekday or two).
LOOKBACK = timedelta(days=7)
EVENTS_TABLE = "events"


@dataclass(frozen=True)
class Announced:
    """A stretch of time whose volume an event explains: ``factor`` × the profile's (0 = no sales)."""

    id: str
    kind: str
    start: datetime
    end: datetime
    factor: float


@dataclass(frozen=True)
class VolumeExpectation:
    """The transactions a window should hold by the profile, after what was announced.

    :param profile: the profile's name (from the store events).
    :param profile_expected: transactions the profile alone expects in the window.
    :param expected: the same with the announced anomalies and closures applied.
    :param announced: ids of the announcements overlapping the window (``storm-1``, ``closed``).
    """

    profile: str
    profile_expected: float
    expected: float
    announced: tuple[str, ...] = ()

    def floor(self, min_ratio: float, z: float, min_expected: float) -> int:
        """Fewer distinct transactions than this is far below the expectation (0: not judged)."""
        e = self.expected
        if e < min_expected or e <= 0:
            return 0
        return max(0, math.floor(min(min_ratio * e, e - z * math.sqrt(e))))

    def describe(self) -> str:
        text = f"profile {self.profile!r} expects {self.profile_expected:.1f} transactions"
        if self.announced:
            text += f", {self.expected:.1f} after announced {', '.join(self.announced)}"
        return text


def _moment(value: Any) -> datetime:
    """An event time as the generator writes it, or as Pinot returns a TIMESTAMP (millis or text)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    moment = datetime.fromisoformat(str(value).replace("T", " ").rstrip("Z"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _details(record: Mapping[str, Any]) -> dict[str, Any]:
    raw = record.get("details")
    if isinstance(raw, dict):
        return raw
    try:
        parsed = json.loads(raw) if raw else {}
    except (TypeError, json.JSONDecodeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def announcements(
    records: Iterable[Mapping[str, Any]], until: datetime
) -> tuple[str | None, list[Announced]]:
    """The profile named by the latest store event before ``until``, and what the events explain.

    Storms and outages run from their ``anomaly_start`` to their announced end (``ends`` in the
    details, else the ``anomaly_end`` event, else ``until``); a ``store_close`` explains no sales
    until the next ``store_open``. Other anomaly kinds (supply) do not set volume and are ignored.
    """
    ordered = sorted(records, key=lambda r: (_moment(r["event_time"]), r.get("event_type") != "store_close"))
    profile: str | None = None
    out: list[Announced] = []
    closed_since: datetime | None = None
    open_anomalies: dict[str, tuple[datetime, dict[str, Any]]] = {}
    for record in ordered:
        kind, at = record.get("event_type"), _moment(record["event_time"])
        if at >= until:
            break
        details = _details(record)
        if kind in ("store_open", "store_close"):
            profile = details.get("profile") or profile
            if kind == "store_close":
                closed_since = closed_since or at  # an early close, then the scheduled one: closed since the first
            elif closed_since is not None:
                out.append(Announced("closed", "closed", closed_since, at, 0.0))
                closed_since = None
        elif kind == "anomaly_start":
            open_anomalies[str(record.get("subject"))] = (at, details)
        elif kind == "anomaly_end":
            started = open_anomalies.pop(str(record.get("subject")), None)
            if started is not None:
                out.append(_anomaly(str(record.get("subject")), started[0], started[1], at))
    if closed_since is not None:
        out.append(Announced("closed", "closed", closed_since, until, 0.0))
    for subject, (at, details) in open_anomalies.items():
        out.append(_anomaly(subject, at, details, until))
    return profile, [a for a in out if a.kind in ("storm", "outage", "closed")]


def _anomaly(subject: str, start: datetime, details: dict[str, Any], end: datetime) -> Announced:
    kind = str(details.get("kind", "unknown"))
    if details.get("ends"):
        end = _moment(details["ends"])  # an outage's recovery bump (after "ends") only raises volume
    factor = 0.0 if kind == "outage" else float(details.get("factor", 1.0))
    return Announced(subject, kind, start, end, factor)


def expected_transactions(
    profile: Profile, start: datetime, end: datetime, announced: Iterable[Announced] = ()
) -> tuple[float, float, tuple[str, ...]]:
    """(by the profile, after announcements, ids overlapping) transactions in ``[start, end)``, minute by minute."""
    start, end = _moment(start), _moment(end)
    announced = list(announced)
    plain = adjusted = 0.0
    seen: list[str] = []
    minute = start.replace(second=0, microsecond=0)
    while minute < end:
        nxt = minute + timedelta(minutes=1)
        share = (min(nxt, end) - max(minute, start)).total_seconds() / 60.0
        opening = profile.opening_hours[minute.weekday()]
        of_day = minute.hour * 60 + minute.minute
        if share > 0 and opening is not None and opening[0] <= of_day < opening[1]:
            rate = profile.hourly_rate(minute.weekday(), minute.hour) / 60.0 * share
            factor = 1.0
            for a in announced:
                if a.start <= minute < a.end:
                    factor = min(factor, a.factor)
                    if a.id not in seen:
                        seen.append(a.id)
            plain += rate
            adjusted += rate * factor
        minute = nxt
    return plain, adjusted, tuple(seen)


def volume_expectation(
    records: Iterable[Mapping[str, Any]],
    start: datetime,
    end: datetime,
    profiles: Mapping[str, Profile],
) -> VolumeExpectation | None:
    """What the profile named by the shop's events expects in ``[start, end)``; None without one."""
    name, announced = announcements(records, _moment(end))
    if name is None or name not in profiles:
        return None
    plain, adjusted, seen = expected_transactions(profiles[name], start, end, announced)
    return VolumeExpectation(name, round(plain, 3), round(adjusted, 3), seen)


def read_pinot_events(
    client: PinotClient, start: datetime, end: datetime, *, table: str = EVENTS_TABLE, limit: int = 100_000
) -> list[dict[str, Any]]:
    """The announcing events (store hours, anomalies) of ``[start - LOOKBACK, end)`` from Pinot."""
    low = int((_moment(start) - LOOKBACK).timestamp() * 1000)
    high = int(_moment(end).timestamp() * 1000)
    types = ", ".join(f"'{t}'" for t in ANNOUNCING)
    return client.query(
        f"SELECT event_time, event_type, subject, details FROM {table} "
        f"WHERE event_type IN ({types}) AND event_time >= {low} AND event_time < {high} LIMIT {limit}"
    )


def shop_profiles() -> dict[str, Profile]:
    """The profiles of ``config/generator.yaml`` (the ones a simulated run can name)."""
    from streamstack.generator.config import load_config

    return dict(load_config().shop.profiles)


def pinot_volume_expectation(
    client: PinotClient, start: datetime, end: datetime, *, table: str = EVENTS_TABLE
) -> VolumeExpectation | None:
    """The volume expectation of ``[start, end)`` from the shop's events in Pinot.

    None when Pinot has no ``events`` table (nothing can have been announced, nor a profile named).
    """
    if table not in client.tables():
        return None
    return volume_expectation(read_pinot_events(client, start, end, table=table), start, end, shop_profiles())
