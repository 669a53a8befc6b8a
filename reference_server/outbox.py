"""The outbox of call events: its rows in SQLite (tables in `reference_server.tables`), and
their copy in memory that the delivery works from.

A row is one change's events for one webhook: its facts, from which whoever delivers it makes
the bodies (`expand`, given by the store: `reference_server.events.Recorder.expand`), once
per bot of the row (`bot_id`: their ids, comma-separated), event after event; `events` says
how many deliveries that is. (A row of an earlier version holds one event's body, which
starts with `{`, for one bot.) The table is the durable record: a row is written in the
transaction of the change it reports and deleted once its webhook took all of its events,
so that what a commit left is delivered after a restart too. The delivery does not query it
for each round: `Outbox` keeps, per webhook, each thread's events in order (`Pending`: only
the oldest of a thread can be sent; the next goes once it was taken), the threads whose
oldest event is due now, and those put off until a time (after a failed attempt, `next_at`
in the row). Rows enter it when their transaction commits; it is read from the table only
at start-up, after a failure, and when another connection (another process sharing the
file) committed something: `PRAGMA data_version` tells, at the start of each of the store's
transactions. A row whose first events were taken is sent whole again if the table is read
again before its last was: at least once, as below.

The delivery tells the copy at once which rows were taken (the next of their thread is due)
and which were put off (`settled`); the table hears of them later, many rounds in one
transaction (`flush`: one DELETE for up to a thousand rows), and before it is read again. A
row taken but not yet deleted when the process dies is sent again after the restart: at
least once, as a row taken just before its DELETE always was.

`Outbox.pending` counts the events in the table (the bound of the outbox), kept up to date
the same way: counted from the table once, then added to and taken from by this process's own
writes and deletes, and counted again after another process's commit.

An outbox that `follows_table` (the relay's: `reference_server.relay`) writes no rows: others
do. It reads those written since it last looked (`refresh`: the rows of a key above the
largest it has seen), instead of the whole table after each of their commits. A new row's key
is the largest in the table plus one, so it is above every key seen, unless the rows of the
largest keys were deleted meanwhile: only this outbox deletes rows (one relay per file), and
after its deletes it looks from the largest key left (`flush`).
"""

from __future__ import annotations

import heapq
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple


class Pending(NamedTuple):
    """An event in the outbox, due to be sent to its webhook as one bot (a tuple: one is made
    per event and bot)."""

    seq: int
    thread_key: str
    bot_id: str
    body: bytes
    attempts: int
    #: Whether it is the last of its row's: once it is taken, the row is deleted.
    last: bool = True


_INSERT = "INSERT INTO outbox (webhook, bot_id, thread_key, body, events) VALUES (?, ?, ?, ?, ?)"

#: Makes the bodies of a row's events from its thread's key and its facts.
Expand = Callable[[str, bytes], list[bytes]]


def _no_facts(key: str, facts: bytes) -> list[bytes]:
    raise RuntimeError("this outbox reads no rows of facts: it was given no `expand`")


@dataclass
class Queue:
    """The rows of one webhook, in memory (see the module docstring). Its methods are called
    with `Outbox.lock` held."""

    #: Each thread's rows, oldest first; the first is due, in flight or put off.
    threads: dict[str, deque[Pending]] = field(default_factory=dict)
    #: The threads whose first row is due now, oldest first (a dict as an ordered set).
    ready: dict[str, None] = field(default_factory=dict)
    #: The threads whose first row is put off: (due time, seq, thread), a heap.
    later: list[tuple[float, int, str]] = field(default_factory=list)
    #: Whether the table must be read again before the next round (at start-up, after a
    #: failure, after another connection's commit).
    stale: bool = True

    def add(self, row: Pending) -> None:
        rows = self.threads.get(row.thread_key)
        if rows is None:
            self.threads[row.thread_key] = deque((row,))
            self.ready[row.thread_key] = None
        else:
            rows.append(row)

    def take(self, now: float, limit: int) -> list[Pending]:
        """The first row of up to `limit` threads due by `now`, oldest first; their threads
        are in flight until `settled`."""
        later, ready = self.later, self.ready
        while later and later[0][0] <= now:
            ready[heapq.heappop(later)[2]] = None
        keys = list(ready)[:limit] if len(ready) > limit else list(ready)
        for key in keys:
            del ready[key]
        threads = self.threads
        return sorted((threads[key][0] for key in keys), key=lambda row: row.seq)

    def next_due(self) -> float | None:
        """When the next row is due: 0 for now, None for no row (rows in flight aside)."""
        if self.ready:
            return 0.0
        return self.later[0][0] if self.later else None

    def settled(self, taken: Iterable[Pending], retry: Iterable[tuple[Pending, float]]) -> None:
        """Rows in flight were taken (the next row of their thread is due) or put off."""
        threads = self.threads
        for row in taken:
            rows = threads[row.thread_key]
            rows.popleft()
            if rows:
                self.ready[row.thread_key] = None
            else:
                del threads[row.thread_key]
        for row, next_at in retry:
            rows = threads[row.thread_key]
            rows[0] = row._replace(attempts=row.attempts + 1)
            heapq.heappush(self.later, (next_at, row.seq, row.thread_key))


class Outbox:
    """The outbox of the store's connection `db`: its SQL, and its rows in memory, per
    webhook (see the module docstring)."""

    def __init__(
        self,
        db: sqlite3.Connection,
        webhooks: Iterable[str] = (),
        *,
        follows_table: bool = False,
        expand: Expand = _no_facts,
    ) -> None:
        self.db = db
        self.expand = expand
        #: Whether the rows come from other connections (`refresh`), not from this one.
        self.follows_table = follows_table
        #: Per webhook, the largest key read from the table (when `follows_table`).
        self._seen_up_to: dict[str, int] = {}
        #: The largest key left by the flush under way (when `follows_table`).
        self._top_after_flush: int | None = None
        #: Guards the queues: taken by the store's transactions (any thread) and the
        #: delivery (the event loop), each time for moments, never across a database call.
        self.lock = threading.Lock()
        self.queues = {webhook: Queue() for webhook in webhooks}
        self._pending: int | None = None  # None: count the table again
        self._version: int | None = None
        #: Rows written (webhook, seq, key, bots, facts) and events deleted in the
        #: transaction under way, for when it commits.
        self._written: list[tuple[str, int, str, str, bytes]] = []
        self._added = self._deleted = 0
        #: Per webhook, the rows taken (their seq) and put off (time, seq) since the last
        #: `flush`, and those a flush under way took from them (back if it fails).
        self._taken: dict[str, list[int]] = {}
        self._put_off: dict[str, list[tuple[float, int]]] = {}
        self._flushing: list[tuple[str, list[int], list[tuple[float, int]]]] = []

    # -- in the store's transactions ------------------------------------------------------

    def begin(self) -> None:
        """At the start of a transaction: if another connection committed since this one's
        last transaction, the rows in memory are read again before they are used."""
        self._seen(self.db.execute("PRAGMA data_version").fetchone()[0])

    def _seen(self, version: int) -> None:
        if version != self._version:
            # Another connection committed (for an outbox that follows the table: always).
            if self._version is not None and not self.follows_table:
                self._pending = None
                with self.lock:
                    for queue in self.queues.values():
                        queue.stale = True
            self._version = version

    def pending(self) -> int:
        """How many events wait (once per bot and webhook); in a transaction."""
        if self._pending is None:
            self._pending = count_events(self.db)
        return self._pending

    def write(
        self, webhook: str, bot_ids: Sequence[str], key: str, facts: bytes, events: int
    ) -> None:
        """Queue a change's `events` (deliveries, once per bot) for `webhook` as the row of
        their `facts`, in the transaction under way."""
        bots = ",".join(bot_ids)
        seq = self.db.execute(_INSERT, (webhook, bots, key, facts, events)).lastrowid
        if webhook in self.queues:  # else delivered by another process (`elsewhere`)
            assert seq is not None
            self._written.append((webhook, seq, key, bots, facts))
        self._added += events

    def _deliveries(
        self, webhook: str, seq: int, key: str, bots: str, stored: bytes, attempts: int
    ) -> list[Pending]:
        """A row's events, once per bot each, in order; a row with none (a rewritten change's)
        is taken at once, to be deleted by the next `flush` (with `lock` held)."""
        bodies = [stored] if stored[:1] == b"{" else self.expand(key, stored)
        bot_ids = bots.split(",")
        events = [Pending(seq, key, bot, body, 0, False) for body in bodies for bot in bot_ids]
        if not events:
            self._taken.setdefault(webhook, []).append(seq)
            return events
        events[0] = events[0]._replace(attempts=attempts)
        events[-1] = events[-1]._replace(last=True)
        return events

    def elsewhere(self) -> None:
        """Another process delivers the rows (`reference_server.relay`): keep none in memory."""
        with self.lock:
            self.queues.clear()

    def committed(self) -> None:
        """The transaction committed: its rows are in the table, and now in the queues."""
        if self._pending is not None:
            self._pending += self._added - self._deleted
        self._added = self._deleted = 0
        self._flushing.clear()
        if self._top_after_flush is not None:  # look from there: keys above it may be new
            top, self._top_after_flush = self._top_after_flush, None
            for webhook, seen in self._seen_up_to.items():
                self._seen_up_to[webhook] = min(seen, top)
        if not self._written:
            return
        with self.lock:
            for webhook, seq, key, bots, facts in self._written:
                queue = self.queues.get(webhook)
                if queue is not None and not queue.stale:
                    for event in self._deliveries(webhook, seq, key, bots, facts, 0):
                        queue.add(event)
        self._written.clear()

    def rolled_back(self) -> None:
        self._written.clear()
        self._added = self._deleted = 0
        self._top_after_flush = None
        with self.lock:  # what a flush took from the lists goes back, for the next one
            for webhook, taken, put_off in self._flushing:
                self._taken.setdefault(webhook, [])[:0] = taken
                self._put_off.setdefault(webhook, [])[:0] = put_off
        self._flushing.clear()

    def settled(
        self, webhook: str, taken: Sequence[Pending], retry: Sequence[tuple[Pending, float]]
    ) -> None:
        """The events in flight were taken (the next of their thread is due now) or put
        off: at once in memory, in the table at the next `flush` (a row once its last event
        was taken)."""
        with self.lock:
            queue = self.queues[webhook]
            if not queue.stale:
                queue.settled(taken, retry)
            self._taken.setdefault(webhook, []).extend(row.seq for row in taken if row.last)
            self._put_off.setdefault(webhook, []).extend(
                (next_at, row.seq) for row, next_at in retry
            )

    def unsettled(self, webhook: str) -> tuple[int, int]:
        """How many rows taken and put off wait for a `flush`."""
        with self.lock:
            return len(self._taken.get(webhook, ())), len(self._put_off.get(webhook, ()))

    def flush(self, webhook: str) -> None:
        """Delete the rows taken, put off the rows put off, in the table (in a transaction):
        what `settled` told, many rounds at once."""
        with self.lock:
            taken = self._taken.pop(webhook, [])
            put_off = self._put_off.pop(webhook, [])
        self._flushing.append((webhook, taken, put_off))
        db = self.db
        if taken:
            rows = ",".join(map(str, taken))
            self._deleted += count_events(db, f"seq IN ({rows})")
            db.execute(f"DELETE FROM outbox WHERE seq IN ({rows})")
        if put_off:
            db.executemany(
                "UPDATE outbox SET attempts = attempts + 1, next_at = ? WHERE seq = ?", put_off
            )
        if self.follows_table:
            self._top_after_flush = db.execute("SELECT max(seq) FROM outbox").fetchone()[0] or 0

    # -- outside transactions -------------------------------------------------------------

    def load(self, webhook: str, now: float) -> None:
        """Read the rows of `webhook` from the table into its queue."""
        # The version first: a commit between the two is read again, never missed. So is the
        # largest key: rows above it are read by the next `refresh` if not by this.
        version = self.db.execute("PRAGMA data_version").fetchone()[0]
        top = self.db.execute("SELECT max(seq) FROM outbox").fetchone()[0] or 0
        rows = self.db.execute(
            "SELECT seq, thread_key, bot_id, body, attempts, next_at FROM outbox"
            " WHERE webhook = ? ORDER BY seq",
            (webhook,),
        ).fetchall()
        queue = Queue(stale=False)
        with self.lock:
            for seq, key, bots, stored, attempts, next_at in rows:
                first = key not in queue.threads
                events = self._deliveries(webhook, seq, key, bots, bytes(stored), attempts)
                for event in events:
                    queue.add(event)
                if events and first and next_at is not None and next_at > now:
                    del queue.ready[key]
                    heapq.heappush(queue.later, (float(next_at), seq, key))
            self.queues[webhook] = queue
        self._seen(version)
        self._seen_up_to[webhook] = max(top, rows[-1][0] if rows else 0)

    def refresh(self, webhook: str) -> None:
        """Read the rows of `webhook` written since the last look (when `follows_table`);
        nothing while the queue is to be read whole (`load`)."""
        with self.lock:
            if self.queues[webhook].stale:
                return
        rows = self.db.execute(
            "SELECT seq, thread_key, bot_id, body FROM outbox WHERE seq > ? AND webhook = ?"
            " ORDER BY seq",
            (self._seen_up_to.get(webhook, 0), webhook),
        ).fetchall()
        if not rows:
            return
        self._seen_up_to[webhook] = rows[-1][0]
        with self.lock:
            queue = self.queues[webhook]
            for seq, key, bots, stored in rows:
                for event in self._deliveries(webhook, seq, key, bots, bytes(stored), 0):
                    queue.add(event)

    def stale(self, webhook: str) -> None:
        """Read the table again before `webhook`'s next round (its queue may be wrong)."""
        with self.lock:
            self.queues[webhook].stale = True

    def take(self, webhook: str, now: float, limit: int) -> list[Pending] | None:
        """The rows of `webhook` to send now (see `Queue.take`); None if the queue must be
        read from the table first (`load`)."""
        with self.lock:
            queue = self.queues[webhook]
            return None if queue.stale else queue.take(now, limit)

    def next_due(self, webhook: str) -> float | None:
        """When the next row of `webhook` is due (0: now, or the table is to be read)."""
        with self.lock:
            queue = self.queues[webhook]
            return 0.0 if queue.stale else queue.next_due()


def count_events(db: sqlite3.Connection, where: str = "1") -> int:
    """How many events (deliveries) the rows of the outbox that match `where` hold."""
    found = db.execute(f"SELECT total(events) FROM outbox WHERE {where}").fetchone()[0]
    return int(found)
