"""The contract rules that a schema cannot express, as plain functions over plain data.

Each rule takes what was sent and what came back (decoded JSON, status codes, ids) and returns
`None` when the rule holds or a one-line reason when it is broken. `fuzzing.checks` wires them
into schemathesis; keeping them free of schemathesis objects keeps them small and easy to test.
The rules come from `docs/contract.md` and the descriptions of `openapi.yaml`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

#: `{method}` of every operation (the path after `/{teamId}/`) mapped to its response count field.
COUNT_FIELDS = {
    "call.user/invite": "invitedUsersCount",
    "call.user/exclude": "excludedUsersCount",
    "call/pause": "pausedUsersCount",
    "call/unpause": "unpausedUsersCount",
}

#: Operations that need an active call and nothing more.
NEEDS_ACTIVE_CALL = frozenset(
    {
        "call/end",
        "call.user/invite",
        "call.user/exclude",
        "call/pause",
        "call/unpause",
        "call.audio/play",
    }
)

ALL_METHODS = frozenset(
    {
        "call/start",
        *NEEDS_ACTIVE_CALL,
        "call.audio/stop",
        "call.recording/start",
        "call.recording/stop",
        "call.stream/start",
        "call.stream/stop",
    }
)


def decode_json(content: bytes) -> Any:
    """The decoded JSON body, or a `ValueError` naming why it is not JSON."""
    try:
        return json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"the body is not JSON ({exc.__class__.__name__}: {exc})") from None


def envelope_code(status: int, content: bytes) -> str | None:
    """Every answer is a JSON envelope whose integer `code` equals the HTTP status."""
    try:
        body = decode_json(content)
    except ValueError as exc:
        return f"HTTP {status}: {exc}, not an envelope"
    if not isinstance(body, dict) or "code" not in body:
        return f"HTTP {status}: the JSON body has no `code`, it is not an envelope"
    code = body["code"]
    if isinstance(code, bool) or not isinstance(code, int):
        return f"HTTP {status}: envelope `code` is {code!r}, not an integer"
    if code != status:
        return f"envelope `code` {code} differs from the HTTP status {status}"
    return None


def named_users(request: Any) -> int | None:
    """How many distinct users a users request names (`userId` wins over `userIds`), if valid."""
    if not isinstance(request, dict):
        return None
    if isinstance(request.get("userId"), str):
        return 1
    user_ids = request.get("userIds")
    if isinstance(user_ids, list) and user_ids and all(isinstance(u, str) for u in user_ids):
        return len(set(user_ids))
    return None


def count_within_named_users(method: str, request: Any, status: int, body: Any) -> str | None:
    """A count of a 200 answer is an integer between 0 and the number of users named."""
    count_field = COUNT_FIELDS.get(method)
    if count_field is None or status != 200:
        return None
    named = named_users(request)
    data = body.get("data") if isinstance(body, dict) else None
    if named is None or not isinstance(data, dict) or count_field not in data:
        return None  # the schema checks say what is missing; this rule judges the value
    count = data[count_field]
    if isinstance(count, bool) or not isinstance(count, int):
        return None  # a wrong type is a schema violation, reported by response_schema_conformance
    if count < 0 or count > named:
        return f"`{count_field}` is {count}, but the request named {named} user(s)"
    return None


def durations_consistent(method: str, status: int, body: Any) -> str | None:
    """`call/end` answers whole seconds with `0 <= dialogDuration <= callDuration`."""
    if method != "call/end" or status != 200 or not isinstance(body, dict):
        return None
    data = body.get("data")
    if not isinstance(data, dict):
        return None
    call, dialog = data.get("callDuration"), data.get("dialogDuration")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (call, dialog)):
        return None  # types are the schema's business
    if call < 0 or dialog < 0:
        return f"negative duration: callDuration={call}, dialogDuration={dialog}"
    if dialog > call:
        return f"dialogDuration {dialog} is longer than callDuration {call}"
    return None


def other_team(team_id: str) -> str:
    """A valid team id that differs from `team_id` (the next ObjectId, wrapping around)."""
    return format((int(team_id, 16) + 1) % 16**24, "024x")


def other_team_refused(status: int) -> str | None:
    """A valid token used on another team's path is answered 403."""
    if status != 403:
        return f"the token of another team was answered {status}, not 403"
    return None


@dataclass
class ThreadState:
    """What the answers seen so far prove about one thread; `None` is "not known"."""

    active: bool | None = None
    recording: bool | None = None
    streaming: bool | None = None
    audio: bool | None = None
    history: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return " -> ".join(self.history[-6:]) or "nothing"


class ThreadStates:
    """Tracks the state of each thread from the answers to a sequence of calls.

    Only answers prove anything: a 200 on `call/start` proves the thread now has an active call,
    with no audio, recording or stream; a 200 on `call/end` proves it has none. Until such an
    answer the state is unknown and no rule is applied, so a server that already had calls
    before the run starts is judged fairly. `observe` applies the rules of docs/contract.md's
    operation table to the answer, then records its effect.
    """

    def __init__(self) -> None:
        self._threads: dict[tuple[str, str], ThreadState] = {}

    def get(self, team_id: str, thread_id: str) -> ThreadState:
        return self._threads.setdefault((team_id, thread_id), ThreadState())

    def observe(self, team_id: str, thread_id: str, method: str, status: int) -> str | None:
        """Judge the answer `status` to `method` on a thread, then record what it proves."""
        if method not in ALL_METHODS or not (200 <= status < 300 or status == 409):
            return None
        status = (
            200 if status < 300 else status
        )  # any success counts as one (201 is judged elsewhere)
        state = self.get(team_id, thread_id)
        before = state.describe()
        reason = self._violation(state, method, status)
        state.history.append(f"{method} {status}")
        if reason is None:
            self._apply(state, method, status)
            return None
        # After a violation the server's state is no longer known: start over, so that one
        # fault is reported once and not again for every answer that follows it.
        state.active = state.recording = state.streaming = state.audio = None
        return f"{method} answered {status} but {reason} (thread {thread_id}: {before})"

    @staticmethod
    def _violation(state: ThreadState, method: str, status: int) -> str | None:
        if status == 200:
            if method == "call/start" and state.active is True:
                return "the thread already has an active call"
            if method in NEEDS_ACTIVE_CALL and state.active is False:
                return "the thread has no active call"
            if method in ("call.recording/start", "call.stream/start") and state.active is False:
                return "the thread has no active call"
            if method == "call.recording/start" and state.recording is True:
                return "the call is already being recorded"
            if method == "call.recording/stop" and state.recording is False:
                return "nothing is being recorded"
            if method == "call.stream/start" and state.streaming is True:
                return "the call is already streamed"
            if method == "call.stream/stop" and state.streaming is False:
                return "nothing is being streamed"
            if method == "call.audio/stop" and state.audio is False:
                return "no audio is playing"
            return None
        # 409: the state the operation needs is not met. Judged only where the answers seen
        # prove the opposite. Audio may end on its own, so a 409 on `call.audio/stop` is fine.
        if method == "call/start" and state.active is False:
            return "the thread has no active call, so a call can start"
        if method in NEEDS_ACTIVE_CALL and state.active is True:
            return "the thread has an active call"
        if method == "call.recording/start" and state.active is True and state.recording is False:
            return "the call is active and not recorded"
        if method == "call.recording/stop" and state.recording is True:
            return "the call is being recorded"
        if method == "call.stream/start" and state.active is True and state.streaming is False:
            return "the call is active and not streamed"
        if method == "call.stream/stop" and state.streaming is True:
            return "the call is being streamed"
        return None

    @staticmethod
    def _apply(state: ThreadState, method: str, status: int) -> None:
        if status == 409:
            if method == "call/start":
                state.active = True
            elif method in NEEDS_ACTIVE_CALL:
                state.active = state.recording = state.streaming = state.audio = False
            return
        if method in ("call/start", "call/end"):
            state.active = method == "call/start"
            state.recording = state.streaming = state.audio = False
            return
        state.active = True
        if method == "call.recording/start":
            state.recording = True
        elif method == "call.recording/stop":
            state.recording = False
        elif method == "call.stream/start":
            state.streaming = True
        elif method == "call.stream/stop":
            state.streaming = False
        elif method == "call.audio/play":
            state.audio = True
        elif method == "call.audio/stop":
            state.audio = False
