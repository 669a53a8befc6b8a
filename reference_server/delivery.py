"""Delivering the outbox's call events to the webhooks, in the background of the server.

One task per webhook URL, on the server's event loop: it reads the events that are due
(`Store.outbox_due`: at most the oldest undelivered one of each thread), POSTs them over one
kept-alive connection, pipelined up to `PIPELINE` at a time, each signed afresh as its bot
(`X-Bot-Id`, `X-timestamp`, `X-Signature` over the body as sent), then in one transaction
deletes those the webhook took (a `2xx`) and puts off the others, `retry_base * 2**attempts`
seconds (at most `retry_cap`).
An event of a thread is sent only once the one before it was taken: per thread, in order.
A restart finds the outbox as the last commit left it, so an event whose change was answered
is delivered after a restart too; one that was taken but not yet deleted is delivered again
(at least once; the receiver drops it by its `eventId`).

The task sleeps until the server wakes it (`wake`, after each change) or the next put-off
event is due. Store calls go through the application's `in_store`, as requests' do, so
that a database locked by another process never blocks the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from contract.signing import Bot as Signer

from .auth import Bot
from .outbox import Pending
from .store import Store
from .webhook_client import Message, WebhookClient, shown_url

#: The first delay before an event not taken is sent again, and the longest (seconds).
DEFAULT_RETRY_BASE = 0.5
DEFAULT_RETRY_CAP = 60.0
#: How long a webhook may take to answer (the contract's 10 s).
DEFAULT_TIMEOUT = 10.0
#: Events read from the outbox at a time, and sent in one write (pipelined).
BATCH = 256
PIPELINE = 32

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
    ) -> None:
        self.store = store
        self.bots = bots
        self.webhooks = list(dict.fromkeys(webhooks))
        self.in_store = in_store
        self.clock = clock
        self.retry_base = retry_base
        self.retry_cap = retry_cap
        self.timeout = timeout
        self.log = logging.getLogger("reference_server.delivery")
        #: Events taken by a webhook, and attempts that failed, since the start.
        self.taken = 0
        self.failed = 0
        self._wakes: list[asyncio.Event] = []
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start a task per webhook on the running loop (once per loop: an application served
        again, on a new loop, starts them again there)."""
        if self._tasks and self._tasks[0].get_loop() is asyncio.get_running_loop():
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
        self._tasks.clear()
        self._wakes.clear()

    def delay(self, attempts: int) -> float:
        """How long to put off an event after its `attempts + 1`th failed attempt."""
        return float(min(self.retry_cap, self.retry_base * 2 ** min(attempts, 32)))

    async def _deliver_to(self, url: str, wake: asyncio.Event) -> None:
        client = WebhookClient(url, self.timeout)
        try:
            while True:
                wake.clear()
                try:
                    later = await self._round(client, url)
                except Exception as error:  # the store was busy or failed: try again soon
                    self.log.warning("webhook %s: %s", shown_url(url), error)
                    later = self.retry_base
                if later is not None and later <= 0:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), later)
        finally:
            client.close()

    async def _round(self, client: WebhookClient, url: str) -> float | None:
        """Send what is due; answer how long until the next event is due (None: no event)."""
        due: list[Pending] = await self.in_store(self.store.outbox_due, url, self.clock(), BATCH)
        if not due:
            later: float | None = await self.in_store(self.store.outbox_next_due, url)
            return None if later is None else max(0.0, later - self.clock())
        taken = [pending for pending in due if pending.bot_id not in self.bots]
        for pending in taken:  # cannot be signed: dropped
            self.log.warning(
                "webhook %s: event %d dropped: bot %s is not configured",
                shown_url(url),
                pending.seq,
                pending.bot_id,
            )
        due = [pending for pending in due if pending.bot_id in self.bots]
        retry: list[tuple[Pending, float]] = []
        for start in range(0, len(due), PIPELINE):
            batch = due[start : start + PIPELINE]
            statuses = await client.post_all([self._message(pending) for pending in batch])
            for pending, status in zip(batch, statuses, strict=True):
                if status is not None and 200 <= status < 300:
                    taken.append(pending)
                else:
                    retry.append((pending, self.clock() + self.delay(pending.attempts)))
                    self._log_failure(url, pending, status, client.error)
        await self.in_store(self.store.outbox_settle, url, taken, retry)
        self.taken += len(taken)
        self.failed += len(retry)
        return 0.0

    def _message(self, pending: Pending) -> Message:
        """The event's body and its signature headers, signed now as its bot."""
        bot = self.bots[pending.bot_id]
        signer = Signer(bot.bot_id, bot.secret_key)
        headers = signer.headers(pending.body, timestamp=int(self.clock()))
        return pending.body, list(headers.items())

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
