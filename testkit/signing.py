"""Signed requests for the tests: an `httpx.Auth` that signs as a bot, and raw header dicts.

    client = httpx.Client(base_url=url, auth=BotAuth())          # the demo bot, signed now
    client = httpx.Client(base_url=url, auth=BotAuth(OTHER_BOT, clock=clock))
    headers = signed_headers(body, timestamp=clock() - 299)      # for a request built by hand

Both sign with `contract.signing` (the signer of the tools), never with the server's own code,
so that a test compares two implementations of the rule. `clock` is the wall clock the
timestamp comes from: the tests that move the server's clock by hand sign with the same one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator

import httpx

from contract import demo
from contract.signing import Bot

#: The demo bot (installed in `demo.TEAM` by default on the reference server).
DEMO_BOT = Bot(demo.BOT_ID, demo.SECRET_KEY)
#: A second bot, for tests that install it in `demo.OTHER_TEAM` (a sandbox secret too).
OTHER_BOT = Bot("5c0e5996e43fb4001acfb07e", "other-secret")

Clock = Callable[[], float]


def signed_headers(
    body: bytes,
    bot: Bot = DEMO_BOT,
    *,
    timestamp: float | None = None,
    clock: Clock = time.time,
) -> dict[str, str]:
    """The three signature headers of `body` as `bot` signs it, at `timestamp` or now."""
    return bot.headers(body, int(clock() if timestamp is None else timestamp))


class BotAuth(httpx.Auth):
    """Signs every request's body (exactly as sent) as `bot`, at the time of `clock`.

    `skew` (seconds) moves the timestamp away from the clock, for tests of stale and future
    signatures.
    """

    requires_request_body = True

    def __init__(self, bot: Bot = DEMO_BOT, *, clock: Clock = time.time, skew: int = 0) -> None:
        self.bot = bot
        self.clock = clock
        self.skew = skew

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.update(
            signed_headers(request.content, self.bot, timestamp=self.clock() + self.skew)
        )
        yield request

    def __repr__(self) -> str:
        return f"BotAuth({self.bot!r}, skew={self.skew})"
