"""Request bodies that the contract calls valid are accepted by the schema, the others refused."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from contract import demo
from contract.spec import load
from testkit.spec import SpecSchemas

THREAD = demo.THREADS[0]
USER, OTHER = demo.USERS[:2]
#: The operations whose body names users, and those whose body names only the thread.
USER_METHODS = [op.method for op in load() if op.request_schema == "UsersRequest"]
THREAD_METHODS = [op.method for op in load() if op.request_schema == "ThreadRequest"]

VALID = [
    ("call/start", {"threadId": THREAD}),
    ("call/start", {"threadId": THREAD, "direction": "incoming"}),
    ("call/start", {"threadId": THREAD, "direction": "outgoing"}),
    *[(m, {"threadId": THREAD}) for m in THREAD_METHODS],
    *[(m, {"threadId": THREAD, "userId": USER}) for m in USER_METHODS],
    *[(m, {"threadId": THREAD, "userIds": [USER, OTHER]}) for m in USER_METHODS],
    # Both given: valid, userIds is ignored (the source says so).
    *[(m, {"threadId": THREAD, "userId": USER, "userIds": [OTHER]}) for m in USER_METHODS],
    ("call.user/invite", {"threadId": THREAD, "userIds": [USER] * 1}),
    ("call.audio/play", {"threadId": THREAD, "fileUrl": "https://url.to.your/audiofile.mp3"}),
    ("call.audio/play", {"threadId": THREAD, "fileUrl": "http://example.org/a/b/Greeting.WAV"}),
    ("call.audio/play", {"threadId": THREAD, "fileUrl": "https://cdn.example.org:8443/x.Mp3?v=2"}),
]

INVALID = [
    ("call/start", {}, "no threadId"),
    ("call/start", {"threadId": THREAD, "direction": "sideways"}, "unknown direction"),
    ("call/start", {"threadId": THREAD, "extra": 1}, "an extra field"),
    ("call/end", {"threadId": "5B0525134C0319001573485E"}, "upper-case id"),
    ("call/end", {"threadId": THREAD[:-1]}, "23-character id"),
    ("call/end", {"threadId": THREAD + "0"}, "25-character id"),
    ("call/end", {"threadId": "zz0525134c0319001573485e"}, "non-hex id"),
    ("call/end", {"threadId": 5}, "id of the wrong type"),
    ("call/end", {"threadid": THREAD}, "misspelt field"),
    ("call/end", [], "not an object"),
    *[(m, {"threadId": THREAD}, "neither userId nor userIds") for m in USER_METHODS],
    *[(m, {"threadId": THREAD, "userIds": []}, "empty userIds") for m in USER_METHODS],
    ("call/pause", {"threadId": THREAD, "userIds": [USER, USER]}, "a user twice"),
    ("call/pause", {"threadId": THREAD, "userIds": [USER] * 101}, "more than 100 users"),
    ("call/pause", {"threadId": THREAD, "userIds": ["nope"]}, "a bad id in userIds"),
    ("call/pause", {"threadId": THREAD, "userId": USER, "userIds": []}, "both, userIds empty"),
    ("call/pause", {"threadId": THREAD, "userId": USER, "extra": True}, "an extra field"),
    ("call.audio/play", {"threadId": THREAD}, "no fileUrl"),
    ("call.audio/play", {"threadId": THREAD, "fileUrl": "https://x.org/a.txt"}, "a .txt file"),
    ("call.audio/play", {"threadId": THREAD, "fileUrl": "ftp://x.org/a.mp3"}, "not http(s)"),
    ("call.audio/play", {"threadId": THREAD, "fileUrl": "https://x.org/mp3"}, "no extension"),
    ("call.audio/play", {"threadId": THREAD, "fileUrl": "https://x.org/a.mp3.exe"}, "ends in .exe"),
    ("call.audio/play", {"threadId": THREAD, "fileUrl": "https://x.org/a.mp3 b"}, "a space"),
    (
        "call.audio/play",
        {"threadId": THREAD, "fileUrl": "https://x.org/" + "a" * 2040 + ".mp3"},
        "over 2048 characters",
    ),
]


@pytest.mark.parametrize(
    ("method", "body"), VALID, ids=[f"{m}-{i}" for i, (m, _) in enumerate(VALID)]
)
def test_valid_body_is_accepted(schemas: SpecSchemas, method: str, body: object) -> None:
    errors = [e.message for e in schemas.request_schema(f"/{{teamId}}/{method}").iter_errors(body)]
    assert not errors


@pytest.mark.parametrize(
    ("method", "body", "why"), INVALID, ids=[f"{m}-{w}" for m, _, w in INVALID]
)
def test_invalid_body_is_refused(schemas: SpecSchemas, method: str, body: object, why: str) -> None:
    assert not schemas.request_schema(f"/{{teamId}}/{method}").is_valid(body), why


@pytest.mark.parametrize("value", [demo.TEAM, "000000000000000000000000"])
def test_team_id_parameter_takes_object_ids(schemas: SpecSchemas, value: str) -> None:
    assert schemas.validator("/components/parameters/TeamId/schema").is_valid(value)


@pytest.mark.parametrize("value", ["", demo.TEAM[:6], demo.TEAM.upper(), "../../etc/passwd"])
def test_team_id_parameter_refuses_other_strings(schemas: SpecSchemas, value: str) -> None:
    assert not schemas.validator("/components/parameters/TeamId/schema").is_valid(value)


#: The branches of `UsersRequest`, in its `oneOf` order.
USERS_BRANCHES = ("SingleUserRequest", "UserListRequest")


def without_additional_properties(spec: dict[str, Any]) -> SpecSchemas:
    """The spec as a generator that ignores `additionalProperties: false` reads it (openapi-
    generator's python client, pydantic unions): the users branches without that keyword."""
    document = copy.deepcopy(spec)
    for name in USERS_BRANCHES:
        document["components"]["schemas"][name].pop("additionalProperties", None)
    return SpecSchemas(document)


@pytest.mark.parametrize(
    ("body", "matches"),
    [
        # Both given: the contract reads it as one user (userIds ignored), so only that branch.
        ({"threadId": THREAD, "userId": USER, "userIds": [OTHER]}, ["SingleUserRequest"]),
        ({"threadId": THREAD, "userId": USER}, ["SingleUserRequest"]),
        ({"threadId": THREAD, "userIds": [USER, OTHER]}, ["UserListRequest"]),
        ({"threadId": THREAD}, []),
    ],
    ids=["both", "userId", "userIds", "neither"],
)
def test_users_branches_exclude_each_other_without_additional_properties(
    spec: dict[str, Any], body: dict[str, Any], matches: list[str]
) -> None:
    loose = without_additional_properties(spec)
    matched = [
        name
        for name in USERS_BRANCHES
        if loose.validator(f"/components/schemas/{name}").is_valid(body)
    ]
    assert matched == matches
    # ... and the oneOf itself agrees: valid exactly when one branch matches.
    users = loose.validator("/components/schemas/UsersRequest")
    assert users.is_valid(body) == (len(matches) == 1)
