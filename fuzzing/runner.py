"""Run schemathesis against one server and collect what it found.

`run()` loads `openapi.yaml` with the settings of `schemathesis.toml`, adds what belongs to this
run (base URL, team, bot, seed, time budget), drives schemathesis's engine through all its
phases and folds the engine's events into a `RunResult`: cases sent, checks passed and failed
per operation, and one `Violation` per distinct failure with a shell snippet that signs the
request again and sends it with curl (`fuzzing.request_signing.shell`). Rendering that result is
`fuzzing.report`'s job.

Longer than 300 lines on purpose: the engine's events, the violations they become and the
signed reproductions share one collector; split apart, each piece would re-read the events.
"""

from __future__ import annotations

import os
import shlex
import sys
import threading
import time
import tomllib
from collections.abc import Callable
from typing import Any, NamedTuple

from contract import demo
from contract.fixtures import Fixtures
from contract.rules import RULES, THREAD_FIELD, UNKNOWN_ID
from contract.spec import load
from fuzzing import events as call_events
from fuzzing import ids, oracle, request_signing, stopping, walk
from fuzzing.oracle import Judge, ModelViolation, activate
from fuzzing.results import (
    DEFAULT_CONFIG,
    PASSES_DONE,
    ROOT,
    STOPPED_ON,
    ConfigurationError,
    Options,
    RunResult,
    Violation,
    WalkFigures,
)

__all__ = [
    "DEFAULT_CONFIG",
    "ROOT",
    "ConfigurationError",
    "Options",
    "RunResult",
    "Violation",
    "WalkFigures",
    "run",
]


def for_the_run(raw: dict[str, Any], team: str, bot_id: str) -> None:
    """Put the run's team and bot where `schemathesis.toml` names the demo ones.

    The file names the demo team and bot so that a plain `st run` works as it is; a run of
    `python -m fuzzing` fuzzes its own `--team` as its own `--bot-id`.
    """
    parameters = raw.get("parameters", {})
    for name, value in parameters.items():
        if value == demo.TEAM:
            parameters[name] = team
    for scheme in raw.get("auth", {}).get("openapi", {}).values():
        if scheme.get("api_key") == demo.BOT_ID:
            scheme["api_key"] = bot_id


def with_fixtures(raw: dict[str, Any], fixtures: Fixtures) -> None:
    """Ids drawn from the fixtures: schemathesis's dictionaries of threads and users are
    theirs, and a valid request may meet an id outside them (a list of more users than the
    fixtures have), which the target may answer 404: the contract model judges those."""
    dictionaries = raw.setdefault("dictionaries", {})
    dictionaries.setdefault("threads", {})["values"] = list(fixtures.threads)
    dictionaries.setdefault("users", {})["values"] = list(fixtures.users)
    acceptance = raw.setdefault("checks", {}).setdefault("positive_data_acceptance", {})
    statuses = acceptance.setdefault("expected-statuses", ["2XX"])
    if str(UNKNOWN_ID) not in statuses:
        statuses.append(str(UNKNOWN_ID))


def load_schema(options: Options) -> Any:
    """The spec loaded with `schemathesis.toml` plus this run's URL, team, bot, seed, budget."""
    import schemathesis
    from schemathesis.config import ConfigError

    import fuzzing.checks  # noqa: F401  (registers the custom checks)

    try:
        raw = tomllib.loads(options.config.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read {options.config}: {exc}") from None
    raw.pop("hooks", None)  # already imported above
    raw["base-url"] = options.url.rstrip("/")
    raw["seed"] = options.seed
    raw["max-time"] = options.budget
    if options.max_failures is not None:
        raw["max-failures"] = options.max_failures
    for_the_run(raw, options.team, options.bot.bot_id)
    if options.fixtures is not None:
        with_fixtures(raw, options.fixtures)
    # Operations left out are turned off as an `[[operations]]` entry of the file would.
    raw.setdefault("operations", []).extend(
        {"include-operation-id": load().operation(method).operation_id, "enabled": False}
        for method in options.left_out
    )
    try:
        config = schemathesis.Config.from_dict(raw, base_dir=str(options.config.parent))
        return schemathesis.openapi.from_path(options.spec, config=config)
    except (ConfigError, OSError) as exc:
        raise ConfigurationError(
            f"cannot load {options.spec} with {options.config}: {exc}"
        ) from None


def _signed_reproduction(curl: str) -> str:
    """schemathesis's curl command as a snippet that signs the body again when it runs.

    A request that carried all three signature headers is signed afresh (the run's signature
    expires); one without them (an `ignored_auth` probe) is shown as it was sent.
    """
    try:
        words = shlex.split(curl)
    except ValueError:
        return curl
    headers: list[str] = []
    body = b""
    url = ""
    content_type: str | None = None
    index = 1
    while index < len(words):
        word = words[index]
        value = words[index + 1] if index + 1 < len(words) else ""
        if word == "-H":
            name = value.partition(":")[0].strip().rstrip(";")
            if name.lower() == "content-type":
                content_type = value.partition(":")[2].strip()
            elif not name.lower().startswith("x-schemathesis"):
                headers.append(value)
            index += 2
        elif word in ("-d", "--data", "--data-binary"):
            body = value.encode()
            index += 2
        elif word == "-X":
            if value != "POST":
                return curl
            index += 2
        elif word.startswith("-"):
            index += 1
        else:
            url = word
            index += 1
    names = {h.partition(":")[0].strip().rstrip(";").lower() for h in headers}
    if not url or not all(h.lower() in names for h in request_signing.HEADERS):
        return curl
    others = [h for h in headers if h.partition(":")[0].strip().lower() not in _SIGNED_NAMES]
    bot = request_signing.active()
    return request_signing.shell(
        url,
        body,
        content_type=content_type,
        bot_id=bot.bot_id if bot is not None else None,
        extra_headers=others,
    )


_SIGNED_NAMES = frozenset(h.lower() for h in request_signing.HEADERS)


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


class Answered(NamedTuple):
    """An answer that changed or proved a thread's state (a success or a 409)."""

    method: str
    status: int

    def starts_call(self) -> bool:
        rule = RULES.get(self.method)
        return rule is not None and rule.starts_call and 200 <= self.status < 300

    def __str__(self) -> str:
        return f"{self.method} {self.status}"


def _since_call_start(history: list[Answered], limit: int = 8) -> list[str]:
    """The answers of a thread since the latest start of a call (or the last few)."""
    starts = [i for i, answered in enumerate(history) if answered.starts_call()]
    kept = history[starts[-1] :] if starts else history[-(limit - 2) :]
    tail = [str(answered) for answered in kept]
    if len(tail) > limit:
        tail = [tail[0], "...", *tail[-(limit - 2) :]]
    return tail


class _Collector:
    """Folds engine events into a `RunResult`."""

    def __init__(self, result: RunResult, started: float, judge: Judge | None = None) -> None:
        self.judge = judge
        self.result = result
        self.started = started
        self.seen: set[tuple[str, str, str]] = set()
        self.case_ids: set[str] = set()
        # (team, thread) -> the answers so far, and for each case what its thread had seen
        # before it: a failure that depends on earlier calls names them.
        self.threads: dict[tuple[str, str], list[Answered]] = {}
        self.thread_before: dict[str, list[str]] = {}

    def _follow_threads(self, recorder: Any) -> None:
        for case_id, interaction in recorder.interactions.items():
            node = recorder.cases.get(case_id)
            response = interaction.response
            if node is None or response is None or case_id in self.thread_before:
                continue
            case = node.value
            team = case.path_parameters.get("teamId") if case.path_parameters else None
            thread = case.body.get(THREAD_FIELD) if isinstance(case.body, dict) else None
            if not isinstance(team, str) or not isinstance(thread, str):
                continue
            history = self.threads.setdefault((team, thread), [])
            self.thread_before[case_id] = _since_call_start(history)
            if 200 <= response.status_code < 300 or response.status_code == 409:
                history.append(Answered(case.path.split("/", 2)[2], response.status_code))

    def scenario(self, event: Any) -> None:
        from schemathesis.engine import Status

        recorder = event.recorder
        self._follow_threads(recorder)
        phase = str(getattr(event.phase, "value", event.phase))
        for case_id, interaction in recorder.interactions.items():
            if interaction.response is not None and case_id not in self.case_ids:
                self.case_ids.add(case_id)
                self.result.phase_cases[phase] = self.result.phase_cases.get(phase, 0) + 1
        self.result.cases = len(self.case_ids)
        for case_id, nodes in recorder.checks.items():
            node = recorder.cases.get(case_id)
            operation = node.value.operation.label if node is not None else event.label or "?"
            for check in nodes:
                counts = self.result.tally.setdefault((operation, check.name), [0, 0])
                if check.status == Status.SUCCESS:
                    counts[0] += 1
                    continue
                if check.status != Status.FAILURE or check.failure_info is None:
                    continue
                counts[1] += 1
                self._violation(recorder, case_id, operation, check, event)

    def _violation(
        self, recorder: Any, case_id: str, operation: str, check: Any, event: Any
    ) -> None:
        from fuzzing.checks import CUSTOM_CHECKS

        failure = check.failure_info.failure
        failing_id = failure.case_id or case_id
        node = recorder.cases.get(failing_id)
        interaction = recorder.interactions.get(failing_id)
        status = interaction.response.status_code if interaction and interaction.response else None
        if status is not None and _come_back_later(status, interaction.response):
            # still refused after every retry (`fuzzing.pace`): not the target's fault
            self.result.unjudged[str(status)] = self.result.unjudged.get(str(status), 0) + 1
            return
        if check.name in CUSTOM_CHECKS:
            reason = _first_line(failure.message) or _first_line(str(failure))
        else:
            detail = _first_line(failure.message)
            reason = _first_line(failure.title) + (f" (HTTP {status})" if status else "")
            if detail:
                reason += f": {detail}"
        record = self.judge.by_case.get(failing_id) if self.judge is not None else None
        reason = reason if len(reason) <= 300 else reason[:297] + "..."
        key = (check.name, operation, record.kind if record else failure.title or reason)
        if key in self.seen:
            return
        self.seen.add(key)
        steps = [
            _signed_reproduction(step.curl)
            for step in (check.failure_info.steps or [])
            if getattr(step, "curl", None)
        ]
        body = node.value.body if node is not None else None
        self.result.violations.append(
            Violation(
                check=check.name,
                operation=operation,
                reason=reason,
                curl=_signed_reproduction(check.failure_info.code_sample),
                steps=steps[:-1] if len(steps) > 1 else [],
                phase=str(getattr(event.phase, "value", event.phase)),
                first_seen=time.monotonic() - self.started,
                status=status,
                body=body if isinstance(body, (dict, list, str, int, float, bool)) else None,
                thread_before=self.thread_before.get(failing_id, []),
            )
        )
        if record is not None:
            add_model_details(self.result.violations[-1], record)


def _come_back_later(status: int, response: Any) -> bool:
    """A 429, or a 503 with `Retry-After`: an answer the run waits out, never judges."""
    from fuzzing.pace import retry_after

    headers = getattr(response, "headers", None) or {}
    value = next((v for k, v in headers.items() if str(k).lower() == "retry-after"), None)
    if isinstance(value, list):
        value = value[0] if value else None
    return retry_after(status, value) is not None


def add_model_details(violation: Violation, record: ModelViolation) -> None:
    """What the contract model expected, and the whole sequence that led to the violation."""
    violation.reason = f"{record.reason} (thread {record.thread}, step {record.step})"
    violation.expected = record.expected
    violation.sequence = record.sequence
    violation.team = record.team
    violation.thread = record.thread


def empty_result(options: Options) -> RunResult:
    """The result of a run of `options` before anything was sent."""
    return RunResult(
        seed=options.seed,
        url=options.url,
        budget=options.budget,
        team=options.team,
        bot_id=options.bot.bot_id,
        fixtures=options.fixtures.source if options.fixtures else "",
        left_out=list(options.left_out),
        stop_on=options.stop_on,
        left_out_phases=stopping.left_out(options.stop_on),
        passes=options.passes,
    )


def run(
    options: Options,
    *,
    progress: Callable[[RunResult, str], None] | None = None,
    hard_timeout: float | None = None,
) -> RunResult:
    """Fuzz `options.url` for at most `options.budget` seconds and return what was found.

    `progress(result, phase)` is called after every scenario. `hard_timeout` (seconds) bounds
    the whole run: past it the engine is told to stop, and if it does not within 15 s more, the
    process exits with status 3 (schemathesis can stall while generating data).
    """
    from schemathesis.engine import events, from_schema

    schema = load_schema(options)
    result = empty_result(options)
    started = time.monotonic()
    judge = _activate(options)
    if options.walk_steps and stopping.runs(stopping.WALK, options.stop_on):
        _walk(options, result, judge, started)
    collector = _Collector(result, started, judge)
    stream = from_schema(schema).execute()
    watchdog = _Watchdog(hard_timeout, stream) if hard_timeout else None
    passes = stopping.Passes(options.passes)
    phase = "loading"
    try:
        for event in stream:
            _stop_early(options, result, passes, event, stream)
            if isinstance(event, events.PhaseStarted):
                phase = str(event.phase.name.value)
            elif isinstance(event, events.PhaseFinished) and not passes.done:
                result.phases[str(event.phase.name.value)] = str(event.status.value)
                passes.finished(str(event.phase.name.value))
            elif isinstance(event, events.ScenarioFinished):
                phase = str(getattr(event.phase, "value", event.phase))
                collector.scenario(event)
                result.elapsed = time.monotonic() - started
                if progress is not None:
                    progress(result, phase)
            elif isinstance(event, events.NonFatalError):
                result.errors.append(f"{event.label}: {_first_line(event.info.format())}")
            elif isinstance(event, events.FatalError):
                result.errors.append(f"fatal: {event.exception}")
            elif isinstance(event, events.EngineFinished) and not result.stop_reason:
                result.stop_reason = str(getattr(event.stop_reason, "value", event.stop_reason))
    finally:
        stream.stop()
        stream.generator.close()
        if watchdog is not None:
            watchdog.cancel()
        _deactivate()
    result.statuses = {m: dict(c) for m, c in judge.statuses.items()}
    result.transitions = {name: judge.model.exercised[name] for name in judge.model.transitions()}
    result.elapsed = time.monotonic() - started
    if watchdog is not None and watchdog.fired:
        result.stalled = True
        result.errors.append(f"the run outlived its limit of {hard_timeout:.0f} s and was stopped")
    return result


def _activate(options: Options) -> Judge:
    """The run's judge, made the one the checks, the ids and the signing hook use."""
    judge = Judge(options.team, options.bot, known=options.fixtures)
    call_events.follow(judge)
    activate(judge)
    ids.activate(ids.IdPlacer(options.fixtures) if options.fixtures else None)
    request_signing.activate(options.bot)
    return judge


def _deactivate() -> None:
    activate(None)
    ids.activate(None)
    request_signing.activate(None)


def _stop_early(
    options: Options, result: RunResult, passes: stopping.Passes, event: Any, stream: Any
) -> None:
    """Stop the engine once `--stop-on` has its violation (from the walk, or the scenario
    before), or as a turn beyond `--passes` starts."""
    from schemathesis.engine import events

    if options.stop_on in result.checks_failed() or call_events.shown(options.stop_on):
        reason = STOPPED_ON
    elif isinstance(event, events.PhaseStarted) and passes.over(str(event.phase.name.value)):
        reason = PASSES_DONE
    else:
        return
    stream.stop()
    result.stop_reason = result.stop_reason or reason


def _walk(options: Options, result: RunResult, judge: Judge, started: float) -> None:
    """The model-guided walk before schemathesis: its figures and violations go into `result`."""
    result.walk = walk.run(options, judge, started=started)
    _walk_violations(result, judge, started)


def _walk_violations(result: RunResult, judge: Judge, started: float) -> None:
    """The walk's violations, one per kind of fault, as the run's first violations."""
    kinds: set[str] = set()
    bot_id = judge.bot.bot_id
    for record in judge.violations:
        if record.kind in kinds:
            continue
        kinds.add(record.kind)
        last = record.sequence[-1] if record.sequence else {}
        violation = Violation(
            check=oracle.CHECK,
            operation=f"POST /{{teamId}}/{record.method}",
            reason="",
            curl=curl_command(result.url, record.team, record.method, last.get("body"), bot_id),
            steps=[
                curl_command(result.url, record.team, step["method"], step["body"], bot_id)
                for step in record.sequence[:-1]
            ],
            phase="walk",
            first_seen=result.walk.first_seen(record) if result.walk is not None else 0.0,
            status=record.status,
            body=last.get("body"),
        )
        add_model_details(violation, record)
        result.violations.append(violation)


def curl_command(url: str, team: str, method: str, body: Any, bot_id: str | None = None) -> str:
    """A shell snippet that signs `body` (as `fuzzing.walk` sends it) and posts it to `method`."""
    import json

    return request_signing.shell(
        f"{url.rstrip('/')}/{team}/{method}", json.dumps(body).encode(), bot_id=bot_id
    )


class _Watchdog:
    """Stops the engine past a deadline; ends the process if the engine does not stop."""

    GRACE_SECONDS = 15.0

    def __init__(self, seconds: float, stream: Any) -> None:
        self.stream = stream
        self.fired = False
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, args=(seconds,), daemon=True)
        self.thread.start()

    def _watch(self, seconds: float) -> None:
        if self.done.wait(seconds):
            return
        self.fired = True
        print(f"\nfuzz: still running after {seconds:.0f} s; stopping it", file=sys.stderr)
        self.stream.stop()  # sets an event: the engine stops at its next step
        if self.done.wait(self.GRACE_SECONDS):
            return
        print("fuzz: the fuzzer did not stop; exiting", file=sys.stderr, flush=True)
        os._exit(3)

    def cancel(self) -> None:
        self.done.set()
