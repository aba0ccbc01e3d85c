"""Server-made ids are RFC 9562 version-7 UUIDs: time-ordered, unique."""

from __future__ import annotations

import time
import uuid

from baton.clock import uuid7, uuid7s


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


def test_ids_are_ordinary_uuids() -> None:
    for made in uuid7s(200):
        same = uuid.UUID(int=made.int)
        assert made == same
        assert hash(made) == hash(same)
        assert str(made) == str(same)
        assert made.hex == same.hex
        assert made.is_safe == same.is_safe
        assert uuid.UUID(str(made)) == made
        assert {made: 1}[same] == 1
