"""The event store: events from the websocket go to memory first and to the database in
batches, then to live subscribers.

Clients stream events one per frame, thousands a second in a busy run. `EventStore.add`
only appends to a buffer; one flusher task writes the buffer every `flush_interval`
seconds, or at once when `max_batch` events are waiting, in a single write job: an
INSERT … ON CONFLICT (id) DO NOTHING (clients re-send unconfirmed events after a
reconnect), the `event_resource` rows, and the *consumers* (the task-run recorder), all
in one transaction. Only the events that were new go to the consumers and, after the
commit, to the `EventBus`. So a websocket event is committed within one flush window of
its arrival; `close()` writes whatever is still buffered.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from baton.clock import utcnow, uuid7
from baton.db import tables as t
from baton.db.database import Database
from baton.db.dialect import insert
from baton.db.failures import is_outage
from baton.db.statements import Statement
from baton.schemas.events import RESOURCE_ID, ROLE, EventFilter, Record, matches

log = logging.getLogger(__name__)

# Called inside the write transaction with the events that were new (not re-sent ones).
Consumer = Callable[[sa.Connection, list[Record]], None]


def new_event(
    event: str,
    resource: dict[str, str],
    related: Sequence[dict[str, str]] = (),
    payload: dict[str, Any] | None = None,
    *,
    occurred: Any = None,
    follows: Any = None,
) -> Record:
    """A server-made event record (a uuid7 id; occurred and received now unless given)."""
    now = utcnow()
    return {
        "id": uuid7(),
        "occurred": occurred or now,
        "received": now,
        "event": event,
        "resource": resource,
        "related": list(related),
        "payload": payload or {},
        "follows": follows,
    }


def _event_rows(events: Sequence[Record]) -> list[dict[str, Any]]:
    return [
        {
            "id": e["id"],
            "occurred": e["occurred"],
            "received": e["received"],
            "event": e["event"],
            "resource_id": e["resource"][RESOURCE_ID],
            "resource": e["resource"],
            "related": e["related"],
            "payload": e["payload"],
            "follows": e["follows"],
        }
        for e in events
    ]


def _resource_rows(events: Sequence[Record]) -> list[dict[str, Any]]:
    """One row per resource an event names, a resource named twice in one role once."""
    rows: dict[tuple[Any, str, str], dict[str, Any]] = {}
    for e in events:
        for i, labels in enumerate([e["resource"], *e["related"]]):
            role = labels.get(ROLE, "") if i else ""
            rows.setdefault(
                (e["id"], labels[RESOURCE_ID], role),
                {
                    "event_id": e["id"],
                    "resource_id": labels[RESOURCE_ID],
                    "resource_role": role,
                    "occurred": e["occurred"],
                },
            )
    return list(rows.values())


def insert_events(conn: sa.Connection, events: Sequence[Record]) -> list[Record]:
    """Store event records inside the caller's transaction; returns those that were new.

    Events whose id is already stored (or repeated in `events`) are skipped. Publishing
    the returned events to the EventBus, after the commit, is the caller's job.
    """
    unique: dict[str, Record] = {}
    for event in events:
        event.setdefault("received", utcnow())
        unique.setdefault(str(event["id"]), event)
    if not unique:
        return []
    stmt = (
        insert(conn, t.event).on_conflict_do_nothing(index_elements=["id"]).returning(t.event.c.id)
    )
    rows = _event_rows(list(unique.values()))
    inserted = {str(i) for i in conn.execute(stmt, rows).scalars()}
    new = [e for key, e in unique.items() if key in inserted]
    if new:
        conn.execute(
            insert(conn, t.event_resource).on_conflict_do_nothing(
                index_elements=["event_id", "resource_id", "resource_role"]
            ),
            _resource_rows(new),
        )
    return new


def insert_server_events(conn: sa.Connection, events: Sequence[Record]) -> None:
    """Store events the server just made (fresh uuid7 ids, so no duplicates to skip): the
    cheap path for the event every state change writes in its own transaction."""
    if events:
        _INSERT_EVENT.run(conn, _event_rows(events))
        _INSERT_EVENT_RESOURCE.run(conn, _resource_rows(events))


_INSERT_EVENT = Statement(t.event.insert())
_INSERT_EVENT_RESOURCE = Statement(t.event_resource.insert())


class Subscription:
    """One live reader's queue of matching events. `overflowed` means it fell too far
    behind and was cut off (the reader should close; its client reconnects and backfills)."""

    def __init__(self, bus: EventBus, event_filter: EventFilter | None, maxsize: int) -> None:
        self._bus = bus
        self.filter = event_filter
        self._queue: asyncio.Queue[Record | None] = asyncio.Queue(maxsize)
        self.overflowed = False
        self.closed = False
        self.disconnected = False  # set by the reader when its client has gone

    def offer(self, event: Record) -> None:
        if self.closed or (self.filter is not None and not matches(self.filter, event)):
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            self.end()

    def end(self) -> None:
        """Wake the reader with the end of the stream."""
        self.closed = True
        self._bus.unsubscribe(self)
        try:
            self._queue.put_nowait(None)
        except asyncio.QueueFull:  # make room for the end marker
            self._queue.get_nowait()
            self._queue.put_nowait(None)

    async def get(self) -> Record | None:
        """The next matching event, or None once the subscription has ended."""
        if self.closed and self._queue.empty():
            return None
        return await self._queue.get()


class EventBus:
    """In-process publish/subscribe of committed events (this server's own, not other
    replicas')."""

    def __init__(self, queue_size: int = 10_000) -> None:
        self._subscribers: set[Subscription] = set()
        self._queue_size = queue_size

    def publish(self, events: Sequence[Record]) -> None:
        """Hand committed events to every subscriber whose filter they match. Never blocks."""
        for subscription in list(self._subscribers):
            for event in events:
                subscription.offer(event)

    @contextlib.contextmanager
    def subscribe(self, event_filter: EventFilter | None = None) -> Iterator[Subscription]:
        subscription = Subscription(self, event_filter, self._queue_size)
        self._subscribers.add(subscription)
        try:
            yield subscription
        finally:
            subscription.closed = True
            self.unsubscribe(subscription)

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def close(self) -> None:
        for subscription in list(self._subscribers):
            subscription.end()


class EventStore:
    def __init__(
        self,
        db: Database,
        bus: EventBus | None = None,
        consumers: Sequence[Consumer] = (),
        *,
        flush_interval: float = 0.2,
        max_batch: int = 1000,
        max_buffer: int = 50_000,
        retry_delay: float = 1.0,
    ) -> None:
        self.db = db
        self.bus = bus or EventBus()
        self._consumers = list(consumers)
        self._interval = flush_interval
        self._max_batch = max_batch
        self._max_buffer = max_buffer  # add() waits while this many are unwritten
        self._retry_delay = retry_delay
        self._buffer: collections.deque[Record] = collections.deque()
        self._pending = asyncio.Event()  # the buffer is not empty (or we are closing)
        self._full = asyncio.Event()  # a whole batch is waiting (or we are closing)
        self._space = asyncio.Condition()
        self._write_lock = asyncio.Lock()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        # For metrics and tests.
        self.writes = 0  # write jobs committed
        self.stored = 0  # new events committed
        self.duplicates = 0  # re-sent events skipped
        self.dropped = 0  # events the database refused

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="baton-event-store")

    async def close(self) -> None:
        """Write everything buffered, stop the flusher, end live subscriptions."""
        self._closing = True
        self._pending.set()
        self._full.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self.flush()  # in case close() comes before start() or after a crash
        self.bus.close()

    async def add(self, events: Sequence[Record]) -> None:
        """Accept event records for writing; waits only when the buffer is full."""
        if self._closing:
            raise RuntimeError("the event store is closed")
        if len(self._buffer) >= self._max_buffer:
            async with self._space:
                await self._space.wait_for(lambda: len(self._buffer) < self._max_buffer)
        self._buffer.extend(events)
        if self._buffer:
            self._pending.set()
        if len(self._buffer) >= self._max_batch:
            self._full.set()

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    async def flush(self) -> None:
        """Write every event added before this call."""
        while self._buffer:
            await self._write_batch()

    async def _run(self) -> None:
        while True:
            if not self._buffer:
                if self._closing:
                    return
                self._pending.clear()
                await self._pending.wait()
                continue
            if not self._full.is_set():
                # The first event opens a flush window; a full batch closes it early.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), self._interval)
            try:
                await self._write_batch()
            except Exception:  # never let the flusher die; the batch is back in the buffer
                log.exception("writing events failed")
                await asyncio.sleep(self._retry_delay)

    async def _write_batch(self) -> None:
        async with self._write_lock:
            batch = [self._buffer.popleft() for _ in range(min(self._max_batch, len(self._buffer)))]
            if not self._closing and len(self._buffer) < self._max_batch:
                self._full.clear()
            if not batch:
                return
            try:
                new = await self._write(batch)
            except Exception as exc:
                if is_outage(exc) and not self._closing:
                    self._buffer.extendleft(reversed(batch))  # keep them, in order
                    raise
                new = await self._write_one_by_one(batch, exc)
            self.duplicates += len(batch) - len(new)
            self.stored += len(new)
        async with self._space:
            self._space.notify_all()
        if new:
            self.bus.publish(new)

    async def _write(self, batch: list[Record]) -> list[Record]:
        def job(conn: sa.Connection) -> list[Record]:
            new = insert_events(conn, batch)
            if new:
                self._consume(conn, new)
            return new

        new = await self.db.write(job)
        self.writes += 1
        return new

    async def _write_one_by_one(self, batch: list[Record], error: Exception) -> list[Record]:
        """A batch the database refused: write its events alone, so one bad event (say,
        a NUL character PostgreSQL will not store) does not take the others down."""
        log.warning("a batch of %d events failed (%s); writing them one by one", len(batch), error)
        results = await asyncio.gather(
            *(self._write([event]) for event in batch), return_exceptions=True
        )
        new: list[Record] = []
        for event, result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                self.dropped += 1
                log.error("dropped event %s (%s): %s", event["id"], event["event"], result)
            else:
                new += result
        return new

    def _consume(self, conn: sa.Connection, events: list[Record]) -> None:
        # Each consumer in its own savepoint: a consumer's bug loses its own work, never
        # the events; a failing batch is retried event by event to isolate the culprit.
        for consumer in self._consumers:
            try:
                with conn.begin_nested():
                    consumer(conn, events)
            except Exception:
                if len(events) == 1:
                    log.exception("event consumer %r failed on %s", consumer, events[0]["id"])
                    continue
                for event in events:
                    try:
                        with conn.begin_nested():
                            consumer(conn, [event])
                    except Exception:
                        log.exception("event consumer %r failed on %s", consumer, event["id"])
