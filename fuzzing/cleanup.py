"""Nothing left ringing: the calls a run started are ended when it stops.

Against a real deployment a started call rings real phones. The `Ledger` follows every answer
of the run (whatever phase sent it): a call-starting operation not refused (a 2xx, a 5xx, or no
answer at all: it may have started) puts its thread on the ledger, a call-ending one answered
2xx takes it off. When the budget ends, or on SIGINT or SIGTERM, `end_calls` ends each call
still on the ledger (ending a call also stops its audio, recording and stream, per the
contract): 2xx ended, 409 (no active call) or 404 (no such thread) nothing to end, anything
else left running, with the reason. A second interrupt stops it at once; what was not tried
yet is listed as left, "stopped by a second interrupt".

Which operations start and end a call is the contract model's knowledge (`contract.rules`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from contract.rules import RULES, THREAD_FIELD, UNKNOWN_ID
from contract.signing import Bot

#: The operation that ends a call, and those that start one.
END = next(method for method, rule in RULES.items() if rule.ends_call)
STARTS = frozenset(method for method, rule in RULES.items() if rule.starts_call)
#: Answers to the ending request that leave nothing running: no active call, no such thread.
NOTHING_TO_END = frozenset({409, UNKNOWN_ID})
TIMEOUT_SECONDS = 10.0


class SecondInterrupt(BaseException):
    """A second SIGINT/SIGTERM while calls are being ended: stop at once."""


@dataclass
class Ledger:
    """The threads (by team) where a call the run started may still be active."""

    threads: dict[tuple[str, str], str] = field(default_factory=dict)  # -> how it started
    # Re-entrant: SIGINT raises KeyboardInterrupt in the main thread wherever it is, even between
    # taking this lock and the `with` block that releases it; the cleanup after it takes the
    # lock again in the same thread, which a plain lock would deadlock on.
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def note(self, team: str, method: str, body: Any, status: int | None) -> None:
        """One answer of the run (`status` None: no answer)."""
        thread = body.get(THREAD_FIELD) if isinstance(body, dict) else None
        if not isinstance(thread, str) or not isinstance(team, str):
            return
        with self._lock:
            if method in STARTS and (status is None or not 400 <= status < 500):
                self.threads[(team, thread)] = f"{method} answered {status or 'nothing'}"
            elif method == END and status is not None and 200 <= status < 300:
                self.threads.pop((team, thread), None)

    def note_request(self, path: str, body: bytes | None, status: int | None) -> None:
        """An answer to a request by its URL path (`.../{teamId}/{method}`) and body bytes."""
        parts = path.split("?", 1)[0].strip("/").split("/")
        if len(parts) < 3:
            return
        try:
            decoded = json.loads(body or b"")
        except (UnicodeDecodeError, ValueError):
            return
        # the path may have a prefix: the team is the segment before the `{method}`
        method = "/".join(parts[-2:])
        self.note(parts[-3], method, decoded, status)

    def open(self) -> list[tuple[str, str]]:
        with self._lock:
            return sorted(self.threads)


@dataclass
class Cleanup:
    """What ending the run's calls did."""

    ended: list[str] = field(default_factory=list)  # threads whose call was ended now
    idle: int = 0  # threads on the ledger with nothing to end (ended meanwhile, or 404)
    left: list[dict[str, str]] = field(default_factory=list)  # {team, thread, reason}
    interrupted: bool = False  # stopped by a second interrupt

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls_left_running": len(self.left),
            "ended": self.ended,
            "nothing_to_end": self.idle,
            "left": self.left,
            "interrupted": self.interrupted,
        }


#: Sends the ending request for (team, thread); returns its status, or raises OSError.
EndCall = Callable[[str, str], int]


def end_calls(ledger: Ledger, end_call: EndCall) -> Cleanup:
    """End every call on the ledger; a `SecondInterrupt` leaves the rest listed."""
    cleanup = Cleanup()
    pending = ledger.open()
    try:
        while pending:
            team, thread = pending[0]
            try:
                status = end_call(team, thread)
            except OSError as error:
                cleanup.left.append(
                    {"team": team, "thread": thread, "reason": f"no answer: {error}"}
                )
            else:
                if 200 <= status < 300:
                    cleanup.ended.append(thread)
                elif status in NOTHING_TO_END:
                    cleanup.idle += 1
                else:
                    cleanup.left.append(
                        {"team": team, "thread": thread, "reason": f"{END} answered {status}"}
                    )
            pending.pop(0)
    except SecondInterrupt:
        cleanup.interrupted = True
        cleanup.left += [
            {"team": team, "thread": thread, "reason": "stopped by a second interrupt"}
            for team, thread in pending
        ]
    return cleanup


def abandon(ledger: Ledger) -> Cleanup:
    """A second interrupt came before the calls could be ended: every one is left, listed."""
    return Cleanup(
        left=[
            {"team": team, "thread": thread, "reason": "stopped by a second interrupt"}
            for team, thread in ledger.open()
        ],
        interrupted=True,
    )


#: Told of each answer to an ending request: method, team, body, status, when it was sent.
Tell = Callable[[str, str, Any, int, float], None]


def http_end_call(url: str, bot: Bot, tell: Tell | None = None) -> EndCall:
    """An `EndCall` that posts the ending request to `url`, signed by `bot`, through the pace;
    `tell` hears of each answer (the judge of the call events expects their `call.ended`)."""
    import requests

    session = requests.Session()
    base = url.rstrip("/")

    def end(team: str, thread: str) -> int:
        body = json.dumps({THREAD_FIELD: thread}).encode()
        sent = time.time()
        try:
            answer = session.post(
                f"{base}/{team}/{END}",
                data=body,
                headers={**bot.headers(body), "Content-Type": "application/json"},
                timeout=TIMEOUT_SECONDS,
            )
        except requests.RequestException as error:
            raise OSError(str(error)) from None
        if tell is not None:
            tell(END, team, {THREAD_FIELD: thread}, int(answer.status_code), sent)
        return int(answer.status_code)

    return end
