"""Each valid purchase joined with the product version valid at its time, whatever the order of arrival.

Why not Flink's event-time temporal join (``FOR SYSTEM_TIME AS OF``): it keeps, per product, only
the versions the watermark has not passed. A purchase behind the watermark (a file of history
replayed while live data flows) or a version published after the purchases it covers (the
catalogue as of a recording's first transaction) then finds none and is dead-lettered
``no_product_version`` although its version is on the topic: measured, 384 of 607 replayed seed
lines and a third of an out-of-order history.

Here every version of a product is kept (a catalogue is small: a few versions per product), keyed
by product_id, and a purchase is joined when the watermark passes its time, as the temporal join
did, so on-time purchases meet every version published before them. A purchase that arrives
behind the watermark waits for the next watermark step, and in continuous mode at most
``--late-grace`` seconds of processing time, for versions published just before it, then joins
what is known. The rule is the contract's: the newest version whose ``event_time`` is not later
than the purchase's ``transaction_time`` (both fixed-format timestamps, which order as text);
none -> the purchase leaves with no version and is dead-lettered ``no_product_version``.

The function runs in the Python worker: each valid purchase crosses to Python once (issue 27 ports
it to the JVM, parsing and joining in one pass).
"""

from __future__ import annotations

from typing import Any

from pyflink.common import Row, Types
from pyflink.datastream.functions import KeyedCoProcessFunction, RuntimeContext
from pyflink.datastream.state import ListStateDescriptor, MapStateDescriptor
from pyflink.datastream.time_domain import TimeDomain


class VersionJoin(KeyedCoProcessFunction):
    """Input 1: valid purchases (rowtime = transaction time); input 2: product versions. Keyed by product_id.

    Emits each purchase once, as ``purchase fields + version fields`` (the version fields null
    when no version was valid at its time).

    :param purchase_time: index of ``transaction_time`` (text) in a purchase row.
    :param version_time: index of ``event_time`` (text) in a version row.
    :param version_width: fields of a version row (the nulls of "no version").
    :param late_grace_ms: continuous mode: the longest a late purchase waits for a version; None
        (bounded mode) waits for the next watermark step, at the latest the end of the input.
    """

    def __init__(self, purchase_time: int, version_time: int, version_width: int, late_grace_ms: int | None) -> None:
        self.purchase_time, self.version_time = purchase_time, version_time
        self.version_width, self.late_grace_ms = version_width, late_grace_ms

    def open(self, runtime_context: RuntimeContext) -> None:
        # Pickled rows: the state is this function's own (savepoints restore it into the same job).
        self.versions = runtime_context.get_map_state(
            MapStateDescriptor("versions", Types.STRING(), Types.PICKLED_BYTE_ARRAY()))
        self.waiting = runtime_context.get_map_state(
            MapStateDescriptor("waiting", Types.LONG(), Types.PICKLED_BYTE_ARRAY()))
        self.late = runtime_context.get_list_state(ListStateDescriptor("late", Types.PICKLED_BYTE_ARRAY()))

    def process_element1(self, value: Row, ctx: KeyedCoProcessFunction.Context):
        purchase = tuple(value)
        at, timers = ctx.timestamp(), ctx.timer_service()
        watermark = timers.current_watermark()
        if at is not None and at > watermark:
            bucket = self.waiting.get(at) or []
            bucket.append(purchase)
            self.waiting.put(at, bucket)
            timers.register_event_time_timer(at)
            return
        # Behind the watermark: at the next watermark step (or after the grace), with what is known then.
        self.late.add(purchase)
        timers.register_event_time_timer(watermark + 1)
        if self.late_grace_ms is not None:
            timers.register_processing_time_timer(timers.current_processing_time() + self.late_grace_ms)

    def process_element2(self, value: Row, ctx: KeyedCoProcessFunction.Context):
        # One version per (product, event_time): a repeat at the same time counts as its last record.
        self.versions.put(value[self.version_time], tuple(value))

    def on_timer(self, timestamp: int, ctx: KeyedCoProcessFunction.OnTimerContext):
        known = sorted(self.versions.items())
        if ctx.time_domain() == TimeDomain.EVENT_TIME:
            for purchase in self.waiting.get(timestamp) or []:
                yield self._joined(purchase, known)
            self.waiting.remove(timestamp)
        late = list(self.late.get() or [])
        if late:
            self.late.clear()
            for purchase in late:
                yield self._joined(purchase, known)

    def _joined(self, purchase: tuple[Any, ...], known: list[tuple[str, tuple[Any, ...]]]) -> Row:
        at = purchase[self.purchase_time]
        valid = [version for time, version in known if time <= at]
        version = valid[-1] if valid else (None,) * self.version_width
        return Row(*purchase, *version)


def join_versions(t_env, purchases, versions, late_grace_ms: int | None):
    """The table ``purchases ⋈ versions`` (purchases' columns, then ``v_``-prefixed version columns).

    ``purchases`` must carry its rowtime (the watermark decides when a purchase is joined) and
    the columns ``product_id`` and ``transaction_time``; ``versions`` ``product_id`` and ``event_time``.
    """
    t_env.add_python_file(__file__)  # the Python workers import VersionJoin from this file
    p_names, v_names = purchases.get_schema().get_field_names(), versions.get_schema().get_field_names()
    p_stream, v_stream = t_env.to_data_stream(purchases), t_env.to_data_stream(versions)
    out_names = [*p_names, *(f"v_{n}" for n in v_names)]
    out_type = Types.ROW_NAMED(out_names, [_type_info(t) for table in (purchases, versions)
                                           for t in table.get_schema().get_field_data_types()])
    p_key, v_key = p_names.index("product_id"), v_names.index("product_id")
    joined = (
        p_stream.connect(v_stream)
        .key_by(lambda p: p[p_key], lambda v: v[v_key], key_type=Types.STRING())
        .process(VersionJoin(p_names.index("transaction_time"), v_names.index("event_time"), len(v_names),
                             late_grace_ms), output_type=out_type)
        .name("purchases joined with the version valid at their time")
    )
    return t_env.from_data_stream(joined)


def _type_info(data_type):
    """The DataStream type of a table column (``to_data_stream`` gives rows of these Python values)."""
    from pyflink.table import types as t

    simple = {t.VarCharType: Types.STRING, t.CharType: Types.STRING, t.IntType: Types.INT, t.BigIntType: Types.LONG,
              t.DoubleType: Types.DOUBLE, t.FloatType: Types.FLOAT, t.BooleanType: Types.BOOLEAN,
              t.DecimalType: Types.BIG_DEC, t.TimestampType: Types.SQL_TIMESTAMP,
              t.LocalZonedTimestampType: Types.INSTANT}
    if isinstance(data_type, t.VarBinaryType | t.BinaryType):
        return Types.PRIMITIVE_ARRAY(Types.BYTE())
    for kind, info in simple.items():
        if isinstance(data_type, kind):
            return info()
    raise TypeError(f"version_join: no DataStream type for column type {data_type}")
