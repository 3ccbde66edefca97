"""``streamstack topics tail``: one readable line per record, whatever the record holds."""

from __future__ import annotations

from streamstack.topics.tail import Record

T = 1_765_152_000_123  # 2025-12-08T00:00:00.123Z


def test_json_is_compacted_and_the_place_time_and_key_lead() -> None:
    line = Record(2, 41, T, b"T0001", b'{\n  "a": 1,\n  "b": "caf\\u00e9"\n}').line()
    assert line == 'p2@41 2025-12-08T00:00:00.123Z key=T0001 {"a":1,"b":"café"}'


def test_text_binary_null_and_long_values_stay_on_one_line() -> None:
    assert Record(0, 0, T, None, b"two\nlines").line().endswith("key=- two\\nlines")
    binary = Record(0, 1, T, b"k", bytes(range(250, 256)) + b"\xff" * 20).line()
    assert binary.endswith("<26 bytes, not UTF-8: fa fb fc fd fe ff ff ff ff ff ff ff ff ff ff ff …>")
    assert Record(0, 2, T, b"k", None).line().endswith("key=k <null>")
    long = Record(0, 3, T, b"k", b"x" * 5000).line(width=10)
    assert long.endswith("key=k xxxxxxxxxx… (5,000 bytes)")
