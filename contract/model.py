"""The executable model of the contract: what the next request on a thread must get.

The model follows each thread of each team through the answers it got. What it knows is a set
of possibilities: the thread is in one of a set of concrete states (`contract.rules.Flags`),
each user in one of a set of states of the call (`contract.rules.USER_STATES`). Nothing is
assumed that no answer proved: a thread never seen may have a call with anybody in it (a
server that had calls before, another client), so every state is possible until the answers
narrow them down. A 200 on `call.user/invite` proves the call is active and the named users
are in it; a 409 on `call/start` proves an active call whose members are unknown.

    model = Model()
    verdict = model.observe(team, "call/start", {"threadId": t}, 200, {"direction": "outgoing"})
    verdict.violations   # [] or reasons in the contract's words, naming the steps behind them
    verdict.breaches     # the same with what each is about (the status, `data`, a field)
    verdict.expected     # what the model expected (statuses, data, bounds)

The rules themselves are data, in `contract.rules`. Pure Python, in memory, no I/O.

It is one module of about 430 lines on purpose: expecting, judging and learning are three
views of the same narrowing of possibilities, and they share the `Thread` they narrow; the
plain data types live in `contract.observations` and the rules in `contract.rules`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from contract import rules
from contract.fixtures import Fixtures
from contract.observations import (
    DATA,
    STATUS,
    Breach,
    Exchange,
    Expectation,
    Fact,
    Verdict,
    Window,
    duration_bounds,
    named_users,
)
from contract.rules import (
    ALL_FLAGS,
    CALL_DURATION,
    COUNT,
    DIALOG_DURATION,
    DIRECTION,
    DIRECTION_FIELD,
    IDLE,
    NEW,
    RULES,
    THREAD_FIELD,
    UNKNOWN_ID,
    URL,
    USER_STATES,
    USER_WORDS,
    DataKind,
    Flags,
    Rule,
)
from contract.spec import Spec, load

#: A thread's log keeps at most this many exchanges (older ones are dropped: a replay of the
#: rest starts from an unknown state, which the model handles).
LOG_LIMIT = 400


@dataclass
class Thread:
    """What the answers so far prove about one thread."""

    flags: frozenset[Flags] = ALL_FLAGS
    users: dict[str, frozenset[str]] = field(default_factory=dict)
    #: The belief about users not in `users`: anything, or nobody (a call we saw start).
    others: frozenset[str] = USER_STATES
    user_facts: dict[str, Fact] = field(default_factory=dict)
    flag_facts: dict[str, Fact] = field(default_factory=dict)
    direction: str | None = None
    started: Window | None = None
    start_fact: Fact | None = None
    #: None unknown, False nobody joined this call yet, else when the first user joined.
    joined: Window | bool | None = None
    ended_before: bool = False
    steps: int = 0
    log: list[Exchange] = field(default_factory=list)

    def user(self, user_id: str) -> frozenset[str]:
        return self.users.get(user_id, self.others)

    def forget(self) -> None:
        """Nothing is known any more (a server error, a request the model did not judge)."""
        self.flags, self.users, self.others = ALL_FLAGS, {}, USER_STATES
        self.user_facts, self.flag_facts = {}, {}
        self.direction = self.started = self.start_fact = self.joined = None

    def known(self, name: str) -> bool | None:
        values = {getattr(f, name) for f in self.flags}
        return next(iter(values)) if len(values) == 1 else None


def _short(user_id: str) -> str:
    return user_id[:8] + "..."


class Model:
    """The contract as a state machine over what the answers proved, per team and thread.

    `spec` names the `data` fields of each operation (default: this repository's openapi.yaml).
    `known`: the threads and users known to exist on the server (the fuzzer's `--fixtures`).
    A body naming any other id may also be answered 404, a server with fixed ids, besides
    what the state allows (the sandbox creates them on demand); for a body of known ids, 404
    is a violation. Without `known` every id may be unknown.
    """

    def __init__(self, spec: Spec | None = None, known: Fixtures | None = None) -> None:
        self.known = known
        self.threads: dict[tuple[str, str], Thread] = {}
        #: How often each transition ran.
        self.exercised: Counter[str] = Counter()
        spec = spec or load()
        #: Per `{method}` with a rule: the kind of each `data` field of a 200, in the spec's order.
        self.data_kinds: dict[str, dict[str, DataKind]] = {
            op.method: RULES[op.method].data_kinds(op.data_fields)
            for op in spec
            if op.method in RULES
        }
        #: Per `{method}`: the request fields that have a default, with it (the spec's).
        self.defaults: dict[str, Mapping[str, Any]] = {op.method: op.defaults for op in spec}

    def thread(self, team: str, thread_id: str) -> Thread:
        return self.threads.setdefault((team, thread_id), Thread())

    def forget(self, team: str, thread_id: str) -> None:
        """Someone changed the thread without the model seeing how: know nothing of it."""
        if (team, thread_id) in self.threads:
            self.threads[(team, thread_id)].forget()

    @staticmethod
    def transitions() -> tuple[str, ...]:
        return rules.TRANSITIONS

    def never_exercised(self) -> list[str]:
        return [name for name in rules.TRANSITIONS if not self.exercised[name]]

    def possible(self, team: str, method: str, body: Mapping[str, Any]) -> set[str]:
        """The transitions that `method` with `body` may run now (for choosing requests)."""
        rule = RULES[method]
        thread = self.thread(team, str(body[THREAD_FIELD]))
        flags = _decayed(thread.flags)
        names: set[str] = set()
        for state in flags:
            need = rule.failing_need(state)
            if need is not None:
                names.add(rule.conflict_transition(need))
                continue
            names.add(rule.ok_transition())
            names.update(
                n for n, holds in rule.qualifiers if holds(frozenset({state}), thread.ended_before)
            )
            if rule.users:
                for user in named_users(body):
                    names.update(rule.users[s].transition for s in thread.user(user))
        return names

    # -- what the next request must get -------------------------------------------------------

    def expect(
        self,
        team: str,
        method: str,
        body: Mapping[str, Any],
        sent: float = 0.0,
        received: float = 0.0,
    ) -> Expectation:
        """What `method` with `body` must get now (times: when sent and answered)."""
        rule = RULES[method]
        thread = self.thread(team, str(body[THREAD_FIELD]))
        flags = _decayed(thread.flags)
        ok = {f for f in flags if rule.failing_need(f) is None}
        statuses = set(rule.refusals)
        expectation = Expectation(frozenset())
        expectation.unknown_ids = self.known is None or bool(self.known.unknown(body))
        if ok:
            statuses.add(200)
        if len(ok) < len(flags):
            statuses.add(409)
        if len(statuses - rule.refusals) == 1:
            expectation.why[str(min(statuses - rule.refusals))] = _status_reason(
                rule, thread, flags
            )
        expectation.statuses = frozenset(statuses)
        if not ok:
            return expectation
        kinds = self.data_kinds.get(method, {})
        expectation.no_data = not kinds
        end = (sent, received)
        for name, kind in kinds.items():
            if kind == DIRECTION:
                self._expect_direction(expectation, name, self._direction(method, body), thread)
            elif kind == COUNT:
                self._expect_count(expectation, name, rule, thread, body)
            elif kind == URL:
                expectation.present += (name,)
            elif kind == CALL_DURATION:
                self._expect_call_duration(expectation, name, thread, end)
            elif kind == DIALOG_DURATION and thread.started is not None and end != (0.0, 0.0):
                self._expect_dialog_duration(expectation, name, thread, end)
        return expectation

    def _direction(self, method: str, body: Mapping[str, Any]) -> tuple[str, str] | None:
        """For an operation that starts a call: the direction it gets, and why."""
        if not RULES[method].starts_call:
            return None
        asked = body.get(DIRECTION_FIELD)
        if isinstance(asked, str):
            return asked, f"the request asked for {asked}"
        default = self.defaults[method].get(DIRECTION_FIELD)
        if not isinstance(default, str):
            return None  # the spec names no default: nothing is expected of the answer
        return default, f"the request named no direction, which defaults to {default}"

    @staticmethod
    def _expect_direction(
        expectation: Expectation,
        name: str,
        started: tuple[str, str] | None,
        thread: Thread,
    ) -> None:
        if started is not None:
            expectation.data[name], expectation.why[name] = started
        elif thread.direction is not None:
            expectation.data[name] = thread.direction
            expectation.why[name] = (
                f"the call started with direction {thread.direction} ({thread.start_fact})"
            )

    @staticmethod
    def _expect_count(
        expectation: Expectation, name: str, rule: Rule, thread: Thread, body: Mapping[str, Any]
    ) -> None:
        low = high = 0
        reasons = []
        for user in named_users(body):
            counted = {rule.users[state].counted for state in thread.user(user)}
            low += counted == {True}
            high += True in counted
            reasons.append(_user_reason(thread, user))
        if low == high:
            expectation.data[name] = low
        else:
            expectation.bounds[name] = (low, high)
        expectation.why[name] = "; ".join(reasons)

    @staticmethod
    def _expect_call_duration(
        expectation: Expectation, name: str, thread: Thread, end: Window
    ) -> None:
        if thread.started is None or end == (0.0, 0.0):
            expectation.bounds[name] = (0, None)
            return
        expectation.bounds[name] = duration_bounds(thread.started, end)
        expectation.why[name] = (
            f"the call started at step {thread.start_fact.step if thread.start_fact else '?'}, "
            f"{end[0] - thread.started[1]:.1f} to {end[1] - thread.started[0]:.1f} s before"
        )

    @staticmethod
    def _expect_dialog_duration(
        expectation: Expectation, name: str, thread: Thread, end: Window
    ) -> None:
        if thread.joined is False:
            expectation.data[name] = 0
            expectation.why[name] = "nobody joined this call"
        elif isinstance(thread.joined, tuple):
            expectation.bounds[name] = duration_bounds(thread.joined, end)
            expectation.why[name] = "the time since the first user joined"

    # -- judging an answer and learning from it -----------------------------------------------

    def observe(
        self,
        team: str,
        method: str,
        body: Mapping[str, Any],
        status: int,
        data: Any = None,
        sent: float = 0.0,
        received: float = 0.0,
    ) -> Verdict:
        """Judge the answer `status`/`data` to a valid request, then learn what it proves.

        `data` is the `data` member of the answer's envelope (None when absent). Any 2xx counts
        as a success here (status_code_conformance judges the exact code).
        """
        rule = RULES[method]
        thread = self.thread(team, str(body[THREAD_FIELD]))
        thread.steps += 1
        exchange = Exchange(thread.steps, method, dict(body), status, data, sent, received)
        thread.log.append(exchange)
        del thread.log[:-LOG_LIMIT]
        expectation = self.expect(team, method, body, sent, received)
        success = 200 <= status < 300
        if status == UNKNOWN_ID and expectation.unknown_ids:
            return Verdict(exchange.step, expectation, [], [])  # nothing done, nothing learnt
        if not success and status not in (409, UNKNOWN_ID) and status not in rule.refusals:
            if status >= 500:
                thread.forget()  # the operation may or may not have happened
            return Verdict(exchange.step, expectation, [], [])
        violations = self._judge(rule, self.data_kinds.get(method, {}), expectation, status, data)
        thread.flags = _decayed(thread.flags)
        if violations:
            # The server and the model disagree: from here on, the model learns the thread
            # anew from its answers, so that one fault is reported once, not at every step.
            thread.forget()
            return Verdict(exchange.step, expectation, violations, [], list(thread.log))
        fact = Fact(exchange.step, method, status)
        transitions = self._learn(rule, thread, body, status if not success else 200, data, fact)
        for name in transitions:
            self.exercised[name] += 1
        if thread.flags == {IDLE}:
            thread.log = [exchange]  # a known, idle thread: nothing before matters
        return Verdict(exchange.step, expectation, [], transitions)

    @staticmethod
    def _judge(
        rule: Rule, kinds: Mapping[str, DataKind], expected: Expectation, status: int, data: Any
    ) -> list[Breach]:
        success = 200 <= status < 300
        judged = 200 if success else status
        if judged not in expected.statuses:
            wanted = " or ".join(str(s) for s in sorted(expected.statuses))
            why = expected.why.get(str(min(expected.statuses - rule.refusals, default=0)), "")
            if status == UNKNOWN_ID:
                why = "every thread and user it names is known to exist (the fixtures)"
            text = f"expected {wanted}, got {status}" + (f": {why}" if why else "")
            return [Breach(STATUS, text)]
        if not success:
            return []
        out: list[Breach] = []
        fields = data if isinstance(data, dict) else {}
        if expected.no_data and data is not None:
            out.append(Breach(DATA, f"expected no data on {rule.method}, got {data!r}"))
        for name, value in expected.data.items():
            if name in fields and fields[name] != value:
                why = expected.why.get(name, "")
                out.append(Breach(name, f"expected {name} {value}, got {fields[name]!r}: {why}"))
        for name, (low, high) in expected.bounds.items():
            value = fields.get(name)
            if not isinstance(value, int) or isinstance(value, bool):
                continue  # a wrong type is the schema's business
            if value < low or (high is not None and value > high):
                top = "" if high is None else f" and {high}"
                reason = expected.why.get(name, "")
                text = f"expected {name} between {low}{top}, got {value}"
                out.append(Breach(name, text + (f": {reason}" if reason else "")))
        out += _dialog_within_call(kinds, fields)
        for name in expected.present:
            if name in fields and not (isinstance(fields[name], str) and fields[name]):
                out.append(Breach(name, f"expected {name} to be a URL, got {fields[name]!r}"))
        return out

    def _learn(
        self,
        rule: Rule,
        thread: Thread,
        body: Mapping[str, Any],
        status: int,
        data: Any,
        fact: Fact,
    ) -> list[str]:
        """Narrow the thread's possibilities by the answer; return the transitions that ran."""
        before = thread.flags
        if status in rule.refusals:
            return []
        if status == 409:
            consistent = {f for f in before if rule.failing_need(f) is not None}
            names = {rule.conflict_transition(rule.failing_need(f)) for f in consistent}  # type: ignore[arg-type]
            thread.flags = frozenset(consistent) or before
            self._note_flags(thread, before, fact)
            if thread.known("active") is False:
                self._no_call(thread)
            return sorted(names) if len(names) == 1 else []
        consistent = {f for f in before if rule.failing_need(f) is None}
        names = {rule.ok_transition()}
        for name, holds in rule.qualifiers:
            if consistent and holds(frozenset(consistent), thread.ended_before):
                names.add(name)
        thread.flags = frozenset(rule.apply(f) for f in consistent)
        self._note_flags(thread, before, fact)
        if rule.starts_call:
            direction = self._direction(rule.method, body)
            self._call_started(thread, direction[0] if direction else None, fact)
        elif rule.ends_call:
            thread.ended_before = True
            self._no_call(thread)
        elif rule.users:
            names |= self._count(rule, self.data_kinds[rule.method], thread, body, data, fact)
        return sorted(names, key=rules.TRANSITIONS.index)

    @staticmethod
    def _note_flags(thread: Thread, before: frozenset[Flags], fact: Fact) -> None:
        for name in Flags._fields:
            was = {getattr(f, name) for f in before}
            now = {getattr(f, name) for f in thread.flags}
            if len(now) == 1 and (was != now or name not in thread.flag_facts):
                thread.flag_facts[name] = fact

    @staticmethod
    def _no_call(thread: Thread) -> None:
        thread.users, thread.others, thread.user_facts = {}, frozenset({NEW}), {}
        thread.direction = thread.started = thread.start_fact = None
        thread.joined = None

    @staticmethod
    def _call_started(thread: Thread, direction: str | None, fact: Fact) -> None:
        thread.users, thread.others, thread.user_facts = {}, frozenset({NEW}), {}
        thread.direction = direction
        exchange = thread.log[-1]
        thread.started = (exchange.sent, exchange.received)
        thread.start_fact = fact
        thread.joined = False

    @staticmethod
    def _count(
        rule: Rule,
        kinds: Mapping[str, DataKind],
        thread: Thread,
        body: Mapping[str, Any],
        data: Any,
        fact: Fact,
    ) -> set[str]:
        users = named_users(body)
        field = next((name for name, kind in kinds.items() if kind == COUNT), None)
        count = data.get(field) if isinstance(data, dict) and field is not None else None
        low = sum(all(rule.users[s].counted for s in thread.user(u)) for u in users)
        high = sum(any(rule.users[s].counted for s in thread.user(u)) for u in users)
        names: set[str] = set()
        for user in users:
            states = thread.user(user)
            if isinstance(count, int) and low != high and count in (low, high):
                # The count settles every user the model was unsure of.
                states = frozenset(s for s in states if rule.users[s].counted == (count == high))
            steps = {rule.users[s] for s in states}
            if len(steps) == 1:
                names.add(next(iter(steps)).transition)
            thread.users[user] = frozenset(step.becomes for step in steps) or USER_STATES
            thread.user_facts[user] = fact
        if isinstance(count, int) and count > 0 and thread.joined is False:
            exchange = thread.log[-1]
            thread.joined = (exchange.sent, exchange.received)
        return names


def _dialog_within_call(kinds: Mapping[str, DataKind], fields: Mapping[str, Any]) -> list[Breach]:
    """A dialog (from the first user's joining) lasts no longer than its call."""
    by_kind = {kind: name for name, kind in kinds.items()}
    call, dialog = by_kind.get(CALL_DURATION), by_kind.get(DIALOG_DURATION)
    if call is None or dialog is None:
        return []
    call_seconds, dialog_seconds = fields.get(call), fields.get(dialog)
    if (
        isinstance(call_seconds, int)
        and isinstance(dialog_seconds, int)
        and dialog_seconds > call_seconds
    ):
        text = f"expected {dialog} <= {call}, got {dialog_seconds} > {call_seconds}"
        return [Breach(dialog, text)]
    return []


def _decayed(flags: frozenset[Flags]) -> frozenset[Flags]:
    """Audio may end on its own at any moment: where it played, it may have stopped."""
    return flags | {f._replace(audio=False) for f in flags if f.audio}


def _status_reason(rule: Rule, thread: Thread, flags: Iterable[Flags]) -> str:
    """Why the status is determined, in the contract's words, with the step behind it."""
    states = list(flags)
    failing = {rule.failing_need(f) for f in states}
    if failing == {None}:
        need_text = ", ".join(n.text for n in rule.needs)
        reads = {name for need in rule.needs for name in need.reads}
        prefix = f"{rule.method} needs {need_text}, and it has"
    else:
        need = next(n for n in failing if n is not None)
        reads = set(need.reads)
        prefix = f"{rule.method} needs {need.text}: {need.missing}"
    facts = sorted(
        {thread.flag_facts[r] for r in reads if r in thread.flag_facts}, key=lambda f: f.step
    )
    return prefix + (f" ({'; '.join(map(str, facts))})" if facts else "")


def _user_reason(thread: Thread, user: str) -> str:
    states = thread.user(user)
    fact = thread.user_facts.get(user)
    if len(states) == 1:
        state = next(iter(states))
        if fact is None and state == NEW and thread.start_fact is not None:
            fact = thread.start_fact
        where = f" ({fact})" if fact else ""
        return f"user {_short(user)} {USER_WORDS[state]}{where}"
    return f"user {_short(user)} may be {' or '.join(sorted(states))}"
