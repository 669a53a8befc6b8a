"""The outbox of call events: SQL on the store's connection (tables in `reference_server.tables`).

A row is one event for one webhook (and one bot). Only the oldest row of a thread for a
webhook can be sent: it has a `next_at` (when it is due), every later row of that thread has
none (NULL) until the one before it was taken, so that the due rows are found through an
index, however long the outbox grows, and a thread's events go out in order.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Pending:
    """An event in the outbox, due to be sent to its webhook."""

    seq: int
    thread_key: str
    bot_id: str
    body: bytes
    attempts: int


def write(
    db: sqlite3.Connection, webhook: str, bot_ids: Sequence[str], key: str, bodies: Sequence[bytes]
) -> int:
    """Queue `bodies` (in order) for `webhook`, once per bot; answer how many rows."""
    rows = [(webhook, bot, key, body) for body in bodies for bot in bot_ids]
    if not rows:
        return 0
    waiting = db.execute(
        "SELECT 1 FROM outbox WHERE webhook = ? AND thread_key = ? LIMIT 1", (webhook, key)
    ).fetchone()
    first_due = None if waiting else 0.0
    db.executemany(
        "INSERT INTO outbox (webhook, bot_id, thread_key, body, next_at) VALUES (?, ?, ?, ?, ?)",
        [(*row, first_due if index == 0 else None) for index, row in enumerate(rows)],
    )
    db.execute("UPDATE outbox_size SET pending = pending + ?", (len(rows),))
    return len(rows)


def pending(db: sqlite3.Connection) -> int:
    """How many rows wait (for every webhook)."""
    return int(db.execute("SELECT pending FROM outbox_size").fetchone()[0])


def due(db: sqlite3.Connection, webhook: str, now: float, limit: int) -> list[Pending]:
    """The rows of `webhook` due by `now`, oldest first (at most one per thread)."""
    rows = db.execute(
        "SELECT seq, thread_key, bot_id, body, attempts FROM outbox"
        " WHERE webhook = ? AND next_at <= ? ORDER BY seq LIMIT ?",
        (webhook, now, limit),
    ).fetchall()
    return [Pending(*row) for row in rows]


def next_due(db: sqlite3.Connection, webhook: str) -> float | None:
    """When the next row of `webhook` is due (None: no row)."""
    found = db.execute(
        "SELECT MIN(next_at) FROM outbox WHERE webhook = ? AND next_at IS NOT NULL", (webhook,)
    ).fetchone()[0]
    return None if found is None else float(found)


def settle(
    db: sqlite3.Connection,
    webhook: str,
    taken: Sequence[Pending],
    retry: Sequence[tuple[Pending, float]],
) -> None:
    """Delete the rows taken and make the next row of each of their threads due; put off
    the rows in `retry` to their time."""
    db.executemany("DELETE FROM outbox WHERE seq = ?", [(row.seq,) for row in taken])
    if taken:
        db.execute("UPDATE outbox_size SET pending = pending - ?", (len(taken),))
    db.executemany(
        "UPDATE outbox SET next_at = 0 WHERE seq = (SELECT MIN(seq) FROM outbox"
        " WHERE webhook = ? AND thread_key = ?)",
        [(webhook, row.thread_key) for row in taken],
    )
    db.executemany(
        "UPDATE outbox SET attempts = attempts + 1, next_at = ? WHERE seq = ?",
        [(next_at, row.seq) for row, next_at in retry],
    )
