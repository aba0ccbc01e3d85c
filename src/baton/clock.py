"""Time and ids, in one place so services and tests agree on them."""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def uuid7() -> uuid.UUID:
    """A time-ordered UUID (RFC 9562 version 7): new rows land at the end of their index."""
    return uuid7s(1)[0]


def uuid7s(count: int) -> list[uuid.UUID]:
    """`count` time-ordered UUIDs, with one call for their randomness (log batches); sorted,
    so a batch keeps the order it was asked for even within one millisecond."""
    ms = time.time_ns() // 1_000_000
    head = ((ms & 0xFFFF_FFFF_FFFF) << 80) | (0x7 << 76) | (0b10 << 62)
    noise = os.urandom(10 * count)
    values = []
    for i in range(count):
        # 80 random bits: 12 for rand_a, 62 for rand_b.
        rand = int.from_bytes(noise[10 * i : 10 * i + 10], "big")
        values.append(head | ((rand >> 68) << 64) | (rand & ((1 << 62) - 1)))
    values.sort()  # as integers: sorting UUID objects compares them in Python
    return [_uuid(value) for value in values]


_new = object.__new__
_set = object.__setattr__
_UNKNOWN = uuid.SafeUUID.unknown  # an enum member is a property lookup each time: 1 µs


def _uuid(value: int) -> uuid.UUID:
    """What `uuid.UUID(int=value)` makes, without its checks of five other ways to be called
    (a third of a log batch's ids cost): `value` is a 128-bit int by construction."""
    made: uuid.UUID = _new(uuid.UUID)
    _set(made, "int", value)
    _set(made, "is_safe", _UNKNOWN)
    return made
