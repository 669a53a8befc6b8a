"""What only the platform causes, asked of the sandbox: a key pressed, users hanging up.

No request of the contract causes `call.dtmf`, nor a user leaving on their own
(`contract.rules.PLATFORM`); the reference server takes sandbox-only control requests for them
(`POST /_sandbox/{teamId}/dtmf`, `/hangup`, outside the contract). When the events are judged,
the walk ends with them on each of its threads (a call started where none is): a key pressed,
then every user of the walk hangs up, and the events they cause are expected as any answer's.
A server that does not have them (any answer but 200 to the first) is not asked again.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import requests

from contract.expected_events import possibly_counted
from contract.rules import PLATFORM
from fuzzing import events

if TYPE_CHECKING:
    from fuzzing.oracle import Judge
    from fuzzing.results import Options

#: The path of a control request, after the server's base URL.
CONTROL_PATH = "/_sandbox/{team}/{name}"
KEY = "5"
TIMEOUT_SECONDS = 10.0


def run(
    options: Options,
    judge: Judge,
    session: requests.Session,
    threads: tuple[str, ...],
    users: tuple[str, ...],
) -> int:
    """Press a key and hang up every user on each thread with an active call; how many
    control requests were answered 200."""
    ledger = events.current()
    if ledger is None:
        return 0
    answered = 0
    for thread in threads:
        known = judge.model.thread(options.team, thread)
        if known.known("active") is not True and not _start(options, judge, session, thread):
            continue
        for name, body in (
            ("dtmf", {"threadId": thread, "dtmfNumber": KEY}),
            ("hangup", {"threadId": thread, "userIds": list(users)}),
        ):
            before = possibly_counted(known.user, PLATFORM[name], body)
            sent = time.time()
            path = CONTROL_PATH.format(team=options.team, name=name)
            status, answer = _send(options, session, path, body)
            data = answer.get("data") if isinstance(answer, dict) else None
            ledger.answered(
                name,
                options.team,
                body,
                status,
                data,
                sent=sent,
                received=time.time(),
                before=before if status == 200 else None,
                phase="walk",
            )
            if status != 200:
                judge.forget(thread)
                return answered  # the server has no such control request
            answered += 1
        judge.forget(thread)  # users left the call: the model learns the thread anew
    return answered


def _start(options: Options, judge: Judge, session: requests.Session, thread: str) -> bool:
    """Start a call on the thread, judged as the walk's requests are; whether one is active."""
    body = {"threadId": thread}
    sent = time.time()
    status, answer = _send(options, session, f"/{options.team}/call/start", body)
    if status is not None:
        judge.observe(
            "call/start",
            options.team,
            signed=True,
            content_type="application/json",
            body=body,
            status=status,
            answer=answer,
            sent=sent,
            received=time.time(),
            phase="walk",
        )
    return judge.model.thread(options.team, thread).known("active") is True


def _send(
    options: Options, session: requests.Session, path: str, body: dict[str, Any]
) -> tuple[int | None, Any]:
    """POST `body`, signed, to the server's `path`: the status and the answer's JSON."""
    data = json.dumps(body).encode()
    url = options.url.rstrip("/") + path
    try:
        answer = session.post(
            url, data=data, headers=options.bot.headers(data), timeout=TIMEOUT_SECONDS
        )
    except requests.RequestException:
        return None, None
    try:
        return answer.status_code, answer.json()
    except ValueError:
        return answer.status_code, None
