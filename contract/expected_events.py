"""Which call events one answer must cause, as far as the contract model knew the thread.

`Rule.events_of` says which events a 200 causes, given the users it counted. Which users it
counted is known only as well as the model knew the thread before the request: a user the
model was unsure of may or may not have been counted, and the answer's count says how many of
those were, not which. `Caused` holds the outcome: the events that must come, in order, those
that may (`certain=False`) and how many of those must, or, for an answer nothing can be
concluded from (a server error, a request the model did not judge), the types of events that
may come in any number.

    before = possibly_counted(model.thread(team, thread).user, RULES[method], body)
    verdict = model.observe(...)
    caused = expected(method, body, status, data, before)

Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from contract.observations import named_users
from contract.rules import PLATFORM, RULES, Rule

#: What the model believes of each user named by a request: the set of the user's possible
#: states (`contract.rules.USER_STATES`).
UserStates = Callable[[str], frozenset[str]]


@dataclass(frozen=True)
class Expected:
    """One event an answer causes: its type, the fields the model decides (the user field of
    a per-user event), and whether it must come or only may."""

    event_type: str
    fields: Mapping[str, str]
    certain: bool = True

    def describe(self) -> str:
        named = ", ".join(f"{name} {value}" for name, value in self.fields.items())
        return f"{self.event_type}" + (f" ({named})" if named else "")


@dataclass(frozen=True)
class Caused:
    """The events one answer causes (see the module docstring)."""

    events: tuple[Expected, ...] = ()
    #: How many of the events that only may come must come (None: any number of them).
    exactly: int | None = 0
    #: Event types that may come in any number, for any user (nothing could be concluded).
    loose: tuple[str, ...] = ()
    #: The request was refused: it causes no event at all.
    refused: bool = False

    @property
    def judged(self) -> bool:
        """Whether the events that come can be held to this (not loose)."""
        return not self.loose

    def describe(self) -> str:
        """What the answer causes, in the contract's words."""
        if self.refused:
            return "no event (a refused request changes nothing)"
        if self.loose:
            return f"any number of {' or '.join(self.loose)} (not judged)"
        sure = [e.describe() for e in self.events if e.certain]
        maybe = [e.describe() for e in self.events if not e.certain]
        text = ", then ".join(sure) or "no event"
        if maybe:
            many = "some" if self.exactly is None else str(self.exactly)
            text += f"; and {many} of: {', '.join(maybe)}"
        return text


def rule_of(method: str) -> Rule | None:
    """The rule of an operation (`call/start`) or of what only the platform causes (`dtmf`)."""
    return RULES.get(method) or PLATFORM.get(method)


def event_types(rule: Rule) -> tuple[str, ...]:
    return tuple(emits.event_type for emits in rule.events)


def possibly_counted(
    states: UserStates, rule: Rule, body: Mapping[str, Any]
) -> dict[str, frozenset[bool]]:
    """For each user the request names (in its order), whether a 200 may count them, from
    the states the model believes possible before the request: {True}, {False} or both."""
    if not rule.users:
        return {}
    return {
        user: frozenset(rule.users[state].counted for state in states(user))
        for user in named_users(body)
    }


def refused(status: int | None) -> bool:
    """An answer that refuses the request (4xx: invalid, unauthorised, or the thread's state)."""
    return status is not None and 400 <= status < 500


def expected(
    method: str,
    body: Any,
    status: int | None,
    data: Any,
    before: Mapping[str, frozenset[bool]] | None,
) -> Caused:
    """The events the answer `status`/`data` to `method` with `body` causes.

    `before`: `possibly_counted` of the model before it judged the answer; None when it did not
    judge it, or the answer broke the model (that fault is reported as such, and the events
    it caused are then not held to anything).
    """
    rule = rule_of(method)
    if refused(status):
        return Caused(refused=True)
    if rule is None:
        return Caused(loose=tuple(dict.fromkeys(t for r in RULES.values() for t in event_types(r))))
    if not rule.events:
        return Caused()
    if status is None or not 200 <= status < 300 or before is None or not isinstance(body, dict):
        return Caused(loose=event_types(rule))
    sure = [user for user, counted in before.items() if counted == {True}]
    unsure = [user for user, counted in before.items() if counted == {True, False}]
    # A user operation's answer counts in its one `data` field.
    count = next(iter(data.values())) if isinstance(data, dict) and len(data) == 1 else None
    exactly: int | None = None
    if isinstance(count, int) and not isinstance(count, bool):
        if count == len(sure):
            unsure = []
        elif count == len(sure) + len(unsure):
            sure, unsure = sure + unsure, []
        exactly = count - len(sure) if unsure else 0
    elif not unsure:
        exactly = 0
    counted = [user for user in before if user in sure or user in unsure]
    events = tuple(
        Expected(event.event_type, event.fields, certain=_certain(event.fields, sure))
        for event in rule.events_of(counted)
    )
    return Caused(events, exactly)


def _certain(fields: Mapping[str, str], sure: Sequence[str]) -> bool:
    return all(value in sure for value in fields.values())
