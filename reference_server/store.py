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

An operation waits `busy_timeout` seconds for a write lock that another connection holds,
then fails (`is_busy`); `wait_for_lock(0)` makes it fail at once instead, for a caller that
must never wait (the server's event loop), which retries where waiting is harmless.

The store knows nothing of HTTP or of the wire format: each operation answers one of the
small values of `reference_server.results` (or None), and raises `Conflict` when the thread's
state does not allow it. It is an implementation of its own, independent of the contract's
executable model, so that the fuzzer's oracle and the server cannot share a mistake.
"""

from __future__ import annotations

import contextlib
import math
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .events import Recorder
from .outbox import Outbox, count_events
from .results import CallEnded, CallStarted, Media, RecordingStopped, StreamStarted, UsersChanged
from .tables import SCHEMA, upgrade

#: `result` of `call/end`: somebody joined the call, or nobody did.
ANSWERED = "answered"
UNANSWERED = "unanswered"

_ACTIVE_CALL = (
    "SELECT id, direction, started_at, answered_at, audio_id, recording_id, stream_id"
    " FROM calls WHERE team_id = ? AND thread_id = ? AND ended_at IS NULL"
)


#: Seconds an operation waits for the write lock held by another connection (e.g. another
#: process sharing the file) before it gives up: short, so that a stuck lock answers 503 soon.
DEFAULT_BUSY_TIMEOUT = 2.0

#: Commits between two deferred checkpoints (`Store.defer_checkpoints`): an operation writes
#: two or three pages, so about SQLite's own default of a checkpoint per 1000 pages of WAL.
CHECKPOINT_COMMITS = 450

_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


def is_busy(error: BaseException) -> bool:
    """Whether the error says that another connection held the database's lock too long."""
    return (
        isinstance(error, sqlite3.OperationalError)
        and getattr(error, "sqlite_errorcode", None) in _BUSY_CODES
    )


class Conflict(Exception):
    """The thread is not in the state the operation needs (HTTP 409)."""


@dataclass(frozen=True, slots=True)
class _ActiveCall:
    id: int
    direction: str
    started_at: float
    answered_at: float | None
    audio_id: int | None
    recording_id: str | None
    stream_id: str | None


@dataclass(frozen=True, slots=True)
class _MediaKind:
    """Recordings or streams: their table, their column in `calls`, and the word for them."""

    table: str
    column: str
    verb: str


_RECORDING = _MediaKind("recordings", "recording_id", "recorded")
_STREAM = _MediaKind("streams", "stream_id", "streamed")

# What invite, exclude, pause and unpause do to each named user (`:call`, `:user`, `:paused`).
_INVITE = "INSERT OR IGNORE INTO participants (call_id, user_id) VALUES (:call, :user)"
_EXCLUDE = "DELETE FROM participants WHERE call_id = :call AND user_id = :user"
_SET_PAUSED = (
    "UPDATE participants SET paused = :paused"
    " WHERE call_id = :call AND user_id = :user AND paused != :paused"
)


def _whole_seconds(seconds: float) -> int:
    return max(0, math.floor(seconds))


def _need_call(call: _ActiveCall | None, thread_id: str) -> _ActiveCall:
    if call is None:
        raise Conflict(f"There is no active call in thread {thread_id}")
    return call


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
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        recorder: Recorder | None = None,
        follows_table: bool = False,
    ) -> None:
        if synchronous.upper() not in ("NORMAL", "FULL"):
            raise ValueError(f"synchronous must be NORMAL or FULL, not {synchronous!r}")
        self.database = str(database)
        self.clock = clock
        #: Seconds an operation waits for another connection's write lock before it fails
        #: with `sqlite3.OperationalError` (SQLITE_BUSY); see `is_busy`.
        self.busy_timeout = busy_timeout
        self.synchronous = synchronous.upper()
        #: Writes the call events of each change into the outbox (None: no webhooks).
        self.recorder = recorder
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.database, isolation_level=None, check_same_thread=False, timeout=busy_timeout
        )
        self._patience = busy_timeout
        #: Commits since the last checkpoint, once checkpoints are deferred (None: SQLite's own).
        self._commits: int | None = None
        if self.database != ":memory:":
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise RuntimeError(f"{self.database}: SQLite refused WAL mode ({mode})")
        self._db.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        upgrade(self._db)
        #: The outbox of call events, its rows also in memory (None: no webhooks); with
        #: `follows_table`, of rows other processes write (`reference_server.relay`).
        self.outbox = (
            Outbox(self._db, recorder.webhooks, follows_table=follows_table, expand=self._expand)
            if recorder is not None
            else None
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _expand(self, key: str, facts: bytes) -> list[bytes]:
        """The bodies of an outbox row's events, by the recorder of now (a test may swap
        it)."""
        if self.recorder is None:
            raise RuntimeError("the store has no recorder: it was made without webhooks")
        return self.recorder.expand(key, facts)

    def defer_checkpoints(self) -> None:
        """Commits no longer copy the WAL back into the database file themselves: `checkpoint`
        does, when `checkpoint_due` says so.

        A checkpoint waits for the disk (an fsync of the WAL and of the file, milliseconds to
        tens of them) once in a few hundred commits; deferred, the caller can run it on
        another thread than its operations'. No effect on a store in memory.
        """
        if self.database == ":memory:" or self._commits is not None:
            return
        with self._lock:
            self._db.execute("PRAGMA wal_autocheckpoint = 0")
            self._commits = 0

    @property
    def checkpoint_due(self) -> bool:
        """Whether enough commits went into the WAL since the last `checkpoint`."""
        return self._commits is not None and self._commits >= CHECKPOINT_COMMITS

    def checkpoint(self) -> None:
        """Copy the WAL into the database file (SQLite's PASSIVE checkpoint), then start it
        over: with synchronous=NORMAL the first write into a WAL that starts over syncs its
        header, so it is made here, the database's `user_version` written again as it is.

        Operations wait meanwhile: a checkpoint beside writes would never catch up with them,
        and the WAL would grow without end.
        """
        if self._commits is None:
            return
        with self._lock:
            self._commits = 0
            db = self._db
            # Busy: another process checkpoints or writes; the next checkpoint will do.
            with contextlib.suppress(sqlite3.OperationalError):
                db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                version = db.execute("PRAGMA user_version").fetchone()[0]
                db.execute(f"PRAGMA user_version = {int(version)}")

    @property
    def syncs_each_commit(self) -> bool:
        """Whether every commit waits for the disk (an fsync: a file with synchronous=FULL)."""
        return self.synchronous == "FULL" and self.database != ":memory:"

    def wait_for_lock(self, seconds: float) -> None:
        """How long the next operations wait for a write lock held by another connection
        (0: not at all, they fail with SQLITE_BUSY at once; see `is_busy`)."""
        if seconds != self._patience:
            with self._lock:
                self._db.execute(f"PRAGMA busy_timeout = {round(seconds * 1000)}")
                self._patience = seconds

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back on an error."""
        with self._lock:
            db, box = self._db, self.outbox
            db.execute("BEGIN IMMEDIATE")
            try:
                if box is not None:
                    box.begin()
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                if box is not None:
                    box.rolled_back()
                raise
            try:
                db.execute("COMMIT")
            except BaseException:
                # A commit that failed (e.g. busy) leaves nothing half done: the operation
                # can be tried again as a whole.
                if db.in_transaction:
                    db.execute("ROLLBACK")
                if box is not None:
                    box.rolled_back()
                raise
            if box is not None:
                box.committed()
            if self._commits is not None:
                self._commits += 1

    @contextmanager
    def _thread(
        self, team_id: str, thread_id: str
    ) -> Iterator[tuple[sqlite3.Connection, _ActiveCall | None]]:
        """One transaction on a thread: the connection and the thread's active call, if any."""
        with self._transaction() as db:
            row = db.execute(_ACTIVE_CALL, (team_id, thread_id)).fetchone()
            yield db, (_ActiveCall(*row) if row is not None else None)

    def _record(
        self,
        db: sqlite3.Connection,
        team_id: str,
        thread_id: str,
        method: str,
        counted: Sequence[str] = (),
        values: Mapping[str, object] | None = None,
    ) -> None:
        """The change's events into the outbox, in its transaction (`events.OutboxFull`
        rolls the change back)."""
        if self.recorder is not None and self.outbox is not None:
            self.recorder.record(self.outbox, team_id, thread_id, method, counted, values)

    # -- operations -----------------------------------------------------------------------

    def call_start(self, team_id: str, thread_id: str, direction: str) -> CallStarted:
        with self._thread(team_id, thread_id) as (db, call):
            if call is not None:
                raise Conflict(f"A call is already active in thread {thread_id}")
            now = self.clock()
            db.execute(
                "INSERT INTO calls (team_id, thread_id, direction, started_at) VALUES (?, ?, ?, ?)",
                (team_id, thread_id, direction, now),
            )
            self._record(
                db, team_id, thread_id, "call/start", values={"createdAt": int(now * 1000)}
            )
        return CallStarted(direction)

    def call_end(self, team_id: str, thread_id: str) -> CallEnded:
        """End the call; its audio, recording and stream stop with it."""
        with self._thread(team_id, thread_id) as (db, active):
            call = _need_call(active, thread_id)
            now = max(self.clock(), call.started_at)
            call_duration = _whole_seconds(now - call.started_at)
            if call.answered_at is None:
                dialog_duration, result = 0, UNANSWERED
            else:
                dialog_duration = min(call_duration, _whole_seconds(now - call.answered_at))
                result = ANSWERED
            for table, media_id in (
                ("audio_plays", call.audio_id),
                (_RECORDING.table, call.recording_id),
                (_STREAM.table, call.stream_id),
            ):
                if media_id is not None:
                    db.execute(f"UPDATE {table} SET stopped_at = ? WHERE id = ?", (now, media_id))
            db.execute(
                "UPDATE calls SET ended_at = ?, call_duration = ?, dialog_duration = ?,"
                " result = ?, audio_id = NULL, recording_id = NULL, stream_id = NULL"
                " WHERE id = ?",
                (now, call_duration, dialog_duration, result, call.id),
            )
            self._record(db, team_id, thread_id, "call/end")
        return CallEnded(call_duration, dialog_duration, result, call.direction)

    def call_user_invite(
        self, team_id: str, thread_id: str, user_ids: Sequence[str]
    ) -> UsersChanged:
        """Invite the users not yet in the call; the first invitation answers the call."""
        return self._users(team_id, thread_id, "call.user/invite", user_ids, _INVITE, answers=True)

    def call_user_exclude(
        self, team_id: str, thread_id: str, user_ids: Sequence[str]
    ) -> UsersChanged:
        return self._users(team_id, thread_id, "call.user/exclude", user_ids, _EXCLUDE)

    def call_pause(self, team_id: str, thread_id: str, user_ids: Sequence[str]) -> UsersChanged:
        return self._users(team_id, thread_id, "call/pause", user_ids, _SET_PAUSED, paused=1)

    def call_unpause(self, team_id: str, thread_id: str, user_ids: Sequence[str]) -> UsersChanged:
        return self._users(team_id, thread_id, "call/unpause", user_ids, _SET_PAUSED, paused=0)

    def hangup(self, team_id: str, thread_id: str, user_ids: Sequence[str]) -> UsersChanged:
        """What only the platform causes: users of the call hang up, and leave it."""
        return self._users(team_id, thread_id, "hangup", user_ids, _EXCLUDE)

    def dtmf(self, team_id: str, thread_id: str, key: str) -> None:
        """What only the platform causes: a user of the call presses a key."""
        with self._thread(team_id, thread_id) as (db, active):
            _need_call(active, thread_id)
            self._record(db, team_id, thread_id, "dtmf", values={"dtmfNumber": key})

    def _users(
        self,
        team_id: str,
        thread_id: str,
        method: str,
        user_ids: Sequence[str],
        statement: str,
        *,
        answers: bool = False,
        **values: object,
    ) -> UsersChanged:
        """Run `statement` once per named user of the active call; count the users it changed,
        in the order named (the events of `method` are written in that order).

        `answers`: a change marks the call answered (the first invitation).
        """
        with self._thread(team_id, thread_id) as (db, active):
            call = _need_call(active, thread_id)
            counted = [
                user
                for user in user_ids
                if db.execute(statement, {"call": call.id, "user": user, **values}).rowcount
            ]
            if answers and counted and call.answered_at is None:
                db.execute("UPDATE calls SET answered_at = ? WHERE id = ?", (self.clock(), call.id))
            self._record(db, team_id, thread_id, method, counted)
        return UsersChanged(len(counted))

    def call_audio_play(self, team_id: str, thread_id: str, file_url: str) -> None:
        """Play the file; a file already playing is replaced."""
        with self._thread(team_id, thread_id) as (db, active):
            call = _need_call(active, thread_id)
            now = self.clock()
            if call.audio_id is not None:
                db.execute(
                    "UPDATE audio_plays SET stopped_at = ? WHERE id = ?", (now, call.audio_id)
                )
            audio_id = db.execute(
                "INSERT INTO audio_plays (call_id, file_url, started_at) VALUES (?, ?, ?)",
                (call.id, file_url, now),
            ).lastrowid
            db.execute("UPDATE calls SET audio_id = ? WHERE id = ?", (audio_id, call.id))

    def call_audio_stop(self, team_id: str, thread_id: str) -> None:
        with self._thread(team_id, thread_id) as (db, call):
            if call is None or call.audio_id is None:
                raise Conflict(f"No audio is playing in thread {thread_id}")
            db.execute(
                "UPDATE audio_plays SET stopped_at = ? WHERE id = ?", (self.clock(), call.audio_id)
            )
            db.execute("UPDATE calls SET audio_id = NULL WHERE id = ?", (call.id,))

    def call_recording_start(self, team_id: str, thread_id: str) -> None:
        self._start_media(team_id, thread_id, _RECORDING)

    def call_recording_stop(self, team_id: str, thread_id: str) -> RecordingStopped:
        return RecordingStopped(self._stop_media(team_id, thread_id, _RECORDING))

    def call_stream_start(self, team_id: str, thread_id: str) -> StreamStarted:
        return StreamStarted(self._start_media(team_id, thread_id, _STREAM))

    def call_stream_stop(self, team_id: str, thread_id: str) -> None:
        self._stop_media(team_id, thread_id, _STREAM)

    def _start_media(self, team_id: str, thread_id: str, kind: _MediaKind) -> str:
        """Start a recording or a stream; answer its id."""
        with self._thread(team_id, thread_id) as (db, active):
            call = _need_call(active, thread_id)
            if getattr(call, kind.column) is not None:
                raise Conflict(f"The call in thread {thread_id} is already being {kind.verb}")
            media_id = secrets.token_hex(16)
            db.execute(
                f"INSERT INTO {kind.table} (id, call_id, started_at) VALUES (?, ?, ?)",
                (media_id, call.id, self.clock()),
            )
            db.execute(f"UPDATE calls SET {kind.column} = ? WHERE id = ?", (media_id, call.id))
        return media_id

    def _stop_media(self, team_id: str, thread_id: str, kind: _MediaKind) -> str:
        """Stop the recording or the stream; answer its id."""
        with self._thread(team_id, thread_id) as (db, call):
            media_id: str | None = None if call is None else getattr(call, kind.column)
            if call is None or media_id is None:
                raise Conflict(f"The call in thread {thread_id} is not being {kind.verb}")
            db.execute(
                f"UPDATE {kind.table} SET stopped_at = ? WHERE id = ?", (self.clock(), media_id)
            )
            db.execute(f"UPDATE calls SET {kind.column} = NULL WHERE id = ?", (call.id,))
        return media_id

    # -- reads ----------------------------------------------------------------------------

    def recording(self, recording_id: str) -> Media | None:
        return self._media(_RECORDING, recording_id)

    def stream(self, stream_id: str) -> Media | None:
        return self._media(_STREAM, stream_id)

    def _media(self, kind: _MediaKind, media_id: str) -> Media | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT id, started_at, stopped_at FROM {kind.table} WHERE id = ?", (media_id,)
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

    # -- the outbox of call events (see `reference_server.outbox`) --------------------------

    def _box(self) -> Outbox:
        if self.outbox is None:
            raise RuntimeError("the store has no outbox: it was made without webhooks")
        return self.outbox

    def outbox_load(self, webhook: str) -> None:
        """Read the events of `webhook` from the table into memory (at start-up, after a
        failure, after another process's commit), once what was taken is deleted there."""
        box = self._box()
        self.outbox_flush(webhook)
        with self._lock:
            box.load(webhook, self.clock())

    def outbox_refresh(self, webhook: str) -> None:
        """Read the events of `webhook` other processes wrote since the last look."""
        box = self._box()
        with self._lock:
            box.refresh(webhook)

    def outbox_flush(self, webhook: str) -> None:
        """Delete the events `webhook` took, and put off those it did not, in the table (the
        copy in memory knows already: `Outbox.settled`)."""
        box = self._box()
        if box.unsettled(webhook) != (0, 0):
            with self._transaction():
                box.flush(webhook)

    def outbox_pending(self) -> int:
        """How many event deliveries wait (for every webhook)."""
        with self._lock:
            return count_events(self._db)
