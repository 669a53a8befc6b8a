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
from typing import TYPE_CHECKING, Any

import requests

from contract import demo
from contract.rules import RULES
from fuzzing import platform_events

if TYPE_CHECKING:
    from fuzzing.judge import Judge
    from fuzzing.runner import Options

#: The walk's own threads (no other phase uses them) and users.
THREADS = (demo.thread(9001), demo.thread(9002))
USERS = demo.USERS
AUDIO_URL = "https://files.example.com/walk/tone.wav"
#: Share of steps chosen at random among all candidates, not by the transitions they may run.
EXPLORE = 0.2
#: The walk takes at most this share of the run's budget.
BUDGET_SHARE = 0.25
TIMEOUT_SECONDS = 10.0


def candidates(thread: str, rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    """Valid requests on `thread`: every operation, with a few user combinations."""
    out: list[tuple[str, dict[str, Any]]] = []
    for method, rule in RULES.items():
        base: dict[str, Any] = {"threadId": thread}
        if method == "call/start":
            out += [(method, base), (method, {**base, "direction": "incoming"})]
        elif method == "call.audio/play":
            out.append((method, {**base, "fileUrl": AUDIO_URL}))
        elif rule.count_field is not None:
            for user in USERS:
                out.append((method, {**base, "userId": user}))
            pair = rng.sample(USERS, 2)
            out.append((method, {**base, "userIds": pair}))
            out.append((method, {**base, "userIds": list(USERS)}))
        else:
            out.append((method, base))
    return out


def choose(judge: Judge, team: str, rng: random.Random, thread: str) -> tuple[str, dict[str, Any]]:
    options = candidates(thread, rng)
    if rng.random() < EXPLORE:
        return rng.choice(options)
    exercised = judge.model.exercised
    scored = [
        (sum(1 for name in judge.model.possible(team, m, b) if not exercised[name]), m, b)
        for m, b in options
    ]
    best = max(score for score, _, _ in scored)
    return rng.choice([(m, b) for score, m, b in scored if score == best])


def run(options: Options, judge: Judge, *, started: float) -> dict[str, Any]:
    """Walk for `options.walk_steps` requests (or its share of the budget); return its figures."""
    rng = random.Random(options.seed)
    session = requests.Session()
    session.headers["Content-Type"] = "application/json"
    deadline = time.monotonic() + max(1.0, options.budget * BUDGET_SHARE)
    base = options.url.rstrip("/")
    first_seen: dict[str, float] = {}
    steps = 0
    plan = [("call/end", {"threadId": thread}) for thread in THREADS]  # learn each thread
    walk_started = time.monotonic()
    while steps < options.walk_steps and time.monotonic() < deadline:
        method, body = (
            plan.pop(0) if plan else choose(judge, options.team, rng, rng.choice(THREADS))
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
        steps += 1
        try:
            content = answer.json()
        except ValueError:
            content = None
        violation = judge.judge(
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
            first_seen[violation.message] = time.monotonic() - started
    platform_events.run(options, judge, session, THREADS, USERS)
    session.close()
    return {
        "steps": steps,
        "seconds": round(time.monotonic() - walk_started, 3),
        "first_seen": first_seen,
    }
