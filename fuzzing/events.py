"""The call events of a fuzzing run: receive them, and hold them to the answers that caused them.

    with events.listening(Receiver(bot), team) as ledger:     # ledger.url: the webhook
        ...                       # start the server with its webhook at ledger.url, fuzz it
        events.conclude(result)   # wait for late events, then their violations into `result`

While a ledger is active, every answer of the run is noted with the events it causes
(`contract.expected_events`): the contract model's judge tells it of each answer it sees (the
walk, schemathesis's phases), the boundary phase of each case it sends (`answered`). At the end
`conclude` waits up to a grace for the events still due (`--events-grace`), then pairs what
came with what was caused (`fuzzing.event_match`) and adds one violation of the check
`events` per kind of fault and event type, naming what was expected and what came, with the
requests of the thread up to the one that caused it (its replay file). The server must deliver
to this one webhook only for the run's bot: a delivery another bot signs is reported.

Without a ledger (a server at `--url` with no `--events-listen`) events are not judged, and
the summary says so.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from contract.expected_events import expected
from fuzzing import request_signing
from fuzzing.event_match import (
    ESTIMATED_SLACK_SECONDS,
    EXACT_SLACK_SECONDS,
    KINDS,
    MISSING,
    Cause,
    Finding,
    Outcome,
    match,
)
from fuzzing.event_receiver import Receiver

if TYPE_CHECKING:
    from fuzzing.coverage import Coverage
    from fuzzing.oracle import Judge
    from fuzzing.results import RunResult, Violation

CHECK = "events"
#: Seconds the end of a run waits, at most, for events still due (`--events-grace`).
DEFAULT_GRACE = 5.0
#: Once nothing is due, how long no delivery must come before the events are judged: a
#: server's late extra event arrives within it.
QUIET_SECONDS = 0.3
POLL_SECONDS = 0.1
#: The phases that note the time a request went out as it does (not an estimate).
EXACT_PHASES = ("walk", "boundaries", "replay")


@dataclass
class Ledger:
    """The answers of a run and the events they cause, and the receiver of what came."""

    team: str
    receiver: Receiver
    causes: list[Cause] = field(default_factory=list)
    #: Per thread, every answer on it as a step of a replay file.
    steps: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Re-entrant: SIGINT raises KeyboardInterrupt in the main thread wherever it is, even between
    # taking this lock and the `with` block that releases it; the cleanup after it takes the
    # lock again in the same thread, which a plain lock would deadlock on.
    lock: threading.RLock = field(default_factory=threading.RLock)
    #: When the run began (wall clock): a violation's `first_seen` counts from it.
    started: float = field(default_factory=time.time)
    #: How long an event may be late (`--events-grace`).
    grace: float = DEFAULT_GRACE
    #: When `shown` last looked (monotonic), and what it found.
    looked: float = 0.0
    found: bool = False

    def shown(self) -> bool:
        """Whether a fault of the events shows already (a missing event: once its answer is
        older than the grace), looking at most once a second (`--stop-on events`)."""
        if self.found or time.monotonic() - self.looked < 1.0:
            return self.found
        self.looked = time.monotonic()
        late = time.time() - self.grace
        self.found = any(
            finding.kind != MISSING or (finding.cause is not None and finding.cause.answered < late)
            for finding in self.outcome().findings
        )
        return self.found

    @property
    def url(self) -> str:
        return self.receiver.url

    def answered(
        self,
        method: str,
        team: str,
        body: Any,
        status: int | None,
        data: Any = None,
        *,
        sent: float,
        received: float,
        before: Mapping[str, frozenset[bool]] | None = None,
        phase: str = "",
    ) -> None:
        """Note an answer of the run: `before` is what the contract model knew of the named
        users before it judged it (None: it did not judge it); `phase` is the walk's or the
        boundaries' (the time `sent` was taken as the request went out), else schemathesis's
        (an estimate)."""
        thread = body.get("threadId") if isinstance(body, dict) else None
        if not isinstance(thread, str):
            return  # no thread, no event of the contract
        if team != self.team:
            before = None  # another team's answer: whatever it caused is not judged
        caused = expected(method, body, status, data, before)
        with self.lock:
            steps = self.steps.setdefault(thread, [])
            steps.append(
                {
                    "step": len(steps) + 1,
                    "method": method,
                    "body": body,
                    "status": status,
                    "data": data,
                }
            )
            slack = EXACT_SLACK_SECONDS if phase in EXACT_PHASES else ESTIMATED_SLACK_SECONDS
            self.causes.append(
                Cause(thread, len(steps), method, body, status, sent, received, caused, slack)
            )

    def outcome(self) -> Outcome:
        with self.lock:
            causes = list(self.causes)
        return match(causes, self.receiver.arrivals())

    def settle(self, grace: float) -> Outcome:
        """Wait until every event due has come and deliveries went quiet, at most `grace`
        seconds; the outcome then."""
        deadline = time.monotonic() + grace
        while True:
            outcome = self.outcome()
            quiet = time.time() - self.receiver.last_arrival() >= QUIET_SECONDS
            if (outcome.complete and quiet) or time.monotonic() >= deadline:
                return outcome
            time.sleep(POLL_SECONDS)

    def sequence(self, cause: Cause) -> list[dict[str, Any]]:
        """The steps of the cause's thread that lead to it, from the latest call it started."""
        with self.lock:
            steps = self.steps.get(cause.thread, [])[: cause.step]
        starts = [
            i
            for i, s in enumerate(steps)
            if s["method"] == "call/start" and isinstance(s["status"], int) and s["status"] < 300
        ]
        return list(steps[starts[-1] if starts else 0 :])


_ACTIVE: list[Ledger] = []


def current() -> Ledger | None:
    return _ACTIVE[0] if _ACTIVE else None


@contextmanager
def listening(receiver: Receiver, team: str, grace: float = DEFAULT_GRACE) -> Iterator[Ledger]:
    """The receiver running and the run's ledger active, for the block."""
    with receiver:
        ledger = Ledger(team, receiver, grace=grace)
        _ACTIVE[:] = [ledger]
        try:
            yield ledger
        finally:
            _ACTIVE.clear()


def shown(check: str | None) -> bool:
    """Whether `check` is the events' and the active ledger shows a fault already."""
    ledger = current()
    return check == CHECK and ledger is not None and ledger.shown()


def follow(judge: Judge) -> None:
    """Have the judge tell the active ledger (if any) of every answer it sees."""
    ledger = current()
    judge.listener = ledger.answered if ledger is not None else None


def answered(method: str, team: str, body: Any, status: int | None, sent: float) -> None:
    """Note an answer the contract model does not judge (the boundary phase's)."""
    ledger = current()
    if ledger is not None:
        ledger.answered(
            method, team, body, status, sent=sent, received=time.time(), phase="boundaries"
        )


def parse_address(text: str) -> tuple[str, int]:
    """`HOST:PORT` as an address to listen on; ValueError names what is wrong."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{text!r} is not HOST:PORT (a port from 0 to 65535)")
    return host.strip("[]"), int(port)


def conclude(result: RunResult, grace: float = DEFAULT_GRACE) -> None:
    """Judge the run's events into `result` (its violations, `events` figures): after
    waiting up to `grace` seconds for those still due. Without a ledger: say they were not."""
    ledger = current()
    if ledger is None:
        result.events = {
            "judged": False,
            "why": "no --events-listen: start the server with its webhook at an address of "
            "the fuzzer and give that address as --events-listen HOST:PORT",
        }
        return
    started = time.monotonic()
    outcome = ledger.settle(grace)
    arrivals = ledger.receiver.arrivals()
    types: dict[str, int] = {}
    for arrival in arrivals:
        if not arrival.malformed:
            types[arrival.event_type] = types.get(arrival.event_type, 0) + 1
    judged = sum(1 for c in ledger.causes if c.caused.judged)
    result.events = {
        "judged": True,
        "webhook": ledger.url,
        "answers": len(ledger.causes),
        "answers_judged": judged,
        "deliveries": len(arrivals),
        "repeats": outcome.repeats,
        "distinct": outcome.distinct,
        "types": types,
        "waited": round(time.monotonic() - started, 3),
        "complete": outcome.complete,
    }
    _tally(result, ledger, outcome.findings)
    result.violations += violations(outcome.findings, ledger, result)


def _tally(result: RunResult, ledger: Ledger, findings: list[Finding]) -> None:
    """Per operation, the answers whose events kept the contract and those that did not."""
    faulty = {id(f.cause) for f in findings if f.cause is not None}
    for cause in ledger.causes:
        counts = result.tally.setdefault((_operation(cause.method), CHECK), [0, 0])
        counts[1 if id(cause) in faulty else 0] += 1
    for finding in findings:
        if finding.cause is None:
            result.tally.setdefault((f"webhook {finding.event_type}", CHECK), [0, 0])[1] += 1


def _curl(result: RunResult, team: str, cause: Cause) -> str:
    """A shell snippet that signs the request of `cause` again and sends it."""
    url = f"{result.url.rstrip('/')}/{team}/{cause.method}"
    return request_signing.shell(url, json.dumps(cause.body).encode(), bot_id=result.bot_id or None)


def _operation(method: str) -> str:
    return f"POST /{{teamId}}/{method}"


def violations(findings: list[Finding], ledger: Ledger, result: RunResult) -> list[Violation]:
    """One violation per kind of fault and event type, in the order of `KINDS`; how many more
    findings of the same kind it stands for is added to its reason."""
    from fuzzing.results import Violation

    groups: dict[tuple[str, str], list[Finding]] = {}
    for finding in sorted(findings, key=lambda f: KINDS.index(f.kind)):
        groups.setdefault((finding.kind, finding.event_type), []).append(finding)
    out = []
    judged = time.time()
    for (kind, event_type), group in groups.items():
        first = next((f for f in group if f.cause is not None), group[0])
        cause = first.cause
        more = f" (and {len(group) - 1} more like it)" if len(group) > 1 else ""
        violation = Violation(
            check=CHECK,
            operation=_operation(cause.method) if cause else f"webhook {event_type}",
            reason=f"{kind}: {first.reason}{more}",
            curl=_curl(result, ledger.team, cause) if cause else "",
            phase=CHECK,
            first_seen=min(f.seen or judged for f in group) - ledger.started,
            status=cause.status if cause else None,
            body=cause.body if cause else None,
            expected={
                "kind": kind,
                "event_type": event_type,
                "expected": first.expected,
                "came": first.came,
                "caused": cause.caused.describe() if cause else None,
            },
            sequence=ledger.sequence(cause) if cause else [],
            team=ledger.team,
            thread=first.thread,
        )
        out.append(violation)
    return out


def event_lines(result: RunResult, cover: Coverage) -> list[str]:
    """Whether the call events were judged, how many came, and the event types seen (the
    summary's lines and the HTML page's)."""
    facts = result.events
    if not facts.get("judged"):
        return [f"Events: not judged ({facts.get('why', 'no receiver')})"] if facts else []
    seen = [name for name, n in cover.events.items() if n]
    never = [name for name, n in cover.events.items() if not n]
    return [
        f"Events: {facts['distinct']} distinct events came to {facts['webhook']} "
        f"({facts['repeats']} repeated deliveries), for {facts['answers']} answers "
        f"({facts['answers_judged']} judged); waited {facts['waited']:.1f} s at the end",
        f"Event types: {len(seen)} of {len(cover.events)} seen"
        + (f" (never: {', '.join(never)})" if never else ""),
    ]
