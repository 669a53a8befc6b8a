"""The SQLite tables of the reference server's store (see `reference_server.store`).

`calls` holds one row per call; a thread has at most one active call (`ended_at IS NULL`),
which a unique partial index enforces. The active call points at what is playing, recording
or streaming in it (`audio_id`, `recording_id`, `stream_id`); `participants` holds its users.

`outbox` holds the call events not yet delivered, one row per event and webhook, written in
the transaction of the change they report and deleted once the webhook took them
(`reference_server.outbox`); `outbox_size` counts its rows, so that the bound on them is
checked without counting.
"""

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
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook TEXT NOT NULL,
    bot_id TEXT NOT NULL,
    thread_key TEXT NOT NULL,
    body BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL
);
CREATE INDEX IF NOT EXISTS outbox_per_thread ON outbox (webhook, thread_key, seq);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (webhook, next_at) WHERE next_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS outbox_size (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    pending INTEGER NOT NULL
);
INSERT OR IGNORE INTO outbox_size (id, pending) VALUES (0, 0);
"""
