"""Bot signatures (contract 2.0.0): which bots the server knows, and checking a request's.

A request is signed by a bot with three headers: `X-Bot-Id`, `X-timestamp` (Unix seconds) and
`X-Signature`, the lowercase hex SHA-256 of `botId + secretkey + timestamp + body` over the
body exactly as received. This module is the server's own implementation of that rule.

Checking comes in two steps, because the signature covers the body: `identify` looks at the
headers alone (all three present, a known bot, a timestamp within `max_skew` seconds of the
server's clock), then, once the body is read, `verify` compares the signature in constant time.
Every refusal is `Unauthorized` with a message that names the cause and never the secret key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from contract.spec import load

#: Not in the source document: how far a timestamp may be from the server's clock (the
#: timestamp scheme's `x-max-skew-seconds`).
MAX_SKEW_SECONDS = load().skew_window()

_BOT_ID = b"x-bot-id"
_TIMESTAMP = b"x-timestamp"
_SIGNATURE = b"x-signature"
_SHOWN = {_BOT_ID: "X-Bot-Id", _TIMESTAMP: "X-timestamp", _SIGNATURE: "X-Signature"}
#: Whole Unix seconds as decimal digits: no sign, no leading zero, no fraction (nor 0).
_TIMESTAMP_TEXT = re.compile(rb"[1-9][0-9]{0,11}")
_SIGNATURE_TEXT = re.compile(rb"[0-9a-f]{64}")


class Unauthorized(Exception):
    """The request is not signed by a known bot (HTTP 401); the message names why."""


@dataclass(frozen=True)
class Bot:
    """A bot the server knows: its id, its secret key (never shown) and its teams."""

    bot_id: str
    secret_key: str = field(repr=False)
    teams: frozenset[str]

    def describe(self) -> str:
        """The bot for a log line: its id and teams, not its secret key."""
        return f"bot {self.bot_id} in team {', '.join(sorted(self.teams))}"


@dataclass(frozen=True)
class Signed:
    """The headers of a request whose bot is known; `verify` checks them against its body."""

    bot: Bot
    timestamp: bytes
    signature: bytes


def parse_bot(text: str) -> Bot:
    """`BOT_ID=SECRET:TEAM[,TEAM...]` as a `Bot`; ValueError names what is wrong.

    Bot and team ids are ids of the spec (`contract.spec`'s pattern). A message never quotes
    what failed to parse: in a mistyped value, the text in an id's place may be the secret.
    """
    object_id = re.compile(load().id_pattern)
    bot_id, equals, rest = text.partition("=")
    secret, colon, teams_text = rest.rpartition(":")
    if not equals or not colon:
        raise ValueError("a bot is given as BOT_ID=SECRET:TEAM[,TEAM]")
    bot_id = bot_id.strip()
    if not object_id.fullmatch(bot_id):
        raise ValueError(f"the bot id is not an id ({object_id.pattern})")
    if not secret or not secret.isprintable():
        raise ValueError(f"the secret key of bot {bot_id} is empty or not printable")
    teams = frozenset(team.strip() for team in teams_text.split(","))
    for number, team in enumerate(sorted(teams), 1):
        if not object_id.fullmatch(team):
            raise ValueError(f"team {number} of bot {bot_id} is not an id ({object_id.pattern})")
    return Bot(bot_id, secret, teams)


class Bots:
    """The bots the server accepts (by id), checking signatures against `clock`."""

    def __init__(
        self,
        bots: Iterable[Bot],
        *,
        clock: Callable[[], float] = time.time,
        max_skew: int = MAX_SKEW_SECONDS,
    ) -> None:
        self.by_id: dict[bytes, Bot] = {}
        for bot in bots:
            if bot.bot_id.encode() in self.by_id:
                raise ValueError(f"bot {bot.bot_id} is given twice")
            self.by_id[bot.bot_id.encode()] = bot
        if not self.by_id:
            raise ValueError("at least one bot is needed")
        self.clock = clock
        self.max_skew = max_skew

    @classmethod
    def parse(cls, texts: Sequence[str], *, clock: Callable[[], float] = time.time) -> Bots:
        """Bots from `BOT_ID=SECRET:TEAM[,TEAM]` texts (see `parse_bot`)."""
        return cls([parse_bot(text) for text in texts], clock=clock)

    def __iter__(self) -> Iterator[Bot]:
        return iter(self.by_id.values())

    def identify(self, headers: Mapping[bytes, bytes]) -> Signed:
        """The known bot of a request, from its headers alone; `Unauthorized` otherwise."""
        for name, shown in _SHOWN.items():
            if not headers.get(name):
                raise Unauthorized(f"Not authorized: the {shown} header is missing")
        bot = self.by_id.get(headers[_BOT_ID].strip())
        if bot is None:
            raise Unauthorized("Not authorized: unknown bot")
        stamp = headers[_TIMESTAMP].strip()
        if not _TIMESTAMP_TEXT.fullmatch(stamp):
            raise Unauthorized("Not authorized: X-timestamp is not whole Unix seconds")
        if abs(int(stamp) - self.clock()) > self.max_skew:
            raise Unauthorized(
                f"Not authorized: X-timestamp is more than {self.max_skew} s "
                "from the server's clock"
            )
        return Signed(bot, stamp, headers[_SIGNATURE].strip())

    @staticmethod
    def verify(signed: Signed, body: bytes) -> Bot:
        """The bot, when the signature covers this body; `Unauthorized` otherwise."""
        bot = signed.bot
        digest = hashlib.sha256()
        digest.update(bot.bot_id.encode() + bot.secret_key.encode() + signed.timestamp)
        digest.update(body)
        expected = digest.hexdigest().encode()
        given = signed.signature if _SIGNATURE_TEXT.fullmatch(signed.signature) else b""
        if not hmac.compare_digest(expected, given):
            raise Unauthorized("Not authorized: the signature does not match the request")
        return bot
