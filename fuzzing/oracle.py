"""The oracle of a run: every answer judged against the contract model (`contract.model`).

A `Judge` belongs to one run: the walk phase (`fuzzing.walk`), the `contract_model` check of
schemathesis's phases and `python -m fuzzing replay` feed it the requests they sent and the
answers they got. It judges valid JSON requests signed by the run's bot for the team under test
(the body validates against the operation's request schema of openapi.yaml); anything else is the
job of schemathesis's own checks, but an invalid request that succeeded anyway may have
changed its thread, so the model forgets that thread instead of guessing.

Each violation is kept as a `ModelViolation` with what the model expected, why, and the whole
sequence of requests on its thread that led to it, ready for a replay file.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from contract import demo
from contract.expected_events import possibly_counted
from contract.fixtures import Fixtures
from contract.model import Model
from contract.observations import Exchange, Verdict
from contract.rules import RULES, THREAD_FIELD
from contract.spec import Spec, load
from fuzzing import request_signing

#: The check that holds each answer to the contract model (the walk's, and schemathesis's).
CHECK = "contract_model"


@dataclass
class ModelViolation:
    """One answer that broke the contract model, and the sequence that led to it."""

    method: str
    team: str
    thread: str
    step: int
    status: int
    reason: str
    message: str
    expected: dict[str, Any]
    sequence: list[dict[str, Any]]
    #: What the violation is about, for telling distinct faults apart (`call/end callDuration`).
    kind: str
    phase: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "team": self.team,
            "thread": self.thread,
            "step": self.step,
            "status": self.status,
            "reason": self.reason,
            "expected": self.expected,
            "sequence": self.sequence,
            "phase": self.phase,
        }


@dataclass
class Judge:
    """The contract model of one run, and what it found."""

    team: str
    bot: request_signing.Bot
    spec: Spec = field(default_factory=load)
    #: The threads and users known to exist on the target (`--fixtures`; None: any id may not).
    known: Fixtures | None = None
    #: The model of `spec` (it names the fields of each operation's answer).
    model: Model = field(init=False)
    violations: list[ModelViolation] = field(default_factory=list)
    #: Observed HTTP statuses per `{method}`, of every request (valid or not).
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    judged: int = 0
    # Re-entrant: SIGINT raises KeyboardInterrupt in the main thread wherever it is, even between
    # taking this lock and the `with` block that releases it; the cleanup after it takes the
    # lock again in the same thread, which a plain lock would deadlock on.
    lock: threading.RLock = field(default_factory=threading.RLock)
    #: Told of every answer the judge sees, judged or not, with what the model knew of the
    #: named users before (None: not judged): `fuzzing.events` expects the events it causes.
    listener: Callable[..., None] | None = None

    def __post_init__(self) -> None:
        import jsonschema_rs

        self.model = Model(self.spec, known=self.known)
        self._validators = {
            op.method: jsonschema_rs.validator_for(self.spec.schema(op.request_schema))
            for op in self.spec
            if op.request_schema is not None
        }
        #: The violation of each schemathesis case that had one (see `fuzzing.checks`).
        self.by_case: dict[str, ModelViolation] = {}

    @classmethod
    def standalone(cls) -> Judge:
        """The judge of a plain `st run`: it fuzzes the demo team (`schemathesis.toml`); a run
        of `python -m fuzzing` activates its own judge instead (`activate`)."""
        return cls(demo.TEAM, request_signing.active() or request_signing.credentials())

    def valid(self, method: str, body: Any) -> bool:
        validator = self._validators.get(method)
        return validator is not None and isinstance(body, dict) and validator.is_valid(body)

    def observe(
        self,
        method: str,
        team: str,
        *,
        signed: bool,
        content_type: str | None,
        body: Any,
        status: int,
        answer: Any,
        sent: float,
        received: float,
        phase: str = "",
    ) -> ModelViolation | None:
        """Judge one exchange; return the violation, if any (also kept in `violations`).

        `signed`: the request carried the run's bot's valid signature of its body.
        """
        with self.lock:
            self.statuses.setdefault(method, Counter())[status] += 1
            if method not in RULES:
                # An operation the model has no rule for (new in the spec): it is not judged,
                # and the thread it may have acted on is no longer known.
                self._forget_after(body, status)
                self._tell(method, team, body, status, answer, (sent, received), None, phase)
                return None
            media = (content_type or "").split(";", 1)[0].strip().lower()
            if (
                team != self.team
                or not signed
                or media != "application/json"
                or not self.valid(method, body)
            ):
                self._forget_after(body, status)  # it may have acted on the thread
                self._tell(method, team, body, status, answer, (sent, received), None, phase)
                return None
            self.judged += 1
            data = answer.get("data") if isinstance(answer, dict) else None
            users = self.model.thread(team, str(body[THREAD_FIELD])).user
            before = possibly_counted(users, RULES[method], body)
            verdict = self.model.observe(team, method, body, status, data, sent, received)
            judged = None if verdict.violations else before  # a fault is reported once
            self._tell(method, team, body, status, answer, (sent, received), judged, phase)
            if not verdict.violations:
                return None
            return self._record(method, team, body[THREAD_FIELD], status, verdict, phase=phase)

    def _tell(
        self,
        method: str,
        team: str,
        body: Any,
        status: int,
        answer: Any,
        times: tuple[float, float],
        before: Any,
        phase: str,
    ) -> None:
        if self.listener is not None:
            data = answer.get("data") if isinstance(answer, dict) else None
            sent, received = times
            self.listener(
                method,
                team,
                body,
                status,
                data,
                sent=sent,
                received=received,
                before=before,
                phase=phase,
            )

    def _forget_after(self, body: Any, status: int) -> None:
        """Forget the thread of a request the model does not judge, unless it was refused."""
        thread = body.get(THREAD_FIELD) if isinstance(body, dict) else None
        if isinstance(thread, str) and not 400 <= status < 500:
            self.model.forget(self.team, thread)

    def count(self, method: str, status: int) -> None:
        """An answer to a request the judge did not see (another team's probe): coverage only."""
        with self.lock:
            self.statuses.setdefault(method, Counter())[status] += 1

    def forget(self, thread: str) -> None:
        with self.lock:
            self.model.forget(self.team, thread)

    def _record(
        self, method: str, team: str, thread: str, status: int, verdict: Verdict, *, phase: str
    ) -> ModelViolation:
        reason = "; ".join(verdict.violations)
        message = f"{method} (thread {thread}, step {verdict.step}): {reason}"
        violation = ModelViolation(
            method=method,
            team=team,
            thread=thread,
            step=verdict.step,
            status=status,
            reason=reason,
            message=message,
            expected=verdict.expected.as_dict(),
            sequence=[_step(e) for e in verdict.sequence],
            kind=f"{method} {verdict.breaches[0].subject}",
            phase=phase,
        )
        self.violations.append(violation)
        return violation

    def caught(self, case_id: str, violation: ModelViolation | None) -> None:
        """Note that the answer to schemathesis's case `case_id` broke the model as `violation`."""
        if violation is not None:
            with self.lock:
                self.by_case[case_id] = violation


def _step(exchange: Exchange) -> dict[str, Any]:
    return exchange.as_dict()


def decode(content: bytes | str | None) -> Any:
    """A JSON body, or None."""
    if content is None:
        return None
    try:
        return json.loads(content)
    except (UnicodeDecodeError, ValueError):
        return None


_ACTIVE: list[Judge] = []


def activate(judge: Judge | None) -> None:
    """Make `judge` the one the `contract_model` check of the next run uses."""
    _ACTIVE.clear()
    if judge is not None:
        _ACTIVE.append(judge)


def current() -> Judge | None:
    return _ACTIVE[0] if _ACTIVE else None
