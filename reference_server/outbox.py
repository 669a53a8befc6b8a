"""The outbox of call events: its rows in SQLite (tables in `reference_server.tables`), and
their copy in memory that the delivery works from.

A row is one event for one webhook (and one bot). The table is the durable record: a row is
written in the transaction of the change it reports and deleted once its webhook took it, so
that what a commit left is delivered after a restart too. The delivery does not query it for
each round: `Outbox` keeps, per webhook, each thread's rows in order (only the oldest of a
thread can be sent; the next goes once it was taken), the threads whose oldest row is due
now, and those put off until a time (after a failed attempt, `next_at` in the row). Rows
enter it when their transaction commits; it is read from the table only at start-up, after a
failure, and when another connection (another process sharing the file) committed
something: `PRAGMA data_version` tells, at the start of each of the store's transactions.

The delivery tells the copy at once which rows were taken (the next of their thread is due)
and which were put off (`settled`); the table hears of them later, many rounds in one
transaction (`flush`: one DELETE for up to a thousand rows), and before it is read again. A
row taken but not yet deleted when the process dies is sent again after the restart: at
least once, as a row taken just before its DELETE always was.

`Outbox.pending` counts the rows in the table (the bound of the outbox), kept up to date the
same way: counted from the table once, then added to and taken from by this process's own
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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple


class Pending(NamedTuple):
    """An event in the outbox, due to be sent to its webhook (a tuple: one is made per
    event, in the change's transaction)."""

    seq: int
    thread_key: str
    bot_id: str
    body: bytes
    attempts: int


_INSERT = "INSERT INTO outbox (webhook, bot_id, thread_key, body) VALUES (?, ?, ?, ?)"


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
        self, db: sqlite3.Connection, webhooks: Iterable[str] = (), *, follows_table: bool = False
    ) -> None:
        self.db = db
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
        #: Rows written and deleted in the transaction under way, for when it commits.
        self._written: list[tuple[str, Pending]] = []
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
        """How many rows wait (for every webhook); in a transaction."""
        if self._pending is None:
            self._pending = int(self.db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
        return self._pending

    def write(self, webhook: str, bot_ids: Sequence[str], key: str, bodies: Sequence[bytes]) -> int:
        """Queue `bodies` (in order) for `webhook`, once per bot, in the transaction under
        way; answer how many rows."""
        db = self.db
        if webhook not in self.queues:  # delivered by another process (`elsewhere`)
            for body in bodies:
                for bot in bot_ids:
                    db.execute(_INSERT, (webhook, bot, key, body))
        else:
            written = self._written
            for body in bodies:
                for bot in bot_ids:
                    seq = db.execute(_INSERT, (webhook, bot, key, body)).lastrowid
                    assert seq is not None
                    written.append((webhook, Pending(seq, key, bot, body, 0)))
        rows = len(bodies) * len(bot_ids)
        self._added += rows
        return rows

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
            for webhook, row in self._written:
                queue = self.queues.get(webhook)
                if queue is not None and not queue.stale:
                    queue.add(row)
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
        """The rows in flight were taken (the next row of their thread is due now) or put
        off: at once in memory, in the table at the next `flush`."""
        with self.lock:
            queue = self.queues[webhook]
            if not queue.stale:
                queue.settled(taken, retry)
            self._taken.setdefault(webhook, []).extend(row.seq for row in taken)
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
            self._deleted += db.execute(
                f"DELETE FROM outbox WHERE seq IN ({','.join(map(str, taken))})"
            ).rowcount
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
        for seq, key, bot_id, body, attempts, next_at in rows:
            first = key not in queue.threads
            queue.add(Pending(seq, key, bot_id, bytes(body), attempts))
            if first and next_at is not None and next_at > now:
                del queue.ready[key]
                heapq.heappush(queue.later, (float(next_at), seq, key))
        self._seen(version)
        self._seen_up_to[webhook] = max(top, rows[-1][0] if rows else 0)
        with self.lock:
            self.queues[webhook] = queue

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
            for seq, key, bot_id, body in rows:
                queue.add(Pending(seq, key, bot_id, bytes(body), 0))

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
