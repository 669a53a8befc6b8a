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
from fuzzing import platform_events
from fuzzing.oracle import Judge
from fuzzing.results import Options, WalkFigures
from fuzzing.schema_values import branches, minimal_values

#: The walk's own threads (no other phase uses them) and users.
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


def request_shapes(spec: Spec) -> dict[str, Shape]:
    """The shape of each operation's requests (read once per walk)."""
    return {method: _shape(spec, method) for method in RULES}


def candidates(
    shaped: dict[str, Shape], thread: str, rng: random.Random
) -> list[tuple[str, dict[str, Any]]]:
    """Valid requests on `thread`: every operation, with a few user combinations."""
    out: list[tuple[str, dict[str, Any]]] = []
    for method in RULES:
        shape = shaped[method]
        for body in shape.bodies:
            base = {**body, THREAD_FIELD: thread}
            if USER_FIELD in base:
                out += [(method, {**base, USER_FIELD: user}) for user in USERS]
            elif USERS_FIELD in base:
                pair = rng.sample(USERS, 2)
                out.append((method, {**base, USERS_FIELD: pair}))
                out.append((method, {**base, USERS_FIELD: list(USERS)}))
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
        return Shape([{}], {})
    bodies = [body for body in minimal_values(spec.schema(name), name) if isinstance(body, dict)]
    return Shape(bodies, _other_values(spec, name))


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
    judge: Judge, team: str, rng: random.Random, thread: str, shaped: dict[str, Shape]
) -> tuple[str, dict[str, Any]]:
    options = candidates(shaped, thread, rng)
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
    plan = [(ends, {THREAD_FIELD: thread}) for thread in THREADS]
    shaped = request_shapes(judge.spec)
    walk_started = time.monotonic()
    while figures.steps < options.walk_steps and time.monotonic() < deadline:
        method, body = (
            plan.pop(0) if plan else choose(judge, options.team, rng, rng.choice(THREADS), shaped)
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
