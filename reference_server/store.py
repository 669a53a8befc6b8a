"""The state of the reference server: calls, their users, audio, recordings and streams.

Everything lives in one SQLite database (the standard library's `sqlite3`). A file database
runs in WAL mode; every operation is one `BEGIN IMMEDIATE ... COMMIT` transaction, committed
before the server answers, so an answered request survives the server process being killed.
With `synchronous=NORMAL` (the default) the commit is durable against the process dying
(SIGKILL, a crash); `synchronous=FULL` also makes it durable against the machine losing power,
at the price of an fsync per request.

Operations are serialised per store: a lock guards the connection, and `BEGIN IMMEDIATE`
takes SQLite's write lock at the start of the transaction, so that two processes sharing a
database file cannot interleave a read and a write of the same call either.
"""

from __future__ import annotations

import math
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
"""

#: `result` of `call/end`: somebody joined the call, or nobody did.
ANSWERED = "answered"
UNANSWERED = "unanswered"

_ACTIVE_CALL = (
    "SELECT id, direction, started_at, answered_at, audio_id, recording_id, stream_id"
    " FROM calls WHERE team_id = ? AND thread_id = ? AND ended_at IS NULL"
)


class Conflict(Exception):
    """The thread is not in the state the operation needs (HTTP 409)."""


@dataclass(frozen=True, slots=True)
class Media:
    """A recording or a stream, as the server serves it back over GET."""

    id: str
    started_at: float
    stopped_at: float | None


class _ActiveCall:
    __slots__ = (
        "answered_at",
        "audio_id",
        "direction",
        "id",
        "recording_id",
        "started_at",
        "stream_id",
    )

    def __init__(self, row: tuple[Any, ...]) -> None:
        (
            self.id,
            self.direction,
            self.started_at,
            self.answered_at,
            self.audio_id,
            self.recording_id,
            self.stream_id,
        ) = row


@dataclass(frozen=True, slots=True)
class _MediaKind:
    """Recordings or streams: their table, their column in `calls`, and the word for them."""

    table: str
    column: str
    verb: str


_RECORDING = _MediaKind("recordings", "recording_id", "recorded")
_STREAM = _MediaKind("streams", "stream_id", "streamed")


def _whole_seconds(seconds: float) -> int:
    return max(0, math.floor(seconds))


class Store:
    """The calls of every team, in one SQLite database.

    `database` is a file path, or `":memory:"` for a throwaway store. `clock` returns wall
    clock seconds (durations outlive a restart, so a monotonic clock would not do).
    """

    def __init__(
        self,
        database: str | Path = ":memory:",
        *,
        synchronous: str = "NORMAL",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if synchronous.upper() not in ("NORMAL", "FULL"):
            raise ValueError(f"synchronous must be NORMAL or FULL, not {synchronous!r}")
        self.database = str(database)
        self.clock = clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.database, isolation_level=None, check_same_thread=False, timeout=10.0
        )
        if self.database != ":memory:":
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise RuntimeError(f"{self.database}: SQLite refused WAL mode ({mode})")
        self._db.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- transactions ---------------------------------------------------------------------

    def _transaction(
        self, team_id: str, thread_id: str, action: Callable[..., Any], *args: Any
    ) -> Any:
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(_ACTIVE_CALL, (team_id, thread_id)).fetchone()
                call = _ActiveCall(row) if row is not None else None
                result = action(db, team_id, thread_id, call, *args)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return result

    @staticmethod
    def _need_call(call: _ActiveCall | None, thread_id: str) -> _ActiveCall:
        if call is None:
            raise Conflict(f"There is no active call in thread {thread_id}")
        return call

    # -- operations -----------------------------------------------------------------------

    def call_start(self, team_id: str, thread_id: str, direction: str) -> dict[str, Any]:
        return self._transaction(team_id, thread_id, self._call_start, direction)

    def _call_start(
        self,
        db: sqlite3.Connection,
        team_id: str,
        thread_id: str,
        call: _ActiveCall | None,
        direction: str,
    ) -> dict[str, Any]:
        if call is not None:
            raise Conflict(f"A call is already active in thread {thread_id}")
        db.execute(
            "INSERT INTO calls (team_id, thread_id, direction, started_at) VALUES (?, ?, ?, ?)",
            (team_id, thread_id, direction, self.clock()),
        )
        return {"direction": direction}

    def call_end(self, team_id: str, thread_id: str) -> dict[str, Any]:
        return self._transaction(team_id, thread_id, self._call_end)

    def _call_end(
        self, db: sqlite3.Connection, team_id: str, thread_id: str, call: _ActiveCall | None
    ) -> dict[str, Any]:
        call = self._need_call(call, thread_id)
        now = max(self.clock(), call.started_at)
        call_duration = _whole_seconds(now - call.started_at)
        if call.answered_at is None:
            dialog_duration, result = 0, UNANSWERED
        else:
            dialog_duration = min(call_duration, _whole_seconds(now - call.answered_at))
            result = ANSWERED
        self._stop_media(db, call, now)
        db.execute(
            "UPDATE calls SET ended_at = ?, call_duration = ?, dialog_duration = ?, result = ?,"
            " audio_id = NULL, recording_id = NULL, stream_id = NULL WHERE id = ?",
            (now, call_duration, dialog_duration, result, call.id),
        )
        return {
            "callDuration": call_duration,
            "dialogDuration": dialog_duration,
            "result": result,
            "direction": call.direction,
        }

    @staticmethod
    def _stop_media(db: sqlite3.Connection, call: _ActiveCall, now: float) -> None:
        if call.audio_id is not None:
            db.execute("UPDATE audio_plays SET stopped_at = ? WHERE id = ?", (now, call.audio_id))
        if call.recording_id is not None:
            db.execute(
                "UPDATE recordings SET stopped_at = ? WHERE id = ?", (now, call.recording_id)
            )
        if call.stream_id is not None:
            db.execute("UPDATE streams SET stopped_at = ? WHERE id = ?", (now, call.stream_id))

    def call_user_invite(
        self, team_id: str, thread_id: str, user_ids: Sequence[str]
    ) -> dict[str, Any]:
        return self._transaction(team_id, thread_id, self._invite, user_ids)

    def _invite(
        self,
        db: sqlite3.Connection,
        team_id: str,
        thread_id: str,
        call: _ActiveCall | None,
        user_ids: Sequence[str],
    ) -> dict[str, Any]:
        call = self._need_call(call, thread_id)
        count = db.executemany(
            "INSERT OR IGNORE INTO participants (call_id, user_id) VALUES (?, ?)",
            [(call.id, user) for user in user_ids],
        ).rowcount
        if count and call.answered_at is None:
            db.execute("UPDATE calls SET answered_at = ? WHERE id = ?", (self.clock(), call.id))
        return {"invitedUsersCount": count}

    def call_user_exclude(
        self, team_id: str, thread_id: str, user_ids: Sequence[str]
    ) -> dict[str, Any]:
        return self._transaction(team_id, thread_id, self._exclude, user_ids)

    def _exclude(
        self,
        db: sqlite3.Connection,
        team_id: str,
        thread_id: str,
        call: _ActiveCall | None,
        user_ids: Sequence[str],
    ) -> dict[str, Any]:
        call = self._need_call(call, thread_id)
        count = db.executemany(
            "DELETE FROM participants WHERE call_id = ? AND user_id = ?",
            [(call.id, user) for user in user_ids],
        ).rowcount
        return {"excludedUsersCount": count}

    def call_pause(self, team_id: str, thread_id: str, user_ids: Sequence[str]) -> dict[str, Any]:
        return self._transaction(team_id, thread_id, self._set_paused, user_ids, 1)

    def call_unpause(self, team_id: str, thread_id: str, user_ids: Sequence[str]) -> dict[str, Any]:
        return self._transaction(team_id, thread_id, self._set_paused, user_ids, 0)

    def _set_paused(
        self,
        db: sqlite3.Connection,
        team_id: str,
        thread_id: str,
        call: _ActiveCall | None,
        user_ids: Sequence[str],
        paused: int,
    ) -> dict[str, Any]:
        call = self._need_call(call, thread_id)
        count = db.executemany(
            "UPDATE participants SET paused = ? WHERE call_id = ? AND user_id = ? AND paused != ?",
            [(paused, call.id, user, paused) for user in user_ids],
        ).rowcount
        return {"pausedUsersCount" if paused else "unpausedUsersCount": count}

    def call_audio_play(self, team_id: str, thread_id: str, file_url: str) -> None:
        return self._transaction(team_id, thread_id, self._audio_play, file_url)

    def _audio_play(
        self,
        db: sqlite3.Connection,
        team_id: str,
        thread_id: str,
        call: _ActiveCall | None,
        file_url: str,
    ) -> None:
        call = self._need_call(call, thread_id)
        now = self.clock()
        if call.audio_id is not None:  # a new file replaces the one playing
            db.execute("UPDATE audio_plays SET stopped_at = ? WHERE id = ?", (now, call.audio_id))
        audio_id = db.execute(
            "INSERT INTO audio_plays (call_id, file_url, started_at) VALUES (?, ?, ?)",
            (call.id, file_url, now),
        ).lastrowid
        db.execute("UPDATE calls SET audio_id = ? WHERE id = ?", (audio_id, call.id))

    def call_audio_stop(self, team_id: str, thread_id: str) -> None:
        return self._transaction(team_id, thread_id, self._audio_stop)

    def _audio_stop(
        self, db: sqlite3.Connection, team_id: str, thread_id: str, call: _ActiveCall | None
    ) -> None:
        if call is None or call.audio_id is None:
            raise Conflict(f"No audio is playing in thread {thread_id}")
        db.execute(
            "UPDATE audio_plays SET stopped_at = ? WHERE id = ?", (self.clock(), call.audio_id)
        )
        db.execute("UPDATE calls SET audio_id = NULL WHERE id = ?", (call.id,))

    def call_recording_start(self, team_id: str, thread_id: str) -> None:
        self._transaction(team_id, thread_id, self._start_recording_or_stream, _RECORDING)

    def call_recording_stop(self, team_id: str, thread_id: str) -> str:
        """Stop the recording; answer its id."""
        return self._transaction(team_id, thread_id, self._stop_recording_or_stream, _RECORDING)

    def call_stream_start(self, team_id: str, thread_id: str) -> str:
        """Start a stream; answer its id."""
        return self._transaction(team_id, thread_id, self._start_recording_or_stream, _STREAM)

    def call_stream_stop(self, team_id: str, thread_id: str) -> None:
        self._transaction(team_id, thread_id, self._stop_recording_or_stream, _STREAM)

    def _start_recording_or_stream(
        self,
        db: sqlite3.Connection,
        team_id: str,
        thread_id: str,
        call: _ActiveCall | None,
        kind: _MediaKind,
    ) -> str:
        call = self._need_call(call, thread_id)
        if getattr(call, kind.column) is not None:
            raise Conflict(f"The call in thread {thread_id} is already being {kind.verb}")
        media_id = secrets.token_hex(16)
        db.execute(
            f"INSERT INTO {kind.table} (id, call_id, started_at) VALUES (?, ?, ?)",
            (media_id, call.id, self.clock()),
        )
        db.execute(f"UPDATE calls SET {kind.column} = ? WHERE id = ?", (media_id, call.id))
        return media_id

    def _stop_recording_or_stream(
        self,
        db: sqlite3.Connection,
        team_id: str,
        thread_id: str,
        call: _ActiveCall | None,
        kind: _MediaKind,
    ) -> str:
        media_id = None if call is None else getattr(call, kind.column)
        if call is None or media_id is None:
            raise Conflict(f"The call in thread {thread_id} is not being {kind.verb}")
        db.execute(f"UPDATE {kind.table} SET stopped_at = ? WHERE id = ?", (self.clock(), media_id))
        db.execute(f"UPDATE calls SET {kind.column} = NULL WHERE id = ?", (call.id,))
        return media_id

    # -- reads ----------------------------------------------------------------------------

    def recording(self, recording_id: str) -> Media | None:
        return self._media("recordings", recording_id)

    def stream(self, stream_id: str) -> Media | None:
        return self._media("streams", stream_id)

    def _media(self, table: str, media_id: str) -> Media | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT id, started_at, stopped_at FROM {table} WHERE id = ?", (media_id,)
            ).fetchone()
        return Media(*row) if row is not None else None

    def participants(self, team_id: str, thread_id: str) -> dict[str, bool] | None:
        """The users of the thread's active call and whether each is paused (None: no call)."""
        with self._lock:
            row = self._db.execute(_ACTIVE_CALL, (team_id, thread_id)).fetchone()
            if row is None:
                return None
            return {
                user: bool(paused)
                for user, paused in self._db.execute(
                    "SELECT user_id, paused FROM participants WHERE call_id = ?", (row[0],)
                )
            }
