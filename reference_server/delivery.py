"""Delivering the outbox's call events to the webhooks, in the background of the server.

One task per webhook URL, on the server's event loop. A round takes from the outbox's copy in
memory (`reference_server.outbox.Outbox`, read from the table only at start-up, after a
failure or after another process's commit) the events that are due, at most the oldest
undelivered one of each thread, and POSTs them in one write over one kept-alive connection,
pipelined, each signed afresh as its bot (`X-Bot-Id`, `X-timestamp`, `X-Signature` over the
body as sent: a hash of the bot's id and key, computed once per bot, then per round the
timestamp, then per event its body). Then those the webhook took (a `2xx`) leave the copy,
the next of their thread due at once, and the others are put off, `retry_base * 2**attempts`
seconds (at most `retry_cap`); the table is told in one transaction per `FLUSH_ROWS` events
taken or `FLUSH_AFTER` seconds, or at once when one is put off (`Outbox.flush`): a
transaction per round would be a write lock per round, which the server's requests would
wait for when the delivery runs in a process of its own (`reference_server.relay`).
An event of a thread is sent only once the one before it was taken: per thread, in order.
A restart finds the outbox as the last commit left it, so an event whose change was answered
is delivered after a restart too; one that was taken but not yet deleted is delivered again
(at least once; the receiver drops it by its `eventId`).

The task sleeps until the server wakes it (`wake`, after each change) or the next put-off
event is due. A round after which events are already due again (they came while it waited
for the answers) waits `coalesce` seconds before the next, so that under load a round
carries many events (one write, one read of the answers, one transaction for all of them)
instead of a few; an event that comes to an idle task goes at once. Store calls go through
the application's `in_store`, as requests' do, so that a database locked by another process
never blocks the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from .auth import Bot
from .outbox import Outbox, Pending
from .store import Store
from .webhook_client import WebhookClient, shown_url

#: The first delay before an event not taken is sent again, and the longest (seconds).
DEFAULT_RETRY_BASE = 0.5
DEFAULT_RETRY_CAP = 60.0
#: How long a webhook may take to answer (the contract's 10 s).
DEFAULT_TIMEOUT = 10.0
#: Events sent in one round, in one write (pipelined).
BATCH = 128
#: The table is told of the events taken once this many wait, or this long after the first:
#: one transaction for many rounds (an event taken but not yet deleted when the process dies
#: is sent again after the restart: at least once).
FLUSH_ROWS = 1024
FLUSH_AFTER = 0.25
#: How long a round waits when events are already due after the one before (seconds).
DEFAULT_COALESCE = 0.005

InStore = Callable[..., Awaitable[Any]]


class Delivery:
    """The background delivery of the outbox to `webhooks` (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        bots: Mapping[str, Bot],
        webhooks: Sequence[str],
        in_store: InStore,
        *,
        clock: Callable[[], float] = time.time,
        retry_base: float = DEFAULT_RETRY_BASE,
        retry_cap: float = DEFAULT_RETRY_CAP,
        timeout: float = DEFAULT_TIMEOUT,
        coalesce: float = DEFAULT_COALESCE,
        before_sleep: Callable[[str], bool] | None = None,
    ) -> None:
        self.store = store
        self.bots = bots
        self.webhooks = list(dict.fromkeys(webhooks))
        self.in_store = in_store
        self.clock = clock
        self.retry_base = retry_base
        self.retry_cap = retry_cap
        self.timeout = timeout
        self.coalesce = coalesce
        #: Called with the webhook before its task sleeps until woken; True: events came
        #: meanwhile, do not sleep (`reference_server.relay`: the server is asked to wake it).
        self.before_sleep = before_sleep
        self.log = logging.getLogger("reference_server.delivery")
        #: Events taken by a webhook, and attempts that failed, since the start.
        self.taken = 0
        self.failed = 0
        self._wakes: list[asyncio.Event] = []
        self._tasks: list[asyncio.Task[None]] = []
        #: Whether the last round sent as many events as a round can.
        self._full = False
        #: Per webhook, when the first event taken since the last flush was taken.
        self._since: dict[str, float] = {}
        #: SHA-256 fed with each bot's id and key (by both: `bots` may be replaced).
        self._keyed: dict[tuple[str, str], Any] = {}

    def start(self) -> None:
        """Start a task per webhook on the running loop (once per loop: an application served
        again, on a new loop, starts them again there)."""
        # Called for each request: a loop still running is this one (no system call to ask).
        if self._tasks and self._tasks[0].get_loop().is_running():
            return
        self._tasks.clear()
        self._wakes.clear()
        for url in self.webhooks:
            wake = asyncio.Event()
            self._wakes.append(wake)
            self._tasks.append(asyncio.create_task(self._deliver_to(url, wake)))

    def wake(self) -> None:
        """New events may wait: look at once (call on the loop, after the change's commit)."""
        for wake in self._wakes:
            wake.set()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._tasks:  # what was taken is deleted (else it is sent again after a restart)
            for url in self.webhooks:
                with contextlib.suppress(Exception):
                    await self.in_store(self.store.outbox_flush, url)
        self._tasks.clear()
        self._wakes.clear()

    def delay(self, attempts: int) -> float:
        """How long to put off an event after its `attempts + 1`th failed attempt."""
        return float(min(self.retry_cap, self.retry_base * 2 ** min(attempts, 32)))

    async def _deliver_to(self, url: str, wake: asyncio.Event) -> None:
        client = WebhookClient(url, self.timeout)
        # Rows a round on another loop left in flight are read from the table again.
        self._outbox().stale(url)
        try:
            while True:
                wake.clear()
                try:
                    later = await self._round(client, url)
                except Exception as error:  # the store was busy or failed: try again soon
                    self.log.warning("webhook %s: %s", shown_url(url), error)
                    later = self.retry_base
                if later is not None and later <= 0:
                    # Due already: they came during the round; let more come meanwhile
                    # (not after a full round: a backlog waits for nothing).
                    if not self._full:
                        await asyncio.sleep(self.coalesce)
                    continue
                if self.before_sleep is not None and self.before_sleep(url):
                    continue  # events came as it was about to sleep
                # Not `asyncio.wait_for`: on Python 3.11 it loses a cancellation that comes as
                # the event is set, and `stop` would wait for this task for ever.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(later):
                        await wake.wait()
        finally:
            client.close()

    def _outbox(self) -> Outbox:
        outbox = self.store.outbox
        if outbox is None:
            raise RuntimeError("the store has no outbox")
        return outbox

    async def _round(self, client: WebhookClient, url: str) -> float | None:
        """Send what is due; answer how long until the next event is due (None: no event)."""
        outbox = self._outbox()
        if outbox.follows_table:  # the rows others wrote since the last round
            await self.in_store(self.store.outbox_refresh, url)
        due = outbox.take(url, self.clock(), BATCH)
        if due is None:  # read the table first
            await self.in_store(self.store.outbox_load, url)
            due = outbox.take(url, self.clock(), BATCH) or []
        self._full = len(due) >= BATCH
        if not due:
            return await self._flushed(url, outbox)
        try:
            return await self._send(client, url, outbox, due)
        except BaseException:
            outbox.stale(url)  # those in flight: read the table again
            raise

    async def _send(
        self, client: WebhookClient, url: str, outbox: Outbox, due: list[Pending]
    ) -> float | None:
        taken: list[Pending] = []
        retry: list[tuple[Pending, float]] = []
        sent: list[Pending] = []
        parts: list[bytes] = []
        stamp = int(self.clock())
        signing: dict[str, tuple[Any, bytes]] = {}
        for pending in due:
            signer = signing.get(pending.bot_id)
            if signer is None:
                signer = self._signing(client, pending.bot_id, stamp)
                if signer is None:  # cannot be signed: dropped
                    self.log.warning(
                        "webhook %s: event %d dropped: bot %s is not configured",
                        shown_url(url),
                        pending.seq,
                        pending.bot_id,
                    )
                    taken.append(pending)
                    continue
                signing[pending.bot_id] = signer
            stamped, head = signer
            digest = stamped.copy()
            body = pending.body
            digest.update(body)
            parts += (
                head,
                digest.hexdigest().encode(),
                b"\r\nContent-Length: %d\r\n\r\n" % len(body),
                body,
            )
            sent.append(pending)
        if sent:
            statuses = await client.send(b"".join(parts), len(sent))
            failed_at = self.clock()
            for pending, status in zip(sent, statuses, strict=True):
                if status is not None and 200 <= status < 300:
                    taken.append(pending)
                else:
                    retry.append((pending, failed_at + self.delay(pending.attempts)))
                    self._log_failure(url, pending, status, client.error)
        if not outbox.unsettled(url)[0]:
            self._since[url] = time.monotonic()
        outbox.settled(url, taken, retry)
        self.taken += len(taken)
        self.failed += len(retry)
        return await self._flushed(url, outbox)

    async def _flushed(self, url: str, outbox: Outbox) -> float | None:
        """Tell the table what the rounds since the last flush did, if it is time (events put
        off, `FLUSH_ROWS` taken, or `FLUSH_AFTER` since the first); answer how long until the
        next event is due, or the next flush (None: neither)."""
        taken, put_off = outbox.unsettled(url)
        if not (taken or put_off):
            return self._later(outbox, url)
        wait = FLUSH_AFTER - (time.monotonic() - self._since.get(url, 0.0))
        if put_off or taken >= FLUSH_ROWS or wait <= 0:
            await self.in_store(self.store.outbox_flush, url)
            return self._later(outbox, url)
        later = self._later(outbox, url)
        return wait if later is None else min(later, wait)

    def _later(self, outbox: Outbox, url: str) -> float | None:
        later = outbox.next_due(url)
        return None if later is None else max(0.0, later - self.clock())

    def _signing(self, client: WebhookClient, bot_id: str, stamp: int) -> tuple[Any, bytes] | None:
        """For the bot's events of a round: SHA-256 fed with its id, key and the timestamp
        (the signature's input before the body), and the request's bytes up to the
        signature's value; None for a bot not configured."""
        bot: Bot | None = self.bots.get(bot_id)
        if bot is None:
            return None
        keyed = self._keyed.get((bot.bot_id, bot.secret_key))
        if keyed is None:
            keyed = hashlib.sha256(f"{bot.bot_id}{bot.secret_key}".encode())
            self._keyed[(bot.bot_id, bot.secret_key)] = keyed
        stamped = keyed.copy()
        stamped.update(str(stamp).encode())
        head = b"%sX-Bot-Id: %s\r\nX-timestamp: %d\r\nX-Signature: " % (
            client.head,
            bot.bot_id.encode(),
            stamp,
        )
        return stamped, head

    def _log_failure(self, url: str, pending: Pending, status: int | None, error: str) -> None:
        reason = f"no answer ({error})" if status is None else f"answered {status}"
        self.log.warning(
            "webhook %s: event %d not taken, %s; attempt %d, again in %.1f s",
            shown_url(url),
            pending.seq,
            reason,
            pending.attempts + 1,
            self.delay(pending.attempts),
        )
