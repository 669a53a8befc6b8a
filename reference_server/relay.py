"""The delivery of the call events in a process of its own, beside a server on a database file.

A server is one thread: what it spends on delivering events (taking them from the outbox,
signing, posting, reading answers, deleting them) is time it does not answer requests in. With
a database file the outbox is a table that another process can read, so the delivery runs
there (`python -m reference_server.relay`, started and stopped by the server), on a core the
server does not use. The server only writes each change's facts into the outbox, one row in
the change's transaction; the relay makes the events' bodies from them
(`reference_server.events.Recorder.expand`, with the spec the server was given); nothing
answered is lost across a restart of either process.

- **Start and configuration.** `RelayProcess.start` (on the server's first request or its
  startup) starts the relay with its configuration (database, webhooks, bots and their secret
  keys, first retry delay, spec file) on its standard input: never in its command line or
  environment, which other users of the machine can read.
- **Waking it.** A relay with nothing to send raises a flag (a byte of a file both map),
  looks at the table once more, and sleeps; after a change, a server that finds the flag
  raised lowers it and writes a byte into a pipe the relay waits on (`wake`). Writing into a
  pipe wakes the other process, which costs the writer about as much as the change's events
  themselves: under load the relay is busy and the flag down, and no byte is written. The
  relay also looks at the table every `POLL` seconds, for other processes sharing the file.
- **What it delivers.** The relay's outbox follows the table (`Outbox(follows_table=True)`):
  it reads the rows written since it last looked (`Outbox.refresh`, by key), and deletes those
  taken (`reference_server.delivery`, as a server with a database in memory does on its own
  loop).
- **One per file.** A relay delivers only while it holds the lock of the file's relay
  (`<database>-relay.lock`): with several servers on one file, one relay delivers and the
  others wait to take over, so that each thread's events go out once, in order.
- **Ending.** The relay ends when the pipe closes: when the server stops (`stop`, which waits
  for it) or dies, even by SIGKILL; it ignores SIGINT (Ctrl-C reaches the whole group). A
  relay that died while its server runs is started again by the next wake (at most once a
  second; `wake` looks whether a busy relay still runs once a second too).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import mmap
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from contract.spec import read

from .auth import Bot
from .delivery import DEFAULT_RETRY_BASE, Delivery
from .events import recorder_for
from .store import Store

#: How often the relay looks at the table without being woken (seconds): other processes on
#: the file do not wake it.
POLL = 0.1
#: How long a round of the relay waits when events are already due after the one before
#: (seconds; the server's own loop waits 5 ms): under load each wake of the relay costs CPU
#: that the machine's other core shares with the server, and twice as many events per round
#: cost the relay about 40% less per event (31-34 us per request at 5 ms, 18-20 at 10 ms;
#: no less at 20 ms). A delivery under load comes up to 10 ms later; one alone, at once.
COALESCE = 0.01
#: How long the server waits for its relay to end when it stops, before it kills it.
STOP_TIMEOUT = 5.0
#: At most one start of the relay per this many seconds (a relay that dies at once).
RESTART_AFTER = 1.0

log = logging.getLogger("reference_server.relay")

#: The relay's program (not `-m reference_server.relay`: the package imports this module
#: before runpy would run it again as `__main__`).
_ENTRY = "import sys; from reference_server.relay import main; sys.exit(main())"


def _python_path() -> str:
    """The relay's PYTHONPATH: where this package is found first, whatever the directory."""
    here = str(Path(__file__).resolve().parent.parent)
    given = os.environ.get("PYTHONPATH")
    return os.pathsep.join([here, given]) if given else here


def lock_path(database: str) -> str:
    """The file whose lock a relay holds while it delivers from `database`."""
    return f"{database}-relay.lock"


@dataclass(frozen=True)
class RelayConfig:
    """What the relay needs: sent on its standard input as JSON (it holds the secret keys)."""

    database: str
    webhooks: Sequence[str]
    bots: Sequence[Bot]
    retry_base: float = DEFAULT_RETRY_BASE
    #: The spec file the server was given (None: this repository's): the relay makes the
    #: events' bodies from their facts (`reference_server.events.Recorder.expand`).
    spec: str | None = None

    def to_json(self) -> bytes:
        bots = [
            {"botId": bot.bot_id, "secretKey": bot.secret_key, "teams": sorted(bot.teams)}
            for bot in self.bots
        ]
        return json.dumps(
            {
                "database": self.database,
                "webhooks": list(self.webhooks),
                "bots": bots,
                "retryBase": self.retry_base,
                "spec": self.spec,
            }
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> RelayConfig:
        given = json.loads(data)
        bots = [
            Bot(bot["botId"], bot["secretKey"], frozenset(bot["teams"])) for bot in given["bots"]
        ]
        return cls(
            given["database"], given["webhooks"], bots, float(given["retryBase"]), given["spec"]
        )


class RelayProcess:
    """The server's side of the relay: starts it, wakes it, and stops it (the same calls as
    `Delivery`, whose place it takes in a server on a database file)."""

    def __init__(self, config: RelayConfig) -> None:
        self.config = config
        self._process: subprocess.Popen[bytes] | None = None
        self._pipe: int | None = None  # the write end of the relay's wake pipe
        self._started_at = -RESTART_AFTER
        self._check_at = 0.0  # when `wake` next checks that a busy relay still runs
        #: The flag the relay raises before it sleeps (see the module docstring).
        self._flag_file = tempfile.TemporaryFile()  # noqa: SIM115 - as long as the server
        self._flag_file.write(b"\0")
        self._flag_file.flush()
        self._flag = mmap.mmap(self._flag_file.fileno(), 1)

    def start(self) -> None:
        """Start the relay, unless it runs (called for every request: cheap when it does)."""
        if self._pipe is None and time.monotonic() - self._started_at >= RESTART_AFTER:
            self._spawn()

    def _spawn(self) -> None:
        self._started_at = time.monotonic()
        read_end, write_end = os.pipe()
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", _ENTRY, str(read_end), str(self._flag_file.fileno())],
                stdin=subprocess.PIPE,
                pass_fds=(read_end, self._flag_file.fileno()),
                env={**os.environ, "PYTHONPATH": _python_path()},
            )
        except BaseException:
            os.close(write_end)
            raise
        finally:
            os.close(read_end)
        assert process.stdin is not None
        # A relay that ended at once: the next wake finds its pipe broken and starts another.
        with contextlib.suppress(BrokenPipeError), process.stdin:
            process.stdin.write(self.config.to_json())
        os.set_blocking(write_end, False)
        self._process, self._pipe = process, write_end

    def wake(self) -> None:
        """New events may wait (after each change's commit)."""
        if self._pipe is None:
            self.start()
            return
        flag = self._flag
        if not flag[0]:  # the relay is busy: it looks at the table before it sleeps
            now = time.monotonic()
            if now >= self._check_at:  # unless it died busy
                self._check_at = now + RESTART_AFTER
                if self._process is not None and self._process.poll() is not None:
                    self._restart()
            return
        flag[0] = 0
        try:
            os.write(self._pipe, b"\0")
        except BlockingIOError:
            pass  # the relay has wakes enough waiting
        except BrokenPipeError:  # it died
            self._restart()

    def _restart(self) -> None:
        log.warning("the delivery of call events ended; it starts again")
        dead = self._close()
        if dead is not None:
            dead.poll()  # reaped: no zombie left behind
        self.start()

    def _close(self) -> subprocess.Popen[bytes] | None:
        process, pipe = self._process, self._pipe
        self._process = self._pipe = None
        if pipe is not None:
            os.close(pipe)  # the relay sees the end of its pipe, and ends
        return process

    def close(self) -> None:
        """Stop the relay and wait for it to end."""
        process = self._close()
        if process is None:
            return
        self._flag[0] = 0
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    async def stop(self) -> None:
        await asyncio.to_thread(self.close)


# -- the relay process ---------------------------------------------------------------------


def _hold_lock(path: str, pipe: int) -> IO[str] | None:
    """Take the lock of the file's relay, waiting while another relay holds it; None when the
    server ended meanwhile (its pipe closed)."""
    import fcntl  # POSIX only, as the relay is (a server elsewhere delivers on its own loop)

    lock = open(path, "a")  # noqa: SIM115 - held for the life of the process
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return lock
        except BlockingIOError:
            pass
        if _pipe_closed(pipe, 0.2):
            lock.close()
            return None


def _pipe_closed(pipe: int, timeout: float) -> bool:
    """Wait up to `timeout` for the pipe; whether it reached its end (wakes are dropped)."""
    readable, _, _ = select.select([pipe], [], [], timeout)
    return bool(readable) and os.read(pipe, 65_536) == b""


async def _serve(config: RelayConfig, pipe: int, flag: mmap.mmap) -> None:
    teams = {bot.bot_id: bot.teams for bot in config.bots}
    spec = read(config.spec) if config.spec is not None else None
    recorder = recorder_for(config.webhooks, teams, spec=spec)
    store = Store(config.database, recorder=recorder, follows_table=True)
    outbox = store.outbox
    assert outbox is not None
    ended = asyncio.Event()

    def before_sleep(webhook: str) -> bool:
        flag[0] = 1  # wake me: then look once more, for a change that came before the flag
        store.outbox_refresh(webhook)
        return outbox.next_due(webhook) == 0

    async def in_store(function: Any, *args: Any) -> Any:
        # Waits for the server's write lock (busy timeout): nothing else runs on this loop.
        return function(*args)

    delivery = Delivery(
        store,
        {bot.bot_id: bot for bot in config.bots},
        config.webhooks,
        in_store,
        retry_base=config.retry_base,
        coalesce=COALESCE,
        before_sleep=before_sleep,
    )

    def woken() -> None:
        if os.read(pipe, 65_536):
            delivery.wake()
        else:  # the server ended
            loop.remove_reader(pipe)
            ended.set()

    loop = asyncio.get_running_loop()
    loop.add_reader(pipe, woken)
    delivery.start()
    try:
        while not ended.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL):
                    await ended.wait()
            delivery.wake()
    finally:
        loop.remove_reader(pipe)
        await delivery.stop()
        store.close()


def main(argv: Iterable[str] | None = None) -> int:
    # Ctrl-C in a terminal reaches every process of the group: the server stops on it, and
    # the relay when the server is done with it (the pipe closes), not half-way through.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    args = list(sys.argv[1:] if argv is None else argv)
    pipe, flag = int(args[0]), mmap.mmap(int(args[1]), 1)
    config = RelayConfig.from_json(sys.stdin.buffer.read())
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    lock = _hold_lock(lock_path(config.database), pipe)
    if lock is None:
        return 0
    with lock:
        try:
            import uvloop

            uvloop.run(_serve(config, pipe, flag))
        except ImportError:  # pragma: no cover - uvloop is a dependency where it builds
            asyncio.run(_serve(config, pipe, flag))
    return 0
