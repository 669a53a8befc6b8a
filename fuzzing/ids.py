"""Ids that exist on the target: every request of a run with `--fixtures` names them.

A real deployment answers a thread or user it has never heard of with 404 (contract 2.4.0);
random ids would make most answers 404 and hide a real fault among them. With fixtures, every
request a phase makes (the boundary cases, the walk, schemathesis's cases) has its ids put in
the fixtures' place before it is sent (`IdPlacer.place`), in a way that changes nothing else
about it:

- a thread id becomes a thread of the fixtures, always the same one for the same id (so the
  threads of a stateful sequence stay one thread);
- the user ids of one body become distinct users of the fixtures, equal ids staying equal (a
  list with a user twice keeps its repeat, a list of distinct users stays distinct); only when
  a body names more distinct users than the fixtures have do the others stay as they are;
- what is not a well-formed id (a malformed value, a number, null) is left alone, so a body
  outside its schema stays outside it.

Ids outside the fixtures are then only in the cases meant to get the unknown-id answer (the
boundary phase's, see `fuzzing.boundaries`) and in bodies with more users than the fixtures;
the contract model allows 404 for those and for no other.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

from contract.fixtures import Fixtures
from contract.rules import THREAD_FIELD, USER_FIELD, USERS_FIELD
from contract.spec import load


def _stable(text: str) -> int:
    return zlib.crc32(text.encode())


class IdPlacer:
    """Puts the ids of request bodies in the fixtures' place."""

    def __init__(self, fixtures: Fixtures) -> None:
        self.fixtures = fixtures
        self.spec = load()

    def thread(self, thread: str) -> str:
        threads = self.fixtures.threads
        if thread in threads:
            return thread
        return threads[_stable(thread) % len(threads)]

    def _users(self, named: Sequence[str]) -> dict[str, str]:
        """A one-to-one map of the distinct ids `named` onto users of the fixtures."""
        users = self.fixtures.users
        taken = {user for user in named if user in users}
        mapping = {user: user for user in taken}
        for user in dict.fromkeys(named):
            if user in mapping:
                continue
            start = _stable(user) % len(users)
            free = next(
                (
                    users[(start + k) % len(users)]
                    for k in range(len(users))
                    if users[(start + k) % len(users)] not in taken
                ),
                None,
            )
            if free is None:
                continue  # more distinct users than the fixtures have: stays unknown
            mapping[user] = free
            taken.add(free)
        return mapping

    def _is_id(self, value: Any) -> bool:
        return isinstance(value, str) and self.spec.id_matches(value)

    def place(self, body: Any) -> Any:
        """`body` with its ids in the fixtures' place (a new object; not a dict: as it is)."""
        if not isinstance(body, dict):
            return body
        placed = dict(body)
        if self._is_id(placed.get(THREAD_FIELD)):
            placed[THREAD_FIELD] = self.thread(placed[THREAD_FIELD])
        single = placed.get(USER_FIELD)
        listed = placed.get(USERS_FIELD)
        named = [single] if isinstance(single, str) and self._is_id(single) else []
        if isinstance(listed, list):
            named += [user for user in listed if self._is_id(user)]
        mapping = self._users(named)
        if isinstance(single, str) and self._is_id(single):
            placed[USER_FIELD] = mapping.get(single, single)
        if isinstance(listed, list):
            placed[USERS_FIELD] = [
                mapping.get(user, user) if self._is_id(user) else user for user in listed
            ]
        return placed


_ACTIVE: list[IdPlacer] = []


def activate(placer: IdPlacer | None) -> None:
    """Make `placer` the one schemathesis's `before_call` hook uses (None: ids as generated)."""
    _ACTIVE.clear()
    if placer is not None:
        _ACTIVE.append(placer)


def current() -> IdPlacer | None:
    return _ACTIVE[0] if _ACTIVE else None
