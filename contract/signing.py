"""Signing a request as Workonflow's bot API asks (contract 2.0.0), for the fuzzer and tests.

Every request carries `X-Bot-Id`, `X-timestamp` (Unix seconds) and `X-Signature`, the
lowercase hex SHA-256 of `botId + secretkey + timestamp + body`, `body` being the exact bytes
sent. The secret key is only ever an input here: it is never put in a header or a message.
The reference server verifies signatures with its own code (`reference_server.auth`), and the
generated client signs with its own (`workonflow_call.BotSignature`): three independent
implementations of one rule, so that a mistake in one shows up against the others.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

from contract.spec import load

BOT_ID_HEADER = "X-Bot-Id"
TIMESTAMP_HEADER = "X-timestamp"
SIGNATURE_HEADER = "X-Signature"
HEADERS = (BOT_ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER)
#: How far a timestamp may be from the server's clock (not in the source document), as the
#: timestamp's security scheme states it (`x-max-skew-seconds`).
MAX_SKEW_SECONDS = load().skew_window()


def signature(bot_id: str, secret_key: str, timestamp: str, body: bytes) -> str:
    """The `X-Signature` of a request: hex SHA-256 of botId + secretkey + timestamp + body."""
    digest = hashlib.sha256()
    digest.update(f"{bot_id}{secret_key}{timestamp}".encode())
    digest.update(body)
    return digest.hexdigest()


@dataclass(frozen=True)
class Bot:
    """A bot's credentials. `repr` never shows the secret key."""

    bot_id: str
    secret_key: str = field(repr=False)

    def headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        """The three signature headers for `body`, signed now (or at `timestamp`)."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        return {
            BOT_ID_HEADER: self.bot_id,
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: signature(self.bot_id, self.secret_key, stamp, body),
        }
