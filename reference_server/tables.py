"""The SQLite tables of the reference server's store (see `reference_server.store`).

`calls` holds one row per call; a thread has at most one active call (`ended_at IS NULL`),
which a unique partial index enforces. The active call points at what is playing, recording
or streaming in it (`audio_id`, `recording_id`, `stream_id`); `participants` holds its users.

`outbox` holds the call events not yet delivered, one row per change and webhook (the facts
their bodies are made from, and how many deliveries they are: `events`), written in the
transaction of the change they report and deleted once the webhook took them
(`reference_server.outbox`, which also keeps them in memory and counts them). It has no index
but its key: a change writes one page more, not three or four (the indexes, a counter, the
sequence of AUTOINCREMENT), and it is read whole, by key, only at start-up and after a
failure. A key is the largest so far plus one, never one of a row still there, so the keys of
a thread's rows still follow their order. A database of an earlier version loses the indexes
and the counter it had, and gains the `events` column (`upgrade`: its rows, of one event
each, are delivered as they are).
"""

import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY,
    team_id TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    direction TEXT NOT NULL,
    started_at REAL NOT NULL,
    answered_at REAL,
    ended_at REAL,
    audio_id INTEGER,
    recording_id TEXT,
    stream_id TEXT,
    call_duration INTEGER,
    dialog_duration INTEGER,
    result TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS calls_one_active_per_thread
    ON calls (team_id, thread_id) WHERE ended_at IS NULL;
CREATE TABLE IF NOT EXISTS participants (
    call_id INTEGER NOT NULL REFERENCES calls (id),
    user_id TEXT NOT NULL,
    paused INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (call_id, user_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audio_plays (
    id INTEGER PRIMARY KEY,
    call_id INTEGER NOT NULL REFERENCES calls (id),
    file_url TEXT NOT NULL,
    started_at REAL NOT NULL,
    stopped_at REAL
);
CREATE TABLE IF NOT EXISTS recordings (
    id TEXT PRIMARY KEY,
    call_id INTEGER NOT NULL REFERENCES calls (id),
    started_at REAL NOT NULL,
    stopped_at REAL
);
CREATE TABLE IF NOT EXISTS streams (
    id TEXT PRIMARY KEY,
    call_id INTEGER NOT NULL REFERENCES calls (id),
    started_at REAL NOT NULL,
    stopped_at REAL
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY,
    webhook TEXT NOT NULL,
    bot_id TEXT NOT NULL,
    thread_key TEXT NOT NULL,
    body BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL,
    events INTEGER NOT NULL DEFAULT 1
);
DROP INDEX IF EXISTS outbox_per_thread;
DROP INDEX IF EXISTS outbox_due;
DROP TABLE IF EXISTS outbox_size;
"""


def upgrade(db: sqlite3.Connection) -> None:
    """Bring the tables of an earlier version's database up to `SCHEMA` (after it ran)."""
    if _has_column(db, "outbox", "events"):
        return
    try:
        db.execute("ALTER TABLE outbox ADD COLUMN events INTEGER NOT NULL DEFAULT 1")
    except sqlite3.OperationalError:
        if not _has_column(db, "outbox", "events"):  # else another process added it
            raise


def _has_column(db: sqlite3.Connection, table: str, column: str) -> bool:
    return any(row[1] == column for row in db.execute(f"PRAGMA table_info({table})"))
