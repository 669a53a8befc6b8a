"""Custom schemathesis checks: the parts of the contract a schema cannot say.

Importing this module registers the checks (it is the `hooks` module of `schemathesis.toml`, so a
plain `st run` uses them too). Each check is named after the rule it enforces:

- `envelope_code_matches_status`: every answer is a JSON envelope whose `code` is the HTTP status.
- `counts_within_named_users`: invite, exclude, pause and unpause never count more users than
  the request named.
- `call_durations_consistent`: `call/end` answers `0 <= dialogDuration <= callDuration`.
- `other_team_token_refused`: the same request, with the same token, on another team's path is
  answered 403 (probed once per operation and run, on the first answer that is not an error of
  the request itself).
- `thread_state_rules`: across a sequence of calls, each operation's 200 or 409 agrees with
  the state of its thread that earlier answers proved (see `fuzzing.rules.ThreadStates`). It
  assumes the run is the only client acting on the team's threads: fuzz a shared server with
  a team of its own.

The rules themselves live in `fuzzing.rules` as plain functions.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import requests
import schemathesis

from fuzzing import rules

if TYPE_CHECKING:
    from schemathesis import Case, CheckContext, Response

#: Answers that mean the request itself was refused; probing another team after them says nothing.
REQUEST_ERRORS = frozenset({400, 401, 403, 405, 413, 415})
PROBE_TIMEOUT_SECONDS = 10.0


def method_of(case: Case) -> str:
    """The operation's `{method}`: its path after `/{teamId}/` (`call.user/invite`)."""
    return case.operation.path.split("/", 2)[2]


def _json_or_none(response: Response) -> Any:
    try:
        return rules.decode_json(response.content)
    except ValueError:
        return None


def _fail(reason: str | None) -> None:
    if reason is not None:
        raise AssertionError(reason)


@schemathesis.check
def envelope_code_matches_status(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every answer is a JSON envelope `{code, message, ...}` whose `code` is the HTTP status."""
    if response.request.method == "HEAD" or response.status_code in (204, 304):
        return None  # no body by definition of HTTP
    _fail(rules.envelope_code(response.status_code, response.content))
    return None


@schemathesis.check
def counts_within_named_users(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """A user count never exceeds the number of distinct users named in the request."""
    body = case.body if isinstance(case.body, dict) else None
    _fail(
        rules.count_within_named_users(
            method_of(case), body, response.status_code, _json_or_none(response)
        )
    )
    return None


@schemathesis.check
def call_durations_consistent(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """`call/end` answers whole seconds with `0 <= dialogDuration <= callDuration`."""
    _fail(
        rules.durations_consistent(method_of(case), response.status_code, _json_or_none(response))
    )
    return None


def _register(cls: type, name: str) -> type:
    """Register a class-based check under a snake_case name, like the function checks."""
    cls.__name__ = cls.__qualname__ = name
    return schemathesis.check(cls)


class OtherTeamTokenRefused:
    """The token of one team, used on another team's path, is answered 403.

    After the first answer of an operation that is not an error of the request itself, the
    exact same request (same headers, token and body) is sent once more with another valid
    team id in the path; anything but 403 fails.
    """

    def __init__(self) -> None:
        self.probed: set[str] = set()
        self.session = requests.Session()

    def after_response(self, ctx: CheckContext, response: Response, case: Case) -> bool | None:
        team_id = case.path_parameters.get("teamId")
        sent = response.request
        if (
            response.status_code in REQUEST_ERRORS
            or case.operation.label in self.probed
            or not isinstance(team_id, str)
            or not sent.headers.get("Authorization")
            or f"/{team_id}/" not in (sent.url or "")
        ):
            return None
        try:
            rules.other_team(team_id)
        except ValueError:
            return None  # a generated, invalid team id: nothing to swap
        self.probed.add(case.operation.label)
        probe = sent.copy()
        probe.url = sent.url.replace(f"/{team_id}/", f"/{rules.other_team(team_id)}/", 1)
        answer = self.session.send(probe, timeout=PROBE_TIMEOUT_SECONDS, allow_redirects=False)
        reason = rules.other_team_refused(answer.status_code)
        if reason is not None:
            raise AssertionError(f"{reason}: {sent.method} {probe.url}")
        return None


class ThreadStateRules:
    """Each 200 or 409 agrees with the thread state proved by the earlier answers of the run.

    For example, a 200 on `call.user/invite` right after a 200 on `call/end` for the same
    thread is a violation: the call is over. The state is shared by all phases of a run, so
    sequences from the stateful phase (which follows the spec's links) and repeated thread ids
    of the other phases are both judged.
    """

    def __init__(self) -> None:
        self.states = rules.ThreadStates()
        self.lock = threading.Lock()

    def after_response(self, ctx: CheckContext, response: Response, case: Case) -> bool | None:
        team_id = case.path_parameters.get("teamId")
        body = case.body
        if not isinstance(team_id, str) or not isinstance(body, dict):
            return None
        thread_id = body.get("threadId")
        if not isinstance(thread_id, str) or response.request.method != "POST":
            return None
        with self.lock:
            reason = self.states.observe(team_id, thread_id, method_of(case), response.status_code)
        _fail(reason)
        return None


other_team_token_refused = _register(OtherTeamTokenRefused, "other_team_token_refused")
thread_state_rules = _register(ThreadStateRules, "thread_state_rules")

#: The names of the custom checks, in the order the summary lists them.
CUSTOM_CHECKS = (
    "envelope_code_matches_status",
    "counts_within_named_users",
    "call_durations_consistent",
    "other_team_token_refused",
    "thread_state_rules",
)
