"""The walk phase: short, deterministic, model-guided sequences before schemathesis starts.

Random requests rarely meet the combinations where servers go wrong (a user invited twice,
excluded then invited, unpaused without a pause, a recording stopped that never started, a
call ended while it records). The walk sends valid requests over a few threads and users of
its own, each one chosen among the candidates that can run a transition of the contract model
that has not run yet (ties broken by a random generator seeded with the run's seed), and has
every answer judged by the model. A fault the model catches is usually found within seconds.
"""

from __future__ import annotations

import json
import random
import time
from typing import Any, NamedTuple

import requests

from contract import demo
from contract.rules import RULES, THREAD_FIELD, USER_FIELD, USERS_FIELD
from contract.spec import Spec, follow
from fuzzing import oracle, platform_events
from fuzzing.oracle import Judge
from fuzzing.results import Options, WalkFigures
from fuzzing.schema_values import branches, minimal_values, valid

#: The walk's own threads (no other phase uses them) and users; with `--fixtures`, the first
#: two threads, the users and the first audio file of the fixtures instead (the file in every
#: field whose schema accepts it; without one, the value the spec's schema gives).
THREADS = (demo.thread(9001), demo.thread(9002))
USERS = demo.USERS
#: Share of steps chosen at random among all candidates, not by the transitions they may run.
EXPLORE = 0.2
#: The walk takes at most this share of the run's budget.
BUDGET_SHARE = 0.25
TIMEOUT_SECONDS = 10.0


class Shape(NamedTuple):
    """What the spec says of an operation's valid requests, for the walk."""

    #: The smallest valid body of each alternative of the request schema, as the boundary
    #: phase derives it (`fuzzing.schema_values.minimal_values`).
    bodies: list[dict[str, Any]]
    #: Each optional field with a default, and the values it may be given besides it.
    others: dict[str, list[Any]]
    #: The resolved schema of each field of the bodies.
    fields: dict[str, Any]


def request_shapes(spec: Spec) -> dict[str, Shape]:
    """The shape of each operation's requests (read once per walk)."""
    return {method: _shape(spec, method) for method in RULES}


class Cast(NamedTuple):
    """The threads, users and file the walk names, and the operations it leaves alone."""

    threads: tuple[str, ...] = THREADS
    users: tuple[str, ...] = USERS
    file_url: str | None = None
    left_out: tuple[str, ...] = ()

    @classmethod
    def of(cls, options: Options) -> Cast:
        fixtures = options.fixtures
        if fixtures is None:
            return cls(left_out=options.left_out)
        return cls(
            fixtures.threads[:2],
            fixtures.users,
            fixtures.audio[0] if fixtures.audio else None,
            options.left_out,
        )


#: The walk's own threads, users and file, every operation.
DEFAULT_CAST = Cast()


def candidates(
    shaped: dict[str, Shape], thread: str, rng: random.Random, cast: Cast = DEFAULT_CAST
) -> list[tuple[str, dict[str, Any]]]:
    """Valid requests on `thread`: every operation not left out, with a few user combinations."""
    out: list[tuple[str, dict[str, Any]]] = []
    for method in RULES:
        if method in cast.left_out:
            continue
        shape = shaped[method]
        for body in shape.bodies:
            base = _with_file({**body, THREAD_FIELD: thread}, shape, cast.file_url)
            if USER_FIELD in base:
                out += [(method, {**base, USER_FIELD: user}) for user in cast.users]
            elif USERS_FIELD in base:
                pair = rng.sample(cast.users, min(2, len(cast.users)))
                out.append((method, {**base, USERS_FIELD: pair}))
                out.append((method, {**base, USERS_FIELD: list(cast.users)}))
            else:
                out.append((method, base))
                out += [
                    (method, {**base, name: value})
                    for name, values in shape.others.items()
                    for value in values
                ]
    return out


def _shape(spec: Spec, method: str) -> Shape:
    name = spec.operation(method).request_schema
    if name is None:
        return Shape([{}], {}, {})
    schema = spec.schema(name)
    bodies = [body for body in minimal_values(schema, name) if isinstance(body, dict)]
    fields = {
        field_name: node
        for branch in branches(schema)
        for field_name, node in branch.get("properties", {}).items()
    }
    return Shape(bodies, _other_values(spec, name), fields)


def _with_file(body: dict[str, Any], shape: Shape, file_url: str | None) -> dict[str, Any]:
    """`body` with `file_url` (the fixtures' file) in each field whose schema accepts it."""
    if file_url is None:
        return body
    return {
        name: file_url if name in shape.fields and valid(shape.fields[name], file_url) else value
        for name, value in body.items()
    }


def _other_values(spec: Spec, name: str) -> dict[str, list[Any]]:
    """The values of each optional field with a default besides its default."""
    schema = follow(spec.document, {"$ref": f"#/components/schemas/{name}"})
    found: dict[str, list[Any]] = {}
    for branch in branches(schema):
        for field_name, node in branch.get("properties", {}).items():
            # The default stands beside the `$ref` to the values: read it before following it.
            if "default" in node:
                values = follow(spec.document, node).get("enum", [])
                found[field_name] = [value for value in values if value != node["default"]]
    return found


def choose(
    judge: Judge,
    team: str,
    rng: random.Random,
    thread: str,
    shaped: dict[str, Shape],
    cast: Cast = DEFAULT_CAST,
) -> tuple[str, dict[str, Any]]:
    options = candidates(shaped, thread, rng, cast)
    if rng.random() < EXPLORE:
        return rng.choice(options)
    exercised = judge.model.exercised
    scored = [
        (sum(1 for name in judge.model.possible(team, m, b) if not exercised[name]), m, b)
        for m, b in options
    ]
    best = max(score for score, _, _ in scored)
    return rng.choice([(m, b) for score, m, b in scored if score == best])


def run(options: Options, judge: Judge, *, started: float) -> WalkFigures:
    """Walk for `options.walk_steps` requests (or its share of the budget); return its figures."""
    rng = random.Random(options.seed)
    session = requests.Session()
    session.headers["Content-Type"] = "application/json"
    deadline = time.monotonic() + max(1.0, options.budget * BUDGET_SHARE)
    base = options.url.rstrip("/")
    figures = WalkFigures()
    # First end a call in each thread: its answer tells the model the thread's state.
    ends = next(method for method, rule in RULES.items() if rule.ends_call)
    cast = Cast.of(options)
    plan = [(ends, {THREAD_FIELD: t}) for t in cast.threads if ends not in cast.left_out]
    shaped = request_shapes(judge.spec)
    walk_started = time.monotonic()
    stops_on_a_violation = options.stop_on == oracle.CHECK
    while figures.steps < options.walk_steps and time.monotonic() < deadline:
        if stops_on_a_violation and judge.violations:
            break  # `--stop-on contract_model`: the walk found one
        method, body = (
            plan.pop(0)
            if plan
            else choose(judge, options.team, rng, rng.choice(cast.threads), shaped, cast)
        )
        sent = time.time()
        try:
            data = json.dumps(body).encode()
            answer = session.post(
                f"{base}/{options.team}/{method}",
                data=data,
                headers=options.bot.headers(data),
                timeout=TIMEOUT_SECONDS,
            )
        except requests.RequestException:
            break  # an unreachable server is reported by the phases that follow
        received = time.time()
        figures.steps += 1
        try:
            content = answer.json()
        except ValueError:
            content = None
        violation = judge.observe(
            method,
            options.team,
            signed=True,
            content_type="application/json",
            body=body,
            status=answer.status_code,
            answer=content,
            sent=sent,
            received=received,
            phase="walk",
        )
        if violation is not None:
            figures.found.append((violation, time.monotonic() - started))
    platform_events.run(options, judge, session, THREADS, USERS)
    session.close()
    figures.seconds = time.monotonic() - walk_started
    return figures
