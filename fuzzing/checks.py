"""Custom schemathesis checks: the parts of the contract a schema cannot say.

Importing this module registers the checks and the `before_call` hook that signs every request
(it is the `hooks` module of `schemathesis.toml`, so a plain `st run` uses them too; the bot is
the run's, else `$WORKONFLOW_BOT_ID` / `$WORKONFLOW_SECRET_KEY`, else the demo bot). Each check
is named after the rule it enforces:

- `envelope_code_matches_status`: every answer is a JSON envelope whose `code` is the HTTP status.
- `other_team_refused`: the same request, signed afresh by the same bot, on the path of a team
  the bot is not in is answered 403 (probed once per operation and run, on the first answer
  that is not an error of the request itself).
- `contract_model`: every answer to a valid, signed request agrees with the contract
  model (`contract.model`): the status where the answers so far determine it (200 or 409),
  every count from who is in the call and who is paused, `direction` as asked, the URL fields,
  durations within what the clock allows. It assumes the run is the only client acting on the
  team's threads (fuzz a shared server with a team of its own); threads whose state it does
  not know yet are learnt from the answers, not guessed.

The rules themselves live in `fuzzing.check_rules` and `contract.model`, free of schemathesis.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import requests
import schemathesis

from contract.rules import THREAD_FIELD
from contract.spec import TEAM_PARAMETER
from fuzzing import check_rules, ids, oracle, request_signing

if TYPE_CHECKING:
    from schemathesis import Case, CheckContext, Response

#: Answers that mean the request itself was refused; probing another team after them says nothing.
REQUEST_ERRORS = frozenset({400, 401, 403, 405, 413, 415})
PROBE_TIMEOUT_SECONDS = 10.0
#: How long before its answer a request may have been sent, beyond the answer's elapsed time.
CLOCK_MARGIN_SECONDS = 0.05


def method_of(case: Case[Any]) -> str:
    """The operation's `{method}`: its path after `/{teamId}/` (`call.user/invite`)."""
    return str(case.operation.path).split("/", 2)[2]


def _fail(reason: str | None) -> None:
    if reason is not None:
        raise AssertionError(reason)


def _header(value: str | bytes | None) -> str | None:
    """A header of a prepared request as text (requests keeps what it was given: str or bytes)."""
    return value.decode("latin-1") if isinstance(value, bytes) else value


@schemathesis.check
def envelope_code_matches_status(
    ctx: CheckContext, response: Response, case: Case[Any]
) -> bool | None:
    """Every answer is a JSON envelope `{code, message, ...}` whose `code` is the HTTP status."""
    if response.request.method == "HEAD" or response.status_code in (204, 304):
        return None  # no body by definition of HTTP
    _fail(check_rules.envelope_code(response.status_code, response.content))
    return None


def _bot() -> request_signing.Bot:
    return request_signing.active() or request_signing.credentials()


@schemathesis.hook
def before_call(ctx: Any, case: Case[Any], kwargs: dict[str, Any]) -> None:
    """Sign the request over the exact bytes sent.

    The body is serialized after this hook, so the signature cannot be computed here: a
    `requests` auth is, and `requests` applies it to the prepared request, body included. The
    `X-Bot-Id` that `schemathesis.toml` sets says the request is to be signed; the probes of
    `ignored_auth`, sent without this hook and without those headers, stay unsigned. With
    `--fixtures`, the body's ids are put in the fixtures' place first (`fuzzing.ids`).
    """
    kwargs["auth"] = request_signing.SignedAuth(_bot())
    placer = ids.current()
    if placer is not None and isinstance(case.body, dict):
        case.body = placer.place(case.body)  # the ids of `--fixtures`, nothing else changed


def _register(cls: type, name: str) -> type:
    """Register a class-based check under a snake_case name, like the function checks."""
    cls.__name__ = cls.__qualname__ = name
    return schemathesis.check(cls)


class OtherTeamRefused:
    """A bot's signed request on the path of a team it is not in is answered 403.

    After the first answer of an operation that is not an error of the request itself, the
    same request (same headers and body, signed again now by the same bot: the signature does
    not cover the path) is sent once more with another valid team id in the path; anything but
    403 fails.
    """

    def __init__(self) -> None:
        self.probed: set[str] = set()
        self.session = requests.Session()

    def after_response(self, ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
        team_id = case.path_parameters.get(TEAM_PARAMETER)
        sent = response.request
        if (
            response.status_code in REQUEST_ERRORS
            or case.operation.label in self.probed
            or not isinstance(team_id, str)
            or not sent.headers.get(request_signing.SIGNATURE_HEADER)
            or f"/{team_id}/" not in (sent.url or "")
        ):
            return None
        try:
            check_rules.other_team(team_id)
        except ValueError:
            return None  # a generated, invalid team id: nothing to swap
        self.probed.add(case.operation.label)
        probe = sent.copy()
        probe.url = str(sent.url).replace(f"/{team_id}/", f"/{check_rules.other_team(team_id)}/", 1)
        probe.headers.update(_bot().headers(request_signing.body_bytes(probe.body)))
        answer = self.session.send(probe, timeout=PROBE_TIMEOUT_SECONDS, allow_redirects=False)
        reason = check_rules.other_team_refused(answer.status_code)
        active = oracle.current()
        if active is not None:
            active.count(method_of(case), answer.status_code)
        if reason is not None:
            thread = case.body.get(THREAD_FIELD) if isinstance(case.body, dict) else None
            if active is not None and answer.status_code < 400 and isinstance(thread, str):
                active.forget(thread)  # served for another team, it may have acted here too
            raise AssertionError(f"{reason}: {sent.method} {probe.url}")
        return None


class ContractModel:
    """Every answer to a valid, signed request agrees with the contract model.

    The model is shared by all phases of a run (and with the walk phase before them, see
    `fuzzing.oracle`), so sequences of the stateful phase and thread ids repeated across the
    other phases are judged alike. A violation names what the model expected and the step
    that established it; `fuzzing.runner` keeps the whole sequence for a replay file.
    """

    def __init__(self) -> None:
        self.judge = oracle.current() or oracle.Judge.standalone()
        # Responses already judged: schemathesis may run a check again on the same answer.
        self.seen: list[tuple[Response, oracle.ModelViolation | None]] = []

    def after_response(self, ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
        for earlier, found in self.seen:
            if earlier is response:
                self.judge.caught(case.id, found)
                _fail(found.message if found is not None else None)
                return None
        received = time.time()
        sent = response.request
        team = case.path_parameters.get(TEAM_PARAMETER) if case.path_parameters else None
        violation = None
        if sent.method == "POST" and isinstance(team, str):
            body = request_signing.body_bytes(sent.body)
            content_type = sent.headers.get("Content-Type")
            violation = self.judge.observe(
                method_of(case),
                team,
                signed=request_signing.is_signed(
                    self.judge.bot, sent.headers, body, now=received - response.elapsed
                ),
                content_type=content_type if isinstance(content_type, str) else None,
                body=oracle.decode(body),
                status=response.status_code,
                answer=oracle.decode(response.content),
                sent=received - response.elapsed - CLOCK_MARGIN_SECONDS,
                received=received,
            )
        self.seen = [*self.seen[-31:], (response, violation)]
        self.judge.caught(case.id, violation)
        _fail(violation.message if violation is not None else None)
        return None


other_team_refused = _register(OtherTeamRefused, "other_team_refused")
contract_model = _register(ContractModel, oracle.CHECK)

#: The names of the custom checks, in the order the summary lists them.
CUSTOM_CHECKS = (
    "envelope_code_matches_status",
    "other_team_refused",
    oracle.CHECK,
)
