"""What came against what the answers caused: the events' faults, each in the contract's words.

The answers on a thread cause events in order (`contract.expected_events`); a server delivers
them in that order, at least once (a repeat carries the same `eventId`). `match` walks each
thread's deliveries in the order they came and pairs each with the event it reports: the
nearest one not yet reported (from where the previous delivery was), among those of answers
to requests sent before it came. What is left over is a fault:

- `missing`: an event an answer caused never came;
- `extra`: an event came that no answer caused;
- `duplicated`: a second event, with another `eventId`, for one change (or one `eventId` for two
  different bodies);
- `out of order`: an event came after one that a later answer (or a later user) caused;
- `wrong field`: an event came for an expected one but with one field not as the answer says
  (`contactId`, `threadId`, ...), or not as the spec's schema says, or a `streamId` not the
  thread's, or a `createdAt` not the time of the change (in milliseconds);
- `unsigned or badly signed`: the delivery's signature is not the bot's;
- `for a refused request`: an event came for a request that was refused.

Pure: the deliveries and answers are given; no clock, no I/O.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from contract.expected_events import Caused, event_types, rule_of
from contract.observations import named_users
from contract.signing import MAX_SKEW_SECONDS
from fuzzing.event_receiver import Arrival

MISSING = "missing"
EXTRA = "extra"
DUPLICATED = "duplicated"
OUT_OF_ORDER = "out of order"
WRONG_FIELD = "wrong field"
UNSIGNED = "unsigned or badly signed"
REFUSED = "for a refused request"
KINDS = (MISSING, EXTRA, DUPLICATED, OUT_OF_ORDER, WRONG_FIELD, UNSIGNED, REFUSED)
#: An event may come this long before the time noted as its request's sending, when that time
#: was taken as the request went out (the walk, the boundary phase) ...
EXACT_SLACK_SECONDS = 0.05
#: ... or when it is an estimate: schemathesis's checks learn of an answer after the other
#: checks of the case ran (which may send requests of their own), and take the time it was
#: sent as then less the answer's elapsed time; on a busy machine that can be seconds late.
ESTIMATED_SLACK_SECONDS = 5.0
LATEST = max(EXACT_SLACK_SECONDS, ESTIMATED_SLACK_SECONDS)
#: An event is looked for this many events of its thread either side of where the next one
#: is due: further off it is taken for a missing one and an extra one, not one out of order.
WINDOW = 256
#: An event that fits none due is taken for one with a wrong field only if that one's request
#: was sent this long before it came, at most.
RECENT_SECONDS = 60.0


@dataclass
class Cause:
    """One answer on a thread and the events it causes."""

    thread: str
    step: int  # the answer's step on its thread, from 1
    method: str
    body: Any
    status: int | None
    sent: float  # wall clock, when the request was sent and answered
    answered: float
    caused: Caused
    #: How much earlier than `sent` the request may really have been sent (see above).
    slack: float = EXACT_SLACK_SECONDS

    def before(self, arrival: Arrival) -> bool:
        """Whether the request may have been sent before `arrival` came (else it cannot
        have caused it)."""
        return self.sent - self.slack <= arrival.received

    def describe(self) -> str:
        return f"{self.method} answered {self.status} (thread {self.thread}, step {self.step})"


@dataclass
class Finding:
    """One fault of the events: its kind, what was expected and what came, and its cause."""

    kind: str
    event_type: str
    expected: str
    came: str
    reason: str
    cause: Cause | None = None
    thread: str = ""
    #: When the delivery that shows the fault came (wall clock; None: a missing event, shown
    #: only when the wait for it ended).
    seen: float | None = None


@dataclass
class _Item:
    """An event a cause may or must produce, and the deliveries reported for it."""

    cause: Cause
    event_type: str
    fields: Mapping[str, str]
    certain: bool
    loose: bool  # any number, any user
    matched: list[Arrival] = field(default_factory=list)

    def fits(self, arrival: Arrival) -> bool:
        return self.event_type == arrival.event_type and all(
            arrival.event.get(name) == value for name, value in self.fields.items()
        )

    def open(self) -> bool:
        return self.loose or not self.matched

    def describe(self) -> str:
        named = ", ".join(f"{name} {value}" for name, value in self.fields.items())
        return self.event_type + (f" ({named})" if named else "")


@dataclass
class Outcome:
    """The findings of one `match`, and whether every event that must come has come."""

    findings: list[Finding]
    complete: bool
    #: Deliveries of an `eventId` already taken (allowed: at least once), distinct events.
    repeats: int = 0
    distinct: int = 0


def _items(causes: Sequence[Cause]) -> list[_Item]:
    items = []
    for cause in causes:
        caused = cause.caused
        items += [_Item(cause, kind, {}, False, True) for kind in caused.loose]
        items += [_Item(cause, e.event_type, e.fields, e.certain, False) for e in caused.events]
    return items


class _Thread:
    """The deliveries of one thread paired with the events its answers caused."""

    def __init__(self, causes: Sequence[Cause]) -> None:
        self.causes = list(causes)
        self.items = _items(causes)
        self.last = -1  # the item the latest paired delivery was paired with
        self.paired_last = False  # whether the thread's previous delivery was paired
        self.optional_taken: dict[int, int] = {}  # per answer, its events that may come, paired
        self.highest = -1
        self.findings: list[Finding] = []
        self.leftovers: list[Arrival] = []

    def take(self, arrival: Arrival, following: Arrival | None) -> None:
        """Pair `arrival` with the event it reports, or note its fault (`following`: the
        thread's next delivery, if any)."""
        nearest = self._nearest(arrival)
        previous = self.items[self.last] if self.last >= 0 else None
        again = (
            self.paired_last
            and previous is not None
            and not previous.loose
            and previous.fits(arrival)
        )
        self.paired_last = False
        # Pairing it further on skips events that must come; if the next delivery is the
        # first of those, this one is out of place (a repeat, or for a refused request), not
        # the later one: the thread's events go on where they were.
        skipped = (
            next((i for i in self.items[self.last + 1 : nearest] if i.certain and i.open()), None)
            if nearest is not None
            else None
        )
        resumes = skipped is not None and following is not None and skipped.fits(following)
        if nearest is not None and not resumes:
            self._pair(arrival, nearest)
            return
        refused = self._refused_cause(arrival)
        if (
            again
            and previous is not None
            and (
                refused is None
                or nearest is not None
                or refused.sent <= previous.matched[0].received
            )
        ):
            self.findings.append(_duplicate(arrival, previous))
        elif refused is not None:
            self.findings.append(_refused(arrival, refused))
        elif nearest is not None:
            self._pair(arrival, nearest)
        else:
            self.leftovers.append(arrival)

    def _open(self, item: _Item) -> bool:
        """Whether the item may still be paired: not yet paired (or loose), and for an event
        that only may come, while its answer's count allows one more."""
        if not item.open():
            return False
        quota = item.cause.caused.exactly
        if item.certain or item.loose or quota is None:
            return True
        return self.optional_taken.get(id(item.cause), 0) < quota

    def _pair(self, arrival: Arrival, index: int) -> None:
        item = self.items[index]
        if index < self.highest:
            later = next(i for i in self.items[index + 1 :] if i.matched)
            self.findings.append(_out_of_order(arrival, item, later))
        item.matched.append(arrival)
        if not item.certain and not item.loose:
            key = id(item.cause)
            self.optional_taken[key] = self.optional_taken.get(key, 0) + 1
        self.last = index
        self.highest = max(self.highest, index)
        self.paired_last = True

    def _nearest(self, arrival: Arrival) -> int | None:
        """The open item that fits: the first one on from the last paired when no event that
        must come lies before it (a server that keeps the contract), else the nearest to the
        one after the last paired, earlier first, within `WINDOW`."""
        wanted = self.last + 1
        for index in range(wanted, len(self.items)):
            item = self.items[index]
            if self._fits(item, arrival):
                return index
            if (item.certain and item.open()) or item.cause.sent > arrival.received + LATEST:
                break  # an event that must come would be skipped, or none can fit further on
        low, high = max(0, wanted - WINDOW), min(len(self.items), wanted + WINDOW)
        fitting = [i for i in range(low, high) if self._fits(self.items[i], arrival)]
        return min(fitting, key=lambda index: (abs(index - wanted), index), default=None)

    def _fits(self, item: _Item, arrival: Arrival) -> bool:
        return self._open(item) and item.fits(arrival) and item.cause.before(arrival)

    def _refused_cause(self, arrival: Arrival) -> Cause | None:
        """The latest refused request since the last paired event that would have caused
        this event had it been accepted."""
        since = self.items[self.last].cause.sent if self.last >= 0 else float("-inf")
        for cause in reversed(self.causes):
            if cause.sent < since:
                break
            if cause.caused.refused and cause.before(arrival) and _could_cause(cause, arrival):
                return cause
        return None

    def shortfalls(self) -> Iterable[Finding]:
        """The events that must come and have not, per answer."""
        of_cause: dict[int, list[_Item]] = {}
        for item in self.items:
            if not item.loose:
                of_cause.setdefault(id(item.cause), []).append(item)
        for cause in self.causes:
            items = of_cause.get(id(cause), [])
            for item in items:
                if item.certain and not item.matched:
                    yield _missing(item.cause, [item.describe()], 1, item.event_type)
            optional = [i for i in items if not i.certain]
            wanted = cause.caused.exactly
            came = sum(1 for i in optional if i.matched)
            if wanted is None or not optional:
                continue
            open_ = [i.describe() for i in optional if not i.matched]
            if came < wanted:
                yield _missing(cause, open_, wanted - came, optional[0].event_type)
            elif came > wanted:
                yield _too_many(cause, optional, wanted, came)


def _could_cause(cause: Cause, arrival: Arrival) -> bool:
    rule = rule_of(cause.method)
    if rule is None or arrival.event_type not in event_types(rule):
        return False
    users = set(named_users(cause.body)) if isinstance(cause.body, dict) else set()
    fields = {e.user_field for e in rule.events if e.event_type == arrival.event_type}
    return all(name is None or arrival.event.get(name) in users for name in fields)


def match(causes: Iterable[Cause], arrivals: Sequence[Arrival]) -> Outcome:
    """Judge every delivery against every answer's events (see the module docstring)."""
    findings: list[Finding] = []
    distinct, repeats = _distinct(arrivals, findings)
    by_thread: dict[str, list[Cause]] = {}
    for cause in causes:
        by_thread.setdefault(cause.thread, []).append(cause)
    threads = {name: _Thread(list_) for name, list_ in by_thread.items()}
    first_sent = min((c.sent for list_ in by_thread.values() for c in list_), default=None)
    findings += _field_faults(distinct, first_sent)
    of_thread: dict[str, list[Arrival]] = {}
    for arrival in distinct:
        if arrival.event:
            of_thread.setdefault(arrival.thread, []).append(arrival)
    for name, came in of_thread.items():
        thread = threads.setdefault(name, _Thread([]))
        for arrival, following in zip(came, [*came[1:], None], strict=True):
            thread.take(arrival, following)
    for thread in threads.values():
        findings += thread.findings
    leftovers = [a for t in threads.values() for a in t.leftovers]
    findings += _wrong_fields(leftovers, threads)
    shortfalls = [f for t in threads.values() for f in t.shortfalls()]
    findings += shortfalls
    complete = not any(f.kind == MISSING for f in shortfalls)
    return Outcome(findings, complete, repeats, len(distinct))


def _distinct(arrivals: Sequence[Arrival], findings: list[Finding]) -> tuple[list[Arrival], int]:
    """The deliveries with their own `eventId` (a repeat with the same body is allowed: at
    least once); the signature and schema faults of every delivery."""
    first: dict[str, Arrival] = {}
    distinct: list[Arrival] = []
    repeats = 0
    for arrival in arrivals:
        if arrival.unsigned:
            findings.append(
                Finding(
                    UNSIGNED,
                    arrival.event_type,
                    "the bot's signature (X-Bot-Id, X-timestamp, X-Signature over the body)",
                    arrival.unsigned,
                    f"{arrival.event_type} delivered unsigned or badly signed: {arrival.unsigned}",
                    thread=arrival.thread,
                    seen=arrival.received,
                )
            )
        if arrival.malformed:
            findings.append(
                Finding(
                    WRONG_FIELD,
                    arrival.event_type,
                    "a body valid against the event's schema in openapi.yaml",
                    arrival.malformed,
                    f"{arrival.event_type} does not fit its schema: {arrival.malformed}",
                    thread=arrival.thread,
                    seen=arrival.received,
                )
            )
        key = arrival.event_id
        if key is not None and key in first:
            if first[key].body == arrival.body:
                repeats += 1
            else:
                findings.append(_reused_id(arrival, first[key]))
            continue
        if key is not None:
            first[key] = arrival
        distinct.append(arrival)
    return distinct, repeats


def _field_faults(arrivals: Sequence[Arrival], since: float | None) -> list[Finding]:
    """A thread's events share one `streamId`; `createdAt` is when the call started (ms),
    after `since` (when the run's first request was sent)."""
    found = []
    streams: dict[str, Any] = {}
    for arrival in arrivals:
        stream = arrival.event.get("streamId")
        if stream is None:
            continue
        known = streams.setdefault(arrival.thread, stream)
        if stream != known:
            found.append(
                _field(arrival, "streamId", known, stream, "every event of a thread has one stream")
            )
    for arrival in arrivals:
        created = arrival.event.get("createdAt")
        if arrival.event_type != "call.created" or not isinstance(created, int) or since is None:
            continue
        # Between the run's first request and the delivery (in milliseconds, as the contract
        # says), give or take the signature's window for the two clocks.
        if (
            not (since - MAX_SKEW_SECONDS) * 1000
            <= created
            <= (arrival.received + MAX_SKEW_SECONDS) * 1000
        ):
            found.append(
                _field(
                    arrival,
                    "createdAt",
                    f"Unix milliseconds before {int(arrival.received * 1000)}",
                    created,
                    "the time the call started, in milliseconds",
                )
            )
    return found


def _wrong_fields(leftovers: Sequence[Arrival], threads: Mapping[str, _Thread]) -> list[Finding]:
    """An event that fits no expected one, but one of the same type with one field changed
    (the user, the thread), caused within `RECENT_SECONDS` before it came: a wrong field of
    that event. Any other one is extra."""
    found = []
    unpaired: dict[str, list[_Item]] = {}
    for thread in threads.values():
        for item in thread.items:
            if not item.loose and not item.matched:
                unpaired.setdefault(item.event_type, []).append(item)
    for items in unpaired.values():
        items.sort(key=lambda item: item.cause.sent)
    for arrival in leftovers:
        candidates = unpaired.get(arrival.event_type, [])
        start = bisect.bisect_left(
            candidates, arrival.received - RECENT_SECONDS, key=lambda item: item.cause.sent
        )
        best: tuple[int, _Item, list[str]] | None = None
        for item in candidates[start:]:
            if not item.cause.before(arrival):
                break
            if item.matched:
                continue
            wanted = {"threadId": item.cause.thread, **item.fields}
            differ = [k for k, v in wanted.items() if arrival.event.get(k) != v]
            if best is None or len(differ) < best[0]:
                best = (len(differ), item, differ)
        if best is None or best[0] != 1:
            found.append(_extra(arrival, threads.get(arrival.thread)))
            continue
        _, item, differ = best
        item.matched.append(arrival)
        name = differ[0]
        wanted = {"threadId": item.cause.thread, **item.fields}
        found.append(
            _field(
                arrival,
                name,
                wanted[name],
                arrival.event.get(name),
                f"{item.cause.describe()} caused {item.describe()}",
                item.cause,
            )
        )
    return found


# -- the findings, in the contract's words -------------------------------------------------


def _missing(cause: Cause, events: list[str], count: int, event_type: str) -> Finding:
    which = events[0] if len(events) == 1 else f"{count} of: {', '.join(events)}"
    return Finding(
        MISSING,
        event_type,
        which,
        "nothing",
        f"{cause.describe()} caused {which}, which never came",
        cause,
        cause.thread,
    )


def _too_many(cause: Cause, items: list[_Item], wanted: int, came: int) -> Finding:
    shown = ", ".join(i.describe() for i in items if i.matched)
    return Finding(
        EXTRA,
        items[0].event_type,
        f"{wanted} {items[0].event_type} (as the answer counted)",
        shown,
        f"{cause.describe()} counted {wanted} user(s) the model was unsure of, "
        f"but {came} events came: {shown}",
        cause,
        cause.thread,
        seen=max(a.received for i in items for a in i.matched),
    )


def _extra(arrival: Arrival, thread: _Thread | None) -> Finding:
    caused = "no answer of the run was on that thread"
    if thread is not None and thread.causes:
        caused = f"the {len(thread.causes)} answers on the thread caused no such event"
    return Finding(
        EXTRA,
        arrival.event_type,
        "no event",
        arrival.describe(),
        f"{arrival.describe()} came, but {caused}",
        None,
        arrival.thread,
        seen=arrival.received,
    )


def _duplicate(arrival: Arrival, item: _Item) -> Finding:
    first = item.matched[0]
    return Finding(
        DUPLICATED,
        arrival.event_type,
        f"one {item.describe()} (eventId {first.event_id})",
        f"another, eventId {arrival.event_id}",
        f"a second {item.describe()} with another eventId ({arrival.event_id}, the first "
        f"{first.event_id}) for one change: {item.cause.describe()}",
        item.cause,
        item.cause.thread,
        seen=arrival.received,
    )


def _reused_id(arrival: Arrival, first: Arrival) -> Finding:
    return Finding(
        DUPLICATED,
        arrival.event_type,
        f"eventId {first.event_id} only for {first.describe()} (a repeat has the same body)",
        arrival.describe(),
        f"eventId {arrival.event_id} came for two different events: {first.describe()}, then "
        f"{arrival.describe()}",
        None,
        arrival.thread,
        seen=arrival.received,
    )


def _out_of_order(arrival: Arrival, item: _Item, later: _Item) -> Finding:
    return Finding(
        OUT_OF_ORDER,
        arrival.event_type,
        f"{item.describe()} before {later.describe()}",
        f"{later.describe()} before {item.describe()}",
        f"{item.describe()} ({item.cause.describe()}) came after {later.describe()} "
        f"({later.cause.describe()}): events of a thread come in the order of its changes",
        item.cause,
        item.cause.thread,
        seen=arrival.received,
    )


def _refused(arrival: Arrival, cause: Cause) -> Finding:
    return Finding(
        REFUSED,
        arrival.event_type,
        "no event",
        arrival.describe(),
        f"{arrival.describe()} came for {cause.describe()}: a refused request causes no event",
        cause,
        cause.thread,
        seen=arrival.received,
    )


def _field(
    arrival: Arrival, name: str, wanted: Any, came: Any, why: str, cause: Cause | None = None
) -> Finding:
    return Finding(
        WRONG_FIELD,
        arrival.event_type,
        f"{name} {json.dumps(wanted)}",
        f"{name} {json.dumps(came)}",
        f"{arrival.event_type}: expected {name} {json.dumps(wanted)}, came "
        f"{json.dumps(came)} ({why})",
        cause,
        arrival.thread,
        seen=arrival.received,
    )
