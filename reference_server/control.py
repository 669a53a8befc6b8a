"""The sandbox's control requests: what only the platform causes, on request. Not part of the
contract (a server of the contract has no such paths).

    POST /_sandbox/{teamId}/hangup  {"threadId", "userId" | "userIds"}
        users of the call hang up: each leaves it (call.user.kicked per user who was in it);
        answers {"code": 200, "message": "OK", "data": {"hungUpUsersCount": N}}
    POST /_sandbox/{teamId}/dtmf    {"threadId", "dtmfNumber"}
        a user of the call presses a key (call.dtmf); answers {"code": 200, "message": "OK"}

Both are signed as the contract's requests are, refused as they are (401, 403, 400, 415), and
answer 409 without an active call. Their rules are `contract.rules.PLATFORM`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contract.spec import load

from . import validation
from .results import UsersChanged
from .store import Store

#: The paths of the control requests start with this (after it: `{teamId}/{name}`).
PREFIX = b"/_sandbox/"


def _key_pattern() -> re.Pattern[str]:
    schema = load().schema(load().events["call.dtmf"].schema)
    return re.compile(str(schema["properties"]["dtmfNumber"]["pattern"]))


_KEY = _key_pattern()


def _hangup(store: Store, team_id: str, data: dict[str, Any]) -> dict[str, int]:
    valid = validation.users_request(data)
    changed: UsersChanged = store.hangup(team_id, valid["threadId"], valid["userIds"])
    return {"hungUpUsersCount": changed.count}


def _dtmf(store: Store, team_id: str, data: dict[str, Any]) -> None:
    body = dict(data)
    key = body.pop("dtmfNumber", None)
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise validation.InvalidBody(
            "Invalid request body",
            [{"field": "dtmfNumber", "message": f"must match {_KEY.pattern}"}],
        )
    valid = validation.thread_request(body)
    store.dtmf(team_id, valid["threadId"], key)


@dataclass(frozen=True)
class Control:
    """One control request: validates its body and acts on the store (on the store's turn)."""

    name: str
    act: Callable[[Store, str, dict[str, Any]], dict[str, int] | None]


CONTROLS: dict[str, Control] = {
    control.name: control for control in (Control("hangup", _hangup), Control("dtmf", _dtmf))
}
