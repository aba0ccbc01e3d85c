"""Server-made ids are RFC 9562 version-7 UUIDs: time-ordered, unique."""

from __future__ import annotations

import time

from baton.core.clock import uuid7, uuid7s


def test_version_variant_and_uniqueness() -> None:
    ids = [uuid7(), *uuid7s(1000)]
    assert {u.version for u in ids} == {7}
    assert {u.variant for u in ids} == {"specified in RFC 4122"}
    assert len(set(ids)) == len(ids)


def test_time_ordered_across_milliseconds() -> None:
    first = uuid7()
    time.sleep(0.002)
    second = uuid7()
    assert first < second
    assert abs((first.int >> 80) - time.time_ns() // 1_000_000) < 5_000
