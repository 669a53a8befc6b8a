"""The rules behind the fuzzer's own checks that a schema cannot express, as plain functions.

Each rule takes what was sent and what came back (decoded JSON, status codes, ids) and returns
`None` when the rule holds or a one-line reason when it is broken. `fuzzing.checks` wires them
into schemathesis; keeping them free of schemathesis objects keeps them small and easy to test.
The rules of state, counts and durations are the contract model's (`contract.model`).
"""

from __future__ import annotations

import json
from typing import Any


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


def other_team(team_id: str) -> str:
    """A valid team id that differs from `team_id` (the next ObjectId, wrapping around)."""
    return format((int(team_id, 16) + 1) % 16**24, "024x")


def other_team_refused(status: int) -> str | None:
    """A request signed by a bot, sent to the path of a team the bot is not in, answers 403."""
    if status != 403:
        return f"a bot's signed request on another team's path was answered {status}, not 403"
    return None
