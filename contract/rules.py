"""The rules of docs/contract.md, declared once as data: what each operation needs, what it
counts and what it changes. `contract.model` executes them; `operation_table()` renders them
as the operation table of docs/contract.md (a test keeps the two equal).

A thread's state is one of a few concrete `Flags` (is there a call, is it recorded, streamed,
is audio playing); a user's state in a call is one of `USER_STATES`. Each operation is a
`Rule`: the `needs` that must all hold for a 200 (else 409), the flags a 200 `sets`, and for
the four user operations a table `users` saying, for each state of a named user, whether the
user is counted and what the user becomes. `events` says which call events (the spec's
`webhooks`) a 200 causes: once per answer, or once per counted user; `event_table()` renders
them for docs/contract.md. `PLATFORM` holds what only the platform causes (a user hangs up, a
key is pressed), as rules of the same kind that no request of the API invokes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from contract.spec import Spec, load

#: The answer to a valid body naming a well-formed id the server does not know (2.4.0): the
#: model accepts it for an id outside the ids known to exist, and for no other.
UNKNOWN_ID = 404
#: The answer of a server over its rate limit, with `Retry-After` (2.4.0): nothing was done.
RATE_LIMITED = 429
#: Whole-second durations are floored; the model allows this much slack around its bounds.
DURATION_SLACK_SECONDS = 1


class Flags(NamedTuple):
    """One concrete state of a thread."""

    active: bool = False
    recording: bool = False
    streaming: bool = False
    audio: bool = False


#: Every state a thread can be in (no recording, stream or audio without a call).
ALL_FLAGS: frozenset[Flags] = frozenset(
    {Flags()}
    | {Flags(True, r, s, a) for r in (False, True) for s in (False, True) for a in (False, True)}
)
IDLE = Flags()

#: The states of a user in a thread's current call.
NEW, ACTIVE, PAUSED, LEFT = "new", "active", "paused", "left"
USER_STATES: frozenset[str] = frozenset({NEW, ACTIVE, PAUSED, LEFT})
#: How each state reads in an explanation ("user 5b44... is in this call (... at step 3)").
USER_WORDS: Mapping[str, str] = {
    NEW: "has not been in this call",
    ACTIVE: "is in this call, not paused",
    PAUSED: "is in this call, paused",
    LEFT: "was excluded from this call",
}


@dataclass(frozen=True)
class Need:
    """A condition on the thread that an operation needs; `missing` names its failure."""

    text: str
    missing: str
    holds: Callable[[Flags], bool]
    #: The flags the condition reads (an explanation names the step that established them).
    reads: tuple[str, ...]


NO_CALL = Need(
    "no active call in the thread", "a call is active", lambda f: not f.active, ("active",)
)
CALL = Need("an active call", "no active call", lambda f: f.active, ("active",))
NOT_RECORDING = Need(
    "not recording", "already recording", lambda f: not f.recording, ("active", "recording")
)
RECORDING = Need("recording", "nothing recorded", lambda f: f.recording, ("active", "recording"))
NOT_STREAMING = Need(
    "not streaming", "already streaming", lambda f: not f.streaming, ("active", "streaming")
)
STREAMING = Need("streaming", "nothing streamed", lambda f: f.streaming, ("active", "streaming"))
AUDIO = Need("audio playing", "no audio playing", lambda f: f.audio, ("active", "audio"))


#: A transition that adds detail to a 200: its name, and when it holds (given the states the
#: thread may be in before the request, and whether an earlier call of the thread ended).
Qualifier = tuple[str, Callable[[frozenset[Flags], bool], bool]]


class UserStep(NamedTuple):
    """What a user operation does to one named user in one state."""

    counted: bool
    becomes: str
    transition: str


class Emits(NamedTuple):
    """A call event that a 200 answer causes (its type is the name of one of the spec's
    `webhooks`)."""

    event_type: str
    #: The event's field that names the user: one event per counted user, in the order the
    #: request named them. None: one event per answer.
    user_field: str | None = None


class Event(NamedTuple):
    """One event that an answer caused: its type and the fields the model decides."""

    event_type: str
    fields: Mapping[str, str]


#: What the model holds a field of a 200 answer's `data` to (its name and type are the spec's).
DataKind = str
#: The direction as asked, or the call's.
DIRECTION: DataKind = "direction"
#: How many of the named users the operation changed.
COUNT: DataKind = "count"
#: Whole seconds from the call's start to its end.
CALL_DURATION: DataKind = "call duration"
#: Whole seconds from the first user's joining to the end; at most the call's duration.
DIALOG_DURATION: DataKind = "dialog duration"
#: A non-empty string.
URL: DataKind = "url"
#: Any value the schema allows.
FREE: DataKind = "free"

#: The request field of the thread, of one user, of several users.
THREAD_FIELD = "threadId"
USER_FIELD = "userId"
USERS_FIELD = "userIds"
#: The field in which a call's direction is asked for (request) and answered (`data`).
DIRECTION_FIELD = "direction"

#: The kind of each `data` field the model holds to more than its schema, by the field's name
#: in the spec. Which operation answers which fields is the spec's (`contract.spec`); a user
#: operation's one field is its count. A field not named here is `FREE`.
DATA_KINDS: Mapping[str, DataKind] = {
    DIRECTION_FIELD: DIRECTION,
    "callDuration": CALL_DURATION,
    "dialogDuration": DIALOG_DURATION,
    "fileUrl": URL,
    "streamUrl": URL,
}


@dataclass(frozen=True)
class Rule:
    """One operation of the contract."""

    method: str
    needs: tuple[Need, ...]
    #: Flags a 200 answer sets (`active=False` also clears the rest, see `apply`).
    sets: Mapping[str, bool] = field(default_factory=dict)
    #: A 200 answer starts a new call (nobody in it, the direction as asked)...
    starts_call: bool = False
    #: ... or ends the call (nobody in it any more).
    ends_call: bool = False
    #: For the user operations (they count in their one `data` field): what happens to each
    #: named user.
    users: Mapping[str, UserStep] = field(default_factory=dict)
    #: Other answers the contract allows that change nothing (422: a file the server refused).
    refusals: frozenset[int] = frozenset()
    #: Transitions that add detail to a 200: (name, holds of the states the thread may be in
    #: before the request, and whether an earlier call of the thread ended).
    qualifiers: tuple[Qualifier, ...] = ()
    effect: str = ""
    #: The call events a 200 answer causes, in this order (none for a refusal).
    events: tuple[Emits, ...] = ()

    def events_of(self, counted: Sequence[str] = ()) -> list[Event]:
        """The events a 200 answer causes, in order, given the users it counted (in the
        order the request named them)."""
        caused = []
        for emits in self.events:
            if emits.user_field is None:
                caused.append(Event(emits.event_type, {}))
            else:
                caused += [Event(emits.event_type, {emits.user_field: u}) for u in counted]
        return caused

    def apply(self, flags: Flags) -> Flags:
        """The thread's state after a 200 answer."""
        if self.sets.get("active") is False:
            return IDLE
        return flags._replace(**self.sets)

    def ok_transition(self) -> str:
        return f"{self.method}: {', '.join(n.text for n in self.needs)} -> 200"

    def conflict_transition(self, need: Need) -> str:
        return f"{self.method}: {need.missing} -> 409"

    def failing_need(self, flags: Flags) -> Need | None:
        return next((need for need in self.needs if not need.holds(flags)), None)

    def data_kinds(self, fields: Iterable[str]) -> dict[str, DataKind]:
        """What the model holds each of the spec's `data` fields of this operation to."""
        return {name: COUNT if self.users else DATA_KINDS.get(name, FREE) for name in fields}

    def transitions(self) -> list[str]:
        """Every transition the model knows for this operation."""
        names = [self.ok_transition(), *(self.conflict_transition(n) for n in self.needs)]
        names += [name for name, _ in self.qualifiers]
        names += [step.transition for step in self.users.values()]
        return names


def _users(method: str, **steps: tuple[bool, str, str]) -> dict[str, UserStep]:
    return {
        state: UserStep(counted, becomes, f"{method}: {text}")
        for state, (counted, becomes, text) in steps.items()
    }


_END_QUALIFIERS: tuple[Qualifier, ...] = (
    ("call/end: while recording (stops it)", lambda states, _: all(f.recording for f in states)),
    ("call/end: while streaming (stops it)", lambda states, _: all(f.streaming for f in states)),
    ("call/end: while audio may play (stops it)", lambda states, _: any(f.audio for f in states)),
)

#: The call events (the names of the spec's `webhooks`) and the fields naming their user.
CREATED = Emits("call.created")
ENDED = Emits("call.ended")
INVITED = Emits("call.user.invited", "contactId")
KICKED = Emits("call.user.kicked", "contactId")
HELD = Emits("call.user.held", "userId")
UNHELD = Emits("call.user.unheld", "userId")
DTMF = Emits("call.dtmf")

RULES: dict[str, Rule] = {
    rule.method: rule
    for rule in (
        Rule(
            "call/start",
            (NO_CALL,),
            sets={"active": True, "recording": False, "streaming": False, "audio": False},
            starts_call=True,
            qualifiers=(("call/start: again after end", lambda _, ended: ended),),
            effect="starts a call with nobody in it",
            events=(CREATED,),
        ),
        Rule(
            "call/end",
            (CALL,),
            sets={"active": False},
            ends_call=True,
            qualifiers=_END_QUALIFIERS,
            effect="ends the call; stops its audio, recording and stream",
            events=(ENDED,),
        ),
        Rule(
            "call.user/invite",
            (CALL,),
            users=_users(
                "call.user/invite",
                new=(True, ACTIVE, "user not yet in call, counted"),
                left=(True, ACTIVE, "user excluded earlier, counted"),
                active=(False, ACTIVE, "user already in call, not counted"),
                paused=(False, PAUSED, "paused user already in call, not counted"),
            ),
            effect="counts named users not in the call; they are in it",
            events=(INVITED,),
        ),
        Rule(
            "call.user/exclude",
            (CALL,),
            users=_users(
                "call.user/exclude",
                new=(False, NEW, "user never in call, not counted"),
                left=(False, LEFT, "user already excluded, not counted"),
                active=(True, LEFT, "user in call, counted"),
                paused=(True, LEFT, "paused user in call, counted"),
            ),
            effect="counts named users in the call; they leave it",
            events=(KICKED,),
        ),
        Rule(
            "call/pause",
            (CALL,),
            users=_users(
                "call/pause",
                new=(False, NEW, "user not in call, not counted"),
                left=(False, LEFT, "user excluded, not counted"),
                active=(True, PAUSED, "user in call, counted"),
                paused=(False, PAUSED, "user already paused, not counted"),
            ),
            effect="counts named users in the call not paused; they are paused",
            events=(HELD,),
        ),
        Rule(
            "call/unpause",
            (CALL,),
            users=_users(
                "call/unpause",
                new=(False, NEW, "user not in call, not counted"),
                left=(False, LEFT, "user excluded, not counted"),
                active=(False, ACTIVE, "user never paused, not counted"),
                paused=(True, ACTIVE, "paused user, counted"),
            ),
            effect="counts named users paused; they are not paused",
            events=(UNHELD,),
        ),
        Rule(
            "call.audio/play",
            (CALL,),
            sets={"audio": True},
            refusals=frozenset({422}),
            qualifiers=(
                (
                    "call.audio/play: while audio may play (replaces it)",
                    lambda states, _: any(f.audio for f in states),
                ),
            ),
            effect="plays audio, which may end on its own",
        ),
        Rule("call.audio/stop", (AUDIO,), sets={"audio": False}, effect="stops the audio"),
        Rule(
            "call.recording/start",
            (CALL, NOT_RECORDING),
            sets={"recording": True},
            effect="records",
        ),
        Rule(
            "call.recording/stop",
            (RECORDING,),
            sets={"recording": False},
            effect="stops recording",
        ),
        Rule(
            "call.stream/start",
            (CALL, NOT_STREAMING),
            sets={"streaming": True},
            effect="streams",
        ),
        Rule(
            "call.stream/stop",
            (STREAMING,),
            sets={"streaming": False},
            effect="stops streaming",
        ),
    )
}

#: What only the platform causes, by the name of the reference server's sandbox control
#: request for it: no request of the API does. A user who hangs up leaves the call as an
#: excluded one does; a key pressed changes nothing.
PLATFORM: dict[str, Rule] = {
    rule.method: rule
    for rule in (
        Rule(
            "hangup",
            (CALL,),
            users=_users(
                "hangup",
                new=(False, NEW, "user never in call, not counted"),
                left=(False, LEFT, "user already out of call, not counted"),
                active=(True, LEFT, "user in call hangs up, counted"),
                paused=(True, LEFT, "paused user hangs up, counted"),
            ),
            effect="a user of the call hangs up; the user leaves it",
            events=(KICKED,),
        ),
        Rule(
            "dtmf",
            (CALL,),
            effect="a user of the call presses a key",
            events=(DTMF,),
        ),
    )
}

#: Every transition the model knows, in the order of the operations.
TRANSITIONS: tuple[str, ...] = tuple(name for rule in RULES.values() for name in rule.transitions())


def operation_table(spec: Spec | None = None) -> str:
    """The operation table of docs/contract.md, rendered from `RULES` and the spec's fields."""
    spec = spec or load()
    lines = ["| method | needs | success `data` | a success |", "|---|---|---|---|"]
    for rule in RULES.values():
        needs = ", ".join(need.text for need in rule.needs)
        fields = spec.operation(rule.method).data_fields
        data = f"`{{{', '.join(fields)}}}`" if fields else "none"
        lines.append(f"| `{rule.method}` | {needs} | {data} | {rule.effect} |")
    return "\n".join(lines)


class Repeat(NamedTuple):
    """What the same request meets when it is sent again after a 200 whose answer was lost:
    the need it then misses (a 409), the count that then says 0, the transitions done again."""

    missing: Need | None
    zero_count: str | None
    again: tuple[str, ...]

    @property
    def safe(self) -> bool:
        """The repeat answers as the first request did and changes nothing more."""
        return self.missing is None and self.zero_count is None and not self.again

    def text(self) -> str:
        if self.missing is not None:
            return f"409 ({self.missing.missing})"
        if self.zero_count is not None:
            return f"200 with `{self.zero_count}` 0: the users are already where the first put them"
        return "200, done again" + "".join(f"; {name}" for name in self.again)


def repeated(rule: Rule, spec: Spec | None = None) -> Repeat:
    """What `rule`'s request meets when it is sent again after a success."""
    before = min(flags for flags in ALL_FLAGS if rule.failing_need(flags) is None)
    after = rule.apply(before)
    kinds = rule.data_kinds((spec or load()).operation(rule.method).data_fields)
    return Repeat(
        rule.failing_need(after),
        next((name for name, kind in kinds.items() if kind == COUNT), None),
        tuple(name for name, holds in rule.qualifiers if holds(frozenset({after}), False)),
    )


def repeat_table() -> str:
    """The table of what a repeated request meets, in docs/contract.md ("Retries")."""
    lines = ["| method | sent again after a success |", "|---|---|"]
    lines += [f"| `{rule.method}` | {repeated(rule).text()} |" for rule in RULES.values()]
    return "\n".join(lines)


def _events_text(rule: Rule) -> str:
    caused = [
        f"one `{e.event_type}`"
        if e.user_field is None
        else f"one `{e.event_type}` per counted user, in the order named (`{e.user_field}`)"
        for e in rule.events
    ]
    return ", then ".join(caused) or "none"


def event_table() -> str:
    """The table of docs/contract.md saying which events each 200 answer causes, rendered
    from `RULES` and `PLATFORM`."""
    lines = ["| a 200 of | causes |", "|---|---|"]
    lines += [f"| `{rule.method}` | {_events_text(rule)} |" for rule in RULES.values()]
    lines += [
        f"| `{rule.method}` (platform) | {_events_text(rule)} |" for rule in PLATFORM.values()
    ]
    return "\n".join(lines)
