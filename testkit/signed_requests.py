"""Signed requests for the tests: the demo bot's headers for a body, and an `httpx.Auth`.

Both sign with `contract.signing` (the tools' signer), never with the server's own code, so a
mistake in either shows up against the other.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator

import httpx

from contract import demo
from contract.signing import Bot

#: The sandbox's demo bot, installed in the demo team.
DEMO_BOT = Bot(demo.BOT_ID, demo.SECRET_KEY)


def signed(
    body: bytes, bot: Bot = DEMO_BOT, *, timestamp: int | None = None, json: bool = True
) -> dict[str, str]:
    """The headers of a request with `body` signed by `bot` (now, or at `timestamp`)."""
    headers = bot.headers(body, timestamp)
    if json:
        headers["Content-Type"] = "application/json"
    return headers


class BotAuth(httpx.Auth):
    """Signs each httpx request over the exact bytes it sends, at the time it is sent."""

    def __init__(self, bot: Bot = DEMO_BOT, clock: Callable[[], float] = time.time) -> None:
        self.bot = bot
        self.clock = clock  # a test server with a clock of its own is signed for at its time

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.update(self.bot.headers(request.content, int(self.clock())))
        yield request
