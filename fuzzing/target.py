"""The server under test: the first contact check (the embedded reference server is
`fuzzing.embedded`'s, imported only by a run that starts it)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from contract import demo
from fuzzing.request_signing import Bot

#: The demo team of the sandbox (`contract.demo`), the default of `python -m fuzzing`; the demo
#: bot is `fuzzing.request_signing.credentials()`'s default.
DEMO_TEAM = demo.TEAM
#: A thread id nothing else uses: the first contact asks to stop a stream that never started.
PROBE_THREAD = "0000000000000000000000f5"


class TargetError(Exception):
    """The target cannot be used; the message is one line for a person to read."""


def first_contact(url: str, team: str, bot: Bot, timeout: float = 10.0) -> int:
    """Send one harmless signed request; return its status or raise `TargetError`.

    The request stops a stream in a thread that has none: a server that keeps the contract
    answers 409 and changes nothing. No answer at all, or a refused signature (401) or team
    (403), means a run would test nothing, so each raises with a message that names the cause.
    """
    body = json.dumps({"threadId": PROBE_THREAD}).encode()
    request = urllib.request.Request(
        f"{url.rstrip('/')}/{team}/call.stream/stop",
        data=body,
        headers={**bot.headers(body), "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            status = int(answer.status)
    except urllib.error.HTTPError as error:
        status = error.code
    except urllib.error.URLError as error:
        raise TargetError(f"cannot reach {url}: {error.reason}") from None
    except (OSError, ValueError) as error:
        raise TargetError(f"cannot reach {url}: {error}") from None
    if status == 401:
        raise TargetError(
            f"{url}: the server refused the bot's signature (401): check --bot-id/--secret-key "
            f"(bot {bot.bot_id})"
        )
    if status == 403:
        raise TargetError(
            f"{url}: bot {bot.bot_id} is not installed in team {team} (403): check --team"
        )
    return status
